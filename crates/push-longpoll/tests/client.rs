//! The client stream against the example server over loopback.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use push_broker::{Config as BrokerConfig, MemoryBroker};
use push_core::{Cursor, Event, Topic};
use push_longpoll::client::{Client, Error, Item, ReconnectPolicy};
use push_longpoll::server::{Config, Endpoint};
use tokio::net::TcpListener;

use crate::support;

async fn start(broker: MemoryBroker) -> (SocketAddr, Endpoint<MemoryBroker>) {
    support::start(broker, Config::default().with_max_events(3)).await
}

async fn next(client: &mut Client) -> Item {
    tokio::time::timeout(Duration::from_secs(20), client.next())
        .await
        .expect("an item in time")
        .expect("the stream goes on")
        .expect("no error")
}

/// Retries at once and often: the tests' policy.
fn quick() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .with_initial(Duration::from_millis(1))
        .with_min(Duration::from_millis(1))
        .with_max(Duration::from_millis(5))
}

#[tokio::test]
async fn reads_history_then_live_across_batches_in_order() {
    let (addr, handler) = start(MemoryBroker::default()).await;
    let topic = Topic::new("t").unwrap();
    let start = handler.broker().head();
    for i in 0..7 {
        handler
            .broker()
            .publish_now(&topic, Event::new(format!("e{i}")))
            .unwrap();
    }
    let mut client = Client::new(&format!("http://{addr}/poll?topic=t&wait=10"))
        .unwrap()
        .with_since(start);
    assert_eq!(client.since(), Some(start));
    for i in 0..7 {
        let Item::Event { data, event, .. } = next(&mut client).await else {
            panic!("event expected")
        };
        assert_eq!(data, format!("e{i}"));
        assert_eq!(event, "message");
    }
    let live = tokio::spawn(async move {
        let item = next(&mut client).await;
        (item, client.since())
    });
    let topic2 = topic.clone();
    let broker = handler.broker().clone();
    tokio::time::timeout(Duration::from_secs(10), async {
        while broker.subscriber_count(&topic2) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    let c = broker.publish_now(&topic, Event::new("live")).unwrap();
    let (item, cursor) = live.await.unwrap();
    assert!(matches!(item, Item::Event { data, id, .. } if data == "live" && id == c));
    assert_eq!(cursor, Some(c));
}

#[tokio::test]
async fn reports_a_gap_for_a_cursor_of_another_epoch() {
    let broker = MemoryBroker::with_epoch(BrokerConfig::default(), 7);
    let (addr, handler) = start(broker).await;
    let topic = Topic::new("t").unwrap();
    handler
        .broker()
        .publish_now(&topic, Event::new("kept"))
        .unwrap();
    let mut client = Client::new(&format!("http://{addr}/poll?topic=t"))
        .unwrap()
        .with_since(Cursor::new(8, 1));
    assert!(matches!(next(&mut client).await, Item::Gap { .. }));
    assert!(matches!(next(&mut client).await, Item::Event { data, .. } if data == "kept"));
}

#[tokio::test]
async fn a_refused_poll_ends_the_stream_and_transient_errors_are_retried_until_the_policy_stops() {
    let (addr, _poll) = start(MemoryBroker::default()).await;
    let mut client = Client::new(&format!("http://{addr}/poll?topic=t&wait=oops")).unwrap();
    let err = client.next().await.unwrap().unwrap_err();
    assert!(
        matches!(err, Error::Status(s) if s == http::StatusCode::BAD_REQUEST),
        "{err}"
    );
    assert!(!err.is_transient());
    assert!(client.next().await.is_none(), "a 400 is not retried");
    // Nobody listens on this port (bound, then closed): transient transport errors, retried
    // until the policy's retries are spent.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = closed.local_addr().unwrap();
    drop(closed);
    let mut client = Client::new(&format!("http://{dead}/poll?topic=t"))
        .unwrap()
        .with_reconnect_policy(quick().with_max_retries(Some(2)));
    assert_eq!(client.reconnect_policy().max_retries(), Some(2));
    for _ in 0..3 {
        let err = client.next().await.unwrap().unwrap_err();
        assert!(err.is_transient(), "{err}");
    }
    assert!(client.next().await.is_none(), "the policy gave up");
}

/// The in-process server behind TLS with a self-signed certificate for `localhost`: its port,
/// the certificate (DER) and the handler.
async fn start_tls(broker: MemoryBroker) -> (u16, Vec<u8>, Endpoint<MemoryBroker>) {
    let identity = push_test_support::SelfSigned::localhost();
    let acceptor = identity.acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = Endpoint::new(broker, Config::default());
    let served = handler.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, handler) = (acceptor.clone(), served.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(handler);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, identity.der, handler)
}

#[tokio::test]
async fn polls_over_https_with_a_trusted_root() {
    let (port, der, handler) = start_tls(MemoryBroker::default()).await;
    let topic = Topic::new("t").unwrap();
    let start = handler.broker().head();
    handler
        .broker()
        .publish_now(&topic, Event::new("over tls"))
        .unwrap();
    let url = format!("https://localhost:{port}/poll?topic=t&wait=5");
    let mut client = Client::new(&url)
        .unwrap()
        .with_root_certificate(&der)
        .unwrap()
        .with_since(start);
    assert!(matches!(next(&mut client).await, Item::Event { data, .. } if data == "over tls"));
    // Not trusted by the default roots: a transient transport error.
    let mut untrusted = Client::new(&url).unwrap().with_since(start);
    let err = tokio::time::timeout(Duration::from_secs(10), untrusted.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
}
