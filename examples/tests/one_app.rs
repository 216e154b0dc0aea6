//! Drives `examples/one_app.rs` on loopback: SSE, long polling and WebSocket from one axum app
//! on one broker receive the same event; its hooks keep private events from clients without
//! the token and refuse a wrong token.

#[path = "../one_app.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the example's main is not run here"
)]
mod one_app;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use push_broker::MemoryBroker;
use push_core::{Audience, Cursor, Event, Topic};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(20);

async fn start() -> (SocketAddr, MemoryBroker) {
    let broker = MemoryBroker::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = one_app::app(broker.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, broker)
}

/// Sends a GET with `headers` and returns the connection, to be read with [`read_until`].
async fn get(addr: SocketAddr, target: &str, headers: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nhost: localhost\r\n{headers}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Reads until `needle` has arrived (or the connection ends); returns all that was read.
async fn read_until(stream: &mut TcpStream, seen: &mut String, needle: &str) -> String {
    let mut buf = [0u8; 4096];
    timeout(LIMIT, async {
        while !seen.contains(needle) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "the connection ended before {needle:?}; got {seen:?}"
            );
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {needle:?} within {LIMIT:?}; got {seen:?}"));
    seen.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_long_poll_and_websocket_share_one_broker_and_one_set_of_hooks() {
    let (addr, broker) = start().await;
    let lobby = Topic::new("rooms/lobby").unwrap();
    let first: Cursor = broker.publish_now(&lobby, Event::new("before")).unwrap();

    // Every client resumes after `first`, so none can miss what follows, whenever it subscribed.
    let mut public_sse = get(
        addr,
        "/events?room=lobby",
        &format!("last-event-id: {first}\r\n"),
    )
    .await;
    let mut private_sse = get(
        addr,
        "/events?room=lobby&token=letmein",
        &format!("last-event-id: {first}\r\n"),
    )
    .await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?room=lobby"))
        .await
        .unwrap();
    let subscribe = format!(r#"{{"type":"subscribe","topics":["rooms/lobby"],"from":"{first}"}}"#);
    ws.send(Message::text(subscribe)).await.unwrap();

    broker
        .publish_now(
            &lobby,
            Event::new("secret").with_audience(Audience::Private),
        )
        .unwrap();
    broker.publish_now(&lobby, Event::new("hello")).unwrap();

    // SSE: the token's holder sees the private event, the anonymous client only the public one.
    let (mut public_seen, mut private_seen) = (String::new(), String::new());
    let public = read_until(&mut public_sse, &mut public_seen, "data: hello\n").await;
    assert!(public.starts_with("HTTP/1.1 200"), "{public}");
    assert!(
        !public.contains("secret"),
        "a private event reached an anonymous client: {public}"
    );
    let private = read_until(&mut private_sse, &mut private_seen, "data: hello\n").await;
    let (secret, hello) = (
        private.find("data: secret").unwrap(),
        private.find("data: hello").unwrap(),
    );
    assert!(secret < hello, "{private}");

    // Long polling: the batch after `first` holds the public event only.
    let mut poll = get(addr, &format!("/poll?room=lobby&since={first}"), "").await;
    let mut poll_seen = String::new();
    let answer = read_until(&mut poll, &mut poll_seen, "\"next\"").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("\"data\":\"hello\"") && !answer.contains("secret"),
        "{answer}"
    );

    // WebSocket: the public event arrives on the resumed subscription.
    let text = timeout(LIMIT, async {
        loop {
            match ws.next().await.expect("the socket stays open").unwrap() {
                Message::Text(text) if text.contains("hello") => break text.to_string(),
                Message::Text(text) => assert!(!text.contains("secret"), "{text}"),
                _ => {}
            }
        }
    })
    .await
    .expect("the event reaches the WebSocket client");
    assert!(text.contains("\"event\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hooks_refuse_a_wrong_token_and_a_request_without_a_room() {
    let (addr, _broker) = start().await;
    for (target, status) in [
        ("/events?room=lobby&token=nope", "401"),
        ("/poll?room=lobby&token=nope", "401"),
        ("/events", "403"),
        ("/poll", "403"),
    ] {
        let mut stream = get(addr, target, "connection: close\r\n").await;
        let mut seen = String::new();
        let head = read_until(&mut stream, &mut seen, "\r\n").await;
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status}")),
            "{target}: {head}"
        );
    }
    for (target, status) in [("/ws?room=lobby&token=nope", 401), ("/ws", 403)] {
        match tokio_tungstenite::connect_async(format!("ws://{addr}{target}")).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), status, "{target}");
            }
            other => panic!("{target} must not open a WebSocket: {other:?}"),
        }
    }
}
