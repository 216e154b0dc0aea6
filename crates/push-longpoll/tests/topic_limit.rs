//! The broker's topic limit over the wire: a publish that would start a topic past it is a 503
//! whose body says why, and topics that already hold history keep taking publishes.
#![cfg(feature = "hyper")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use push_broker::MemoryBroker;
use push_longpoll::{Config, Handler, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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

#[tokio::test]
async fn a_publish_past_the_topic_limit_is_a_503_that_says_why() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = MemoryBroker::new(push_broker::Config::default().max_topics(2));
    let handler = Arc::new(Handler::new(broker.clone(), Config::default()));
    tokio::spawn(serve(listener, handler));
    assert_eq!(publish(addr, "a").await.0, 200);
    assert_eq!(publish(addr, "b").await.0, 200);
    let (status, body) = publish(addr, "c").await;
    assert_eq!(status, 503);
    assert!(body.contains("as many topics"), "{body}");
    assert_eq!(publish(addr, "a").await.0, 200);
    assert_eq!(broker.topic_count(), 2);
}
