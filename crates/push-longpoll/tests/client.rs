//! The client loop against the in-process server over loopback.
#![cfg(all(feature = "client", feature = "hyper"))]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use push_broker::{Config as BrokerConfig, MemoryBroker};
use push_core::{Cursor, Event, Topic};
use push_longpoll::{Backoff, Client, Config, Error, Handler, Item, serve};
use tokio::net::TcpListener;

async fn start(broker: MemoryBroker) -> (SocketAddr, Arc<Handler<MemoryBroker>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(Handler::new(broker, Config::default().max_events(3)));
    tokio::spawn(serve(listener, Arc::clone(&handler)));
    (addr, handler)
}

async fn next(client: &mut Client) -> Item {
    tokio::time::timeout(Duration::from_secs(20), client.next())
        .await
        .expect("an item in time")
        .expect("no error")
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
        .since(start);
    for i in 0..7 {
        let Item::Event(e) = next(&mut client).await else {
            panic!("event expected")
        };
        assert_eq!(e.data, format!("e{i}"));
        assert_eq!(e.event, "message");
    }
    let live = tokio::spawn(async move {
        let item = next(&mut client).await;
        (item, client.cursor())
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
    assert!(matches!(item, Item::Event(e) if e.data == "live" && e.id == c));
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
        .since(Cursor::new(8, 1));
    assert!(matches!(next(&mut client).await, Item::Gap { .. }));
    assert!(matches!(next(&mut client).await, Item::Event(e) if e.data == "kept"));
}

#[tokio::test]
async fn errors_are_returned_and_classified() {
    let (addr, _handler) = start(MemoryBroker::default()).await;
    let mut client = Client::new(&format!("http://{addr}/poll?topic=t&wait=oops")).unwrap();
    let err = client.next().await.unwrap_err();
    assert!(matches!(err, Error::Status(400)));
    assert!(!err.is_transient());
    // Nobody listens on this port (bound, then closed): a transient transport error.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = closed.local_addr().unwrap();
    drop(closed);
    let mut client = Client::new(&format!("http://{dead}/poll?topic=t"))
        .unwrap()
        .backoff(Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(5),
        });
    for _ in 0..3 {
        let err = client.next().await.unwrap_err();
        assert!(err.is_transient(), "{err}");
    }
}

/// The in-process server behind TLS with a self-signed certificate for `localhost`: its port,
/// the certificate (DER) and the handler.
async fn start_tls(broker: MemoryBroker) -> (u16, Vec<u8>, Arc<Handler<MemoryBroker>>) {
    use http_body_util::Full;
    let identity = push_test_support::SelfSigned::localhost();
    let acceptor = identity.acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = Arc::new(Handler::new(broker, Config::default()));
    let served = Arc::clone(&handler);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, handler) = (acceptor.clone(), Arc::clone(&served));
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |req| {
                    let handler = Arc::clone(&handler);
                    async move {
                        let response = handler.handle(&req).await;
                        Ok::<_, std::convert::Infallible>(response.map(Full::new))
                    }
                });
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
        .add_root_certificate(&der)
        .unwrap()
        .since(start);
    assert!(matches!(next(&mut client).await, Item::Event(e) if e.data == "over tls"));
    // Not trusted by the default roots: a transient transport error.
    let mut untrusted = Client::new(&url).unwrap().since(start);
    let err = tokio::time::timeout(Duration::from_secs(10), untrusted.next())
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
}
