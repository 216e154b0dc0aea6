//! The reconnecting client against the endpoint on loopback: resume after the last cursor,
//! binary events, and the end of the stream on a refusal.

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use http::StatusCode;
use http::request::Parts;
use push_broker::MemoryBroker;
use push_core::{Access, Event, Selector, Topic};
use push_http::client::ReconnectPolicy;
use push_ws::client::{Client, Error, Item};
use push_ws::server::{Config, Endpoint, Hooks, Refusal};
use support::LIMIT;
use tokio::net::TcpListener;
use tokio::time::timeout;

/// Every access ends 300 ms after it is granted, so every connection is closed (1008) soon.
#[derive(Clone)]
struct Brief;

impl Hooks for Brief {
    async fn authorize(&self, _: &Parts, _: &Selector) -> Result<Access, Refusal> {
        let until = tokio::time::Instant::now().into_std() + Duration::from_millis(300);
        Ok(Access::public().with_until(until))
    }
}

async fn serve<H: Hooks>(endpoint: Endpoint<MemoryBroker, H>) -> SocketAddr {
    let app = axum::Router::new().route_service("/ws", endpoint);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn next(client: &mut Client) -> Result<Item, Error> {
    timeout(LIMIT, client.next()).await.unwrap().unwrap()
}

fn fast() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .with_initial(Duration::from_millis(10))
        .with_min(Duration::from_millis(10))
        .with_max(Duration::from_millis(50))
}

#[tokio::test]
async fn the_client_reconnects_and_resumes_after_its_last_cursor() {
    let broker = MemoryBroker::default();
    let addr = serve(Endpoint::new(broker.clone(), Config::default()).with_hooks(Brief)).await;
    let topic = Topic::new("t").unwrap();
    let mut client =
        Client::new(format!("ws://{addr}/ws"), [topic.clone()]).with_reconnect_policy(fast());
    assert!(matches!(
        next(&mut client).await,
        Ok(Item::Subscribed { .. })
    ));
    let a = broker.publish_now(&topic, Event::new("a")).unwrap();
    let Ok(Item::Event { id, data, .. }) = next(&mut client).await else {
        panic!()
    };
    assert_eq!((id, &data[..]), (a, &b"a"[..]));
    let Err(Error::Closed { code, reason }) = next(&mut client).await else {
        panic!()
    };
    assert_eq!((code, reason.as_str()), (1008, "expired"));
    // Published while the client is away, binary: delivered after the reconnection.
    let b = broker
        .publish_now(&topic, Event::new(vec![0u8, 0xff]))
        .unwrap();
    let Ok(Item::Subscribed { cursor, .. }) = next(&mut client).await else {
        panic!()
    };
    assert_eq!(cursor, a, "resumed after the last event seen");
    let Ok(Item::Event { id, data, .. }) = next(&mut client).await else {
        panic!()
    };
    assert_eq!((id, &data[..]), (b, &[0u8, 0xff][..]));
}

#[tokio::test]
async fn a_refused_upgrade_ends_the_stream() {
    let broker = MemoryBroker::default();
    let addr = serve(Endpoint::new(broker, Config::default())).await;
    let topic = Topic::new("t").unwrap();
    let mut client = Client::new(format!("ws://{addr}/elsewhere"), [topic]);
    let Err(error) = next(&mut client).await else {
        panic!()
    };
    assert!(
        matches!(error, Error::Refused(StatusCode::NOT_FOUND)),
        "{error}"
    );
    assert!(timeout(LIMIT, client.next()).await.unwrap().is_none());
}
