//! The SSE response over real loopback sockets: headers, live events, resume by header and by
//! query, gaps, keep-alives, disconnects and graceful shutdown; and curl as a real client.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::service::service_fn;
use push_broker::{Config, MemoryBroker};
use push_core::{Cursor, Event, Topic};
use push_sse::server::{self, Endpoint};
use push_sse::{Decoded, Decoder};
use push_test_support::http::{LIMIT, RawClient, serve_http1};
use tokio::io::AsyncReadExt as _;
use tower::ServiceExt;

fn topic() -> Topic {
    Topic::new("news").unwrap()
}

/// Serves the endpoint (`GET /events?topic=news[&last_event_id=C]`) on a loopback port.
async fn serve(broker: MemoryBroker, config: server::Config) -> SocketAddr {
    let endpoint = Endpoint::new(broker, config);
    serve_http1(service_fn(move |req| endpoint.clone().oneshot(req))).await
}

/// The events `client` received so far (decoded with our decoder from the de-chunked body).
fn events(client: &RawClient) -> Vec<Event> {
    let text = String::from_utf8_lossy(client.received());
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let mut decoder = Decoder::new();
    decoder.feed(dechunk(body).as_bytes());
    let mut out = Vec::new();
    while let Ok(Some(item)) = decoder.poll_owned() {
        if let Decoded::Event(e) = item {
            out.push(e);
        }
    }
    out
}

/// Removes HTTP/1.1 chunked framing.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

async fn until_subscribers(broker: &MemoryBroker, n: usize) {
    tokio::time::timeout(LIMIT, async {
        while broker.subscriber_count(&topic()) != n {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("subscriber count never reached {n}"));
}

#[tokio::test]
async fn live_events_arrive_with_proxy_headers_and_cursor_ids() {
    let broker = MemoryBroker::default();
    let addr = serve(
        broker.clone(),
        server::Config::default().with_retry(Some(Duration::from_millis(2500))),
    )
    .await;
    let mut client = RawClient::get(addr, "/events?topic=news", "").await;
    let head = client.until(": ok\n\n").await;
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"));
    assert!(head.contains("cache-control: no-cache"));
    assert!(head.contains("x-accel-buffering: no"));
    assert!(head.contains("retry: 2500\n\n"));
    let cursor = broker
        .publish_now(&topic(), Event::new("line 1\nline 2").with_event("story"))
        .unwrap();
    client.until("line 2\n\n").await;
    let events = events(&client);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data, "line 1\nline 2");
    assert_eq!(events[0].event.as_deref(), Some("story"));
    assert_eq!(events[0].id.as_deref(), Some(cursor.to_string().as_str()));
}

#[tokio::test]
async fn resume_by_header_or_query_replays_what_was_missed() {
    let broker = MemoryBroker::default();
    let addr = serve(broker.clone(), server::Config::default()).await;
    let cursors: Vec<Cursor> = (0..3)
        .map(|i| {
            broker
                .publish_now(&topic(), Event::new(format!("e{i}")))
                .unwrap()
        })
        .collect();
    let mut by_header = RawClient::get(
        addr,
        "/events?topic=news",
        &format!("Last-Event-ID: {}\r\n", cursors[0]),
    )
    .await;
    by_header.until("e2\n\n").await;
    let data: Vec<_> = events(&by_header).into_iter().map(|e| e.data).collect();
    assert_eq!(data, ["e1", "e2"]);
    let mut by_query = RawClient::get(
        addr,
        &format!("/events?topic=news&last_event_id={}", cursors[1]),
        "",
    )
    .await;
    by_query.until("e2\n\n").await;
    assert_eq!(events(&by_query).len(), 1);
    // The header wins over the query (it is what a reconnecting EventSource sends).
    let mut both = RawClient::get(
        addr,
        &format!("/events?topic=news&last_event_id={}", cursors[0]),
        &format!("Last-Event-ID: {}\r\n", cursors[1]),
    )
    .await;
    both.until("e2\n\n").await;
    assert_eq!(events(&both).len(), 1);
}

#[tokio::test]
async fn a_loss_reaches_the_client_as_a_gap_event() {
    let broker = MemoryBroker::new(Config::default().with_history_count(2));
    let addr = serve(broker.clone(), server::Config::default()).await;
    let first = broker.publish_now(&topic(), Event::new("first")).unwrap();
    for i in 0..4 {
        broker
            .publish_now(&topic(), Event::new(format!("e{i}")))
            .unwrap();
    }
    let mut client = RawClient::get(
        addr,
        "/events?topic=news",
        &format!("Last-Event-ID: {first}\r\n"),
    )
    .await;
    client.until("e3\n\n").await;
    let events = events(&client);
    assert_eq!(events[0].event.as_deref(), Some("gap"));
    let resume = Cursor::new(broker.epoch(), 3);
    assert_eq!(events[0].id.as_deref(), Some(resume.to_string().as_str()));
    assert_eq!(
        events[0].data,
        format!("{{\"reason\":\"evicted\",\"resume\":\"{resume}\"}}")
    );
    let data: Vec<_> = events[1..].iter().map(|e| e.data.clone()).collect();
    assert_eq!(data, ["e2", "e3"]);
}

/// A `Last-Event-ID` that is no cursor is an id the broker places (one a client saw on
/// another transport, a publisher's): it resumes right after its event, and one the broker
/// cannot place is a gap, then everything retained (it was a 400).
#[tokio::test]
async fn a_last_event_id_that_is_no_cursor_is_placed_as_an_id() {
    let broker = MemoryBroker::default();
    broker
        .publish_now(&topic(), Event::new("first").with_id("book-1"))
        .unwrap();
    broker.publish_now(&topic(), Event::new("second")).unwrap();
    let addr = serve(broker.clone(), server::Config::default()).await;
    let mut client = RawClient::get(addr, "/events?topic=news", "Last-Event-ID: book-1\r\n").await;
    let response = client.until("data: second\n").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(!response.contains("data: first"), "{response}");
    let mut client = RawClient::get(addr, "/events?topic=news", "Last-Event-ID: 12-ZZ\r\n").await;
    let response = client.until("data: second\n").await;
    assert!(response.contains("event: gap"), "{response}");
    assert!(response.contains("data: first"), "{response}");
}

#[tokio::test]
async fn keep_alive_comments_flow_while_idle() {
    let broker = MemoryBroker::default();
    let addr = serve(
        broker.clone(),
        server::Config::default().with_keep_alive(Some(Duration::from_millis(20))),
    )
    .await;
    let mut client = RawClient::get(addr, "/events?topic=news", "").await;
    client.until(": ok\n\n").await;
    client.until(":\n\n").await;
    assert!(events(&client).is_empty(), "keep-alives dispatch nothing");
}

#[tokio::test]
async fn a_client_that_disconnects_frees_its_subscription() {
    let broker = MemoryBroker::default();
    let addr = serve(broker.clone(), server::Config::default()).await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut c = RawClient::get(addr, "/events?topic=news", "").await;
        c.until(": ok\n\n").await;
        clients.push(c);
    }
    until_subscribers(&broker, 20).await;
    drop(clients);
    // hyper notices the closed socket on its next write or read; a publish provokes the write.
    broker.publish_now(&topic(), Event::new("anyone?")).unwrap();
    until_subscribers(&broker, 0).await;
}

