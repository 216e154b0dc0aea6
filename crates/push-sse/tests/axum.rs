//! The SSE endpoint mounted in axum with `route_service`: it streams and resumes.

use std::time::Duration;

use axum::Router;
use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_sse::server::{Config, Endpoint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn an_axum_route_streams_events_and_resumes() {
    let broker = MemoryBroker::default();
    let topic = Topic::new("news").unwrap();
    let first = broker.publish_now(&topic, Event::new("one")).unwrap();
    let second = broker.publish_now(&topic, Event::new("two")).unwrap();
    let app =
        Router::new().route_service("/events", Endpoint::new(broker.clone(), Config::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET /events?topic=news&last_event_id={first} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let want = format!("id: {second}\ndata: two\n\n");
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&received).contains(&want) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "stream ended early");
            received.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the resumed event arrives");
    let text = String::from_utf8_lossy(&received).to_ascii_lowercase();
    assert!(text.contains("content-type: text/event-stream"), "{text}");
    assert!(text.contains("x-accel-buffering: no"), "{text}");
    assert!(!text.contains("data: one"), "resumed after the first event");
}
