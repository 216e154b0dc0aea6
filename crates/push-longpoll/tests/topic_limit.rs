//! The broker's topic limit over the wire: a publish that would start a topic past it is a 503
//! whose body says why, and topics that already hold history keep taking publishes.

use std::net::SocketAddr;
use std::time::Duration;

use push_broker::MemoryBroker;
use push_longpoll::server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support;

/// One publish on a fresh connection: the status and the body.
async fn publish(addr: SocketAddr, topic: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /publish?topic={topic} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: 2\r\n\r\nhi"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut raw))
        .await
        .expect("answered in time")
        .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head[9..12].parse().unwrap(), body.to_owned())
}

/// A long-poll server whose broker holds history on at most two topics.
async fn start_with_two_topics() -> (SocketAddr, MemoryBroker) {
    let broker = MemoryBroker::new(push_broker::Config::default().with_max_topics(2));
    let (addr, _) = support::start(broker.clone(), Config::default()).await;
    (addr, broker)
}

#[tokio::test]
async fn a_publish_past_the_topic_limit_is_a_503_that_says_why() {
    let (addr, broker) = start_with_two_topics().await;
    assert_eq!(publish(addr, "a").await.0, 200);
    assert_eq!(publish(addr, "b").await.0, 200);
    let (status, body) = publish(addr, "c").await;
    assert_eq!(status, 503);
    assert!(body.contains("as many topics"), "{body}");
    assert_eq!(publish(addr, "a").await.0, 200);
    assert_eq!(broker.topic_count(), 2);
}

/// A publish to several topics is all or none: a 503 leaves no event behind (a retry would
/// otherwise duplicate it). Parameter names are decoded before they are matched, `event` as
/// much as `topic`.
#[tokio::test]
async fn a_refused_multi_topic_publish_leaves_nothing_and_names_are_decoded() {
    let (addr, broker) = start_with_two_topics().await;
    assert_eq!(publish(addr, "a").await.0, 200);
    // `b` would fit, `c` not: neither is published.
    let (status, body) = publish(addr, "b&%74opic=c&%65vent=greeting").await;
    assert_eq!(status, 503, "{body}");
    assert!(!body.contains("published"), "{body}");
    let b = push_core::Topic::new("b").unwrap();
    assert_eq!(
        broker.retained(&b),
        0,
        "a refused publish left an event on b"
    );
    let (status, body) = publish(addr, "b&%65vent=greeting").await;
    assert_eq!(status, 200, "{body}");
    let from = push_core::Cursor::new(broker.epoch(), 0);
    let mut sub = broker
        .subscribe(
            &push_core::Selector::one(b),
            Some(from),
            &push_core::Access::public(),
        )
        .unwrap();
    let Some(push_core::Delivery::Event(e)) = sub.try_recv() else {
        panic!("the event is retained")
    };
    assert_eq!(e.event().event.as_deref(), Some("greeting"));
}
