//! The Mercure routes over real loopback sockets (hyper, HTTP/1.1): publish with a minted
//! token, an SSE subscriber receives the update under its Mercure id, and resumes by that id;
//! private updates reach only granted subscribers; curl as a subscriber.

use crate::support;

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::service::service_fn;
use push_broker::MemoryBroker;
use push_hub::auth::{AuthConfig, Authorizer};
use push_hub::mercure::{Mercure, MercureConfig};
use push_hub::token::Claims;
use push_test_support::http::{LIMIT, RawClient as Raw, serve_http1};
use support::post_form as publish;
use support::service::{key, token};
use tokio::io::AsyncReadExt as _;
use tower::ServiceExt as _;

async fn serve(broker: MemoryBroker, config: MercureConfig) -> SocketAddr {
    let authorizer = Arc::new(Authorizer::new(AuthConfig::with_key(key())).unwrap());
    let hub = Mercure::new(broker, authorizer, config);
    serve_http1(service_fn(move |req| hub.clone().oneshot(req))).await
}

#[tokio::test]
async fn a_published_update_reaches_a_subscriber_under_its_mercure_id_and_resumes_by_it() {
    let addr = serve(MemoryBroker::default(), MercureConfig::default()).await;
    let writer = token(&Claims::new().publish("*"));
    let reader = token(&Claims::new().subscribe("*"));
    let auth = format!("Authorization: Bearer {reader}\r\n");
    let mut sub = Raw::get(
        addr,
        "/.well-known/mercure?topic=https%3A%2F%2Fex.com%2Fbooks%2F%7Bid%7D",
        &auth,
    )
    .await;
    let head = sub.until(": ok\n\n").await.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(
        head.contains("cache-control: private, no-cache, no-store, must-revalidate, max-age=0")
    );
    assert!(
        !head.contains("last-event-id:"),
        "no cursor asked, none answered: {head}"
    );

    let (status, first) = publish(
        addr,
        &writer,
        "topic=https%3A%2F%2Fex.com%2Fbooks%2F1&data=one",
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert!(first.starts_with("urn:uuid:"), "{first}");
    let (status, second) = publish(
        addr,
        &writer,
        "topic=https%3A%2F%2Fex.com%2Fbooks%2F2&data=two&id=book-2",
    )
    .await;
    assert_eq!((status, second.as_str()), (200, "book-2"));
    let seen = sub.until("data: two\n\n").await;
    assert!(
        seen.contains(&format!("id: {first}\ndata: one\n\n")),
        "{seen}"
    );
    assert!(seen.contains("id: book-2\ndata: two\n\n"), "{seen}");

    // Resume by the generated id (header), and by the publisher's id (query): exactly after it.
    let mut again = Raw::get(
        addr,
        "/.well-known/mercure?topic=https%3A%2F%2Fex.com%2Fbooks%2F%7Bid%7D",
        &format!("{auth}Last-Event-ID: {first}\r\n"),
    )
    .await;
    let replay = again.until("data: two\n\n").await;
    assert!(
        replay
            .to_ascii_lowercase()
            .contains(&format!("last-event-id: {first}")),
        "{replay}"
    );
    assert!(!replay.contains("data: one"), "{replay}");
    let (status, _) = publish(
        addr,
        &writer,
        "topic=https%3A%2F%2Fex.com%2Fbooks%2F3&data=three",
    )
    .await;
    assert_eq!(status, 200);
    let mut by_query = Raw::get(
        addr,
        "/.well-known/mercure?topic=https%3A%2F%2Fex.com%2Fbooks%2F%7Bid%7D&lastEventID=book-2",
        &auth,
    )
    .await;
    let replay = by_query.until("data: three\n\n").await;
    assert!(
        !replay.contains("data: two") && !replay.contains("data: one"),
        "{replay}"
    );

    // An id the hub never had: the answer says `earliest`, a gap is announced, all follows.
    let mut lost = Raw::get(
        addr,
        "/.well-known/mercure?match=https%3A%2F%2Fex.com%2Fbooks%2F1&last_event_id=urn%3Auuid%3Agone",
        &auth,
    )
    .await;
    let replay = lost.until("data: one\n\n").await.to_ascii_lowercase();
    assert!(
        replay.contains("mercure-last-event-id: earliest"),
        "{replay}"
    );
    assert!(replay.contains("event: gap"), "{replay}");
}

/// The rule: only `match…` parameters and an `at+jwt` token make a request 1.0. A 0.x
/// subscriber that names its cursor with 1.0's `last_event_id` and presents its token in the
/// query (0.x only) is answered as 0.x: the token is taken, the cursor header is 0.x's.
#[tokio::test]
async fn last_event_id_is_a_cursor_in_a_0x_request_with_its_token_in_the_query() {
    let addr = serve(MemoryBroker::default(), MercureConfig::default()).await;
    let writer = token(&Claims::new().publish("*"));
    let reader = token(&Claims::new().subscribe("*"));
    let (status, first) = publish(addr, &writer, "topic=t&data=one&id=one").await;
    assert_eq!((status, first.as_str()), (200, "one"));
    let (status, _) = publish(addr, &writer, "topic=t&data=two").await;
    assert_eq!(status, 200);
    let mut sub = Raw::get(
        addr,
        &format!("/.well-known/mercure?topic=t&last_event_id=one&authorization={reader}"),
        "",
    )
    .await;
    let replay = sub.until("data: two\n\n").await;
    let head = replay.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{replay}");
    assert!(head.contains("\r\nlast-event-id: one\r\n"), "{replay}");
    assert!(!head.contains("mercure-last-event-id"), "{replay}");
    assert!(!replay.contains("data: one"), "{replay}");
}

#[tokio::test]
async fn private_updates_reach_only_granted_subscribers_and_alternates_match() {
    let addr = serve(
        MemoryBroker::default(),
        MercureConfig::default().with_heartbeat(None),
    )
    .await;
    let writer = token(&Claims::new().publish("*"));
    let granted = token(&Claims::new().subscribe("https://ex.com/users/{id}"));
    let other = token(&Claims::new().subscribe("https://ex.com/other"));
    let q = "/.well-known/mercure?topic=*";
    let mut yes = Raw::get(addr, q, &format!("Authorization: Bearer {granted}\r\n")).await;
    let mut no = Raw::get(addr, q, &format!("Authorization: Bearer {other}\r\n")).await;
    yes.until(": ok\n\n").await;
    no.until(": ok\n\n").await;
    // Private, canonical topic outside both grants, alternate inside the first's.
    let (status, _) = publish(
        addr,
        &writer,
        "topic=https%3A%2F%2Fex.com%2Fbooks%2F1&topic=https%3A%2F%2Fex.com%2Fusers%2F7&data=secret&private=on",
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = publish(
        addr,
        &writer,
        "topic=https%3A%2F%2Fex.com%2Fpublic&data=open",
    )
    .await;
    assert_eq!(status, 200);
    let seen = yes.until("data: open\n\n").await;
    assert!(seen.contains("data: secret\n\n"), "{seen}");
    let seen = no.until("data: open\n\n").await;
    assert!(!seen.contains("secret"), "{seen}");
}

#[tokio::test]
async fn refusals_say_what_was_wrong() {
    let addr = serve(
        MemoryBroker::default(),
        MercureConfig::default().with_max_body(200),
    )
    .await;
    let writer = token(&Claims::new().publish("https://ex.com/{x}"));
    // A topic outside the token's publish selectors: nothing is sent (401 in 0.x).
    let (status, body) = publish(
        addr,
        &writer,
        "topic=https%3A%2F%2Fex.com%2Fa&topic=https%3A%2F%2Fother%2Fb&data=x",
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = publish(addr, &writer, "topic=%2F.well-known%2Fmercure%2Fx").await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = publish(
        addr,
        &writer,
        &format!("topic=https%3A%2F%2Fex.com%2Fa&data={}", "x".repeat(200)),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = publish(addr, &writer, "data=x").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("topic"), "{body}");
    // No token at all: the subscriber is refused (anonymous is off) with a message.
    let mut sub = Raw::get(
        addr,
        "/.well-known/mercure?topic=a",
        "Connection: close\r\n",
    )
    .await;
    let answer = sub.to_end().await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let mut bad = Raw::get(
        addr,
        "/.well-known/mercure?match_regex=a",
        "Connection: close\r\n",
    )
    .await;
    let answer = bad.to_end().await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[tokio::test]
async fn curl_subscribes_and_receives_the_update() {
    let curl = push_test_support::tools::program("curl", "curl");
    let addr = serve(MemoryBroker::default(), MercureConfig::default()).await;
    let reader = token(&Claims::new().subscribe("*"));
    let writer = token(&Claims::new().publish("*"));
    let mut child = tokio::process::Command::new(curl)
        .arg("--no-buffer")
        .arg("--silent")
        .arg("--max-time")
        .arg("10")
        .arg("--header")
        .arg(format!("Authorization: Bearer {reader}"))
        .arg(format!("http://{addr}/.well-known/mercure?topic=news"))
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(LIMIT, async {
        while !String::from_utf8_lossy(&seen).contains(": ok") {
            let n = out.read(&mut buf).await.unwrap();
            assert!(n > 0, "curl ended early");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap();
    let (status, id) = publish(addr, &writer, "topic=news&data=via+curl&type=note").await;
    assert_eq!(status, 200);
    tokio::time::timeout(LIMIT, async {
        while !String::from_utf8_lossy(&seen).contains("via curl\n\n") {
            let n = out.read(&mut buf).await.unwrap();
            assert!(n > 0, "curl ended early");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&seen);
    assert!(
        text.contains(&format!("event: note\nid: {id}\ndata: via curl\n\n")),
        "{text}"
    );
}