#[tokio::test]
async fn shutting_the_broker_down_ends_open_streams_cleanly() {
    let broker = MemoryBroker::default();
    let addr = serve(broker.clone(), server::Config::default()).await;
    let mut client = RawClient::get(addr, "/events?topic=news", "").await;
    client.until(": ok\n\n").await;
    broker.close();
    // The chunked body's terminator: the stream ended, it was not cut.
    client.until("0\r\n\r\n").await;
}

#[tokio::test]
async fn curl_receives_events_as_they_are_published() {
    let broker = MemoryBroker::default();
    let addr = serve(broker.clone(), server::Config::default()).await;
    let mut curl = tokio::process::Command::new("curl")
        .args([
            "-sN",
            "--max-time",
            "10",
            &format!("http://{addr}/events?topic=news"),
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("curl is installed (cargo xtask ci installs it)");
    until_subscribers(&broker, 1).await;
    let cursor = broker
        .publish_now(&topic(), Event::new("via curl"))
        .unwrap();
    let mut out = curl.stdout.take().unwrap();
    let mut seen = Vec::new();
    tokio::time::timeout(LIMIT, async {
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&seen).contains("via curl\n\n") {
            let n = out.read(&mut buf).await.unwrap();
            assert!(n > 0, "curl ended early");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("curl printed the event");
    let text = String::from_utf8(seen).unwrap();
    assert!(
        text.contains(&format!("id: {cursor}\ndata: via curl\n\n")),
        "{text}"
    );
}
