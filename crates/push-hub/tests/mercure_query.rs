//! Mercure 1.0's `QUERY` subscribe: the parameters in a form-urlencoded body (joined to the
//! URL's), answered as a `GET` is and as 1.0 answers, with the publish body's size limit (413),
//! a 415 for another media type, the parser's 400s; in process (the tower service) and on the
//! hub's port over HTTP/1.1 (past the lean path, which takes only `GET` / `HEAD`) and h2c.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use push_broker::{MemoryBroker, MemorySubscription};
use push_hub::auth::{Algorithm, AuthConfig, Authorizer, KeySpec};
use push_hub::mercure::{Mercure, MercureConfig};
use push_hub::token::{Claims, mint};
use push_sse::server::Body;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::time::timeout;
use tower::ServiceExt as _;

const LIMIT: Duration = Duration::from_secs(10);
const SECRET: &str = "a test secret of at least thirty-two bytes";
const FORM: &str = "application/x-www-form-urlencoded";
const HUB: &str = "http://hub.test/.well-known/mercure";

fn key() -> KeySpec {
    KeySpec::new(SECRET, Algorithm::HS256)
}

fn token(claims: &Claims) -> String {
    mint(&key(), claims).unwrap()
}

fn hub(config: MercureConfig) -> Mercure<MemoryBroker> {
    let authorizer = Arc::new(Authorizer::new(AuthConfig::with_key(key())).unwrap());
    Mercure::new(MemoryBroker::default(), authorizer, config)
}

type Answer = Response<Body<MemorySubscription>>;

async fn call(hub: &Mercure<MemoryBroker>, request: Request<String>) -> Answer {
    hub.clone().oneshot(request).await.unwrap()
}

/// A `QUERY` of the hub's URL (`target` after it: `""` or `?…`) with `body` as a form.
fn query(target: &str, token: Option<&str>, body: &str) -> http::request::Builder {
    let mut builder = Request::builder()
        .method("QUERY")
        .uri(format!("{HUB}{target}"))
        .header("content-type", FORM)
        .header("content-length", body.len());
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder
}

async fn publish(hub: &Mercure<MemoryBroker>, form: &str) -> String {
    let writer = token(&Claims::new().publish("*"));
    let request = Request::post(HUB)
        .header("authorization", format!("Bearer {writer}"))
        .header("content-type", FORM)
        .body(form.to_owned())
        .unwrap();
    let response = call(hub, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    text(response).await
}

async fn text(response: Answer) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Reads the event stream until `needle` arrived; everything read.
async fn until(body: &mut Body<MemorySubscription>, seen: &mut String, needle: &str) {
    timeout(LIMIT, async {
        while !seen.contains(needle) {
            let frame = body.frame().await.unwrap().unwrap();
            if let Ok(data) = frame.into_data() {
                seen.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {needle:?} in {seen}"));
}

#[tokio::test]
async fn a_query_subscribes_with_the_parameters_of_its_body_and_its_url() {
    let hub = hub(MercureConfig::default());
    let reader = token(&Claims::new().subscribe("*"));
    let first = publish(&hub, "topic=https%3A%2F%2Fex.com%2Fa&data=before").await;
    // Selectors from the URL and from the body are one list; the cursor is in the body.
    let body = format!("match=https%3A%2F%2Fex.com%2Fb&last_event_id={first}");
    let request = query("?match=https%3A%2F%2Fex.com%2Fa", Some(&reader), &body)
        .body(body.clone())
        .unwrap();
    let response = call(&hub, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    // A QUERY is 1.0's: 1.0's cursor header answers the cursor the body carried.
    assert_eq!(response.headers()["mercure-last-event-id"], first.as_str());
    let mut events = response.into_body();
    let mut seen = String::new();
    publish(&hub, "topic=https%3A%2F%2Fex.com%2Fa&data=to-a").await;
    publish(&hub, "topic=https%3A%2F%2Fex.com%2Fc&data=to-c").await;
    publish(&hub, "topic=https%3A%2F%2Fex.com%2Fb&data=to-b").await;
    until(&mut events, &mut seen, "data: to-b\n").await;
    assert!(seen.contains("data: to-a\n"), "{seen}");
    assert!(!seen.contains("to-c") && !seen.contains("before"), "{seen}");
}

#[tokio::test]
async fn a_query_is_refused_as_a_get_is_and_its_body_is_bounded() {
    let hub = hub(MercureConfig::default().with_max_body(64));
    let reader = token(&Claims::new().subscribe("*"));
    let status = |response: &Answer| response.status();

    // No token: 1.0's RFC 6750 challenge.
    let body = "match=https%3A%2F%2Fex.com%2Fa";
    let response = call(&hub, query("", None, body).body(body.into()).unwrap()).await;
    assert_eq!(status(&response), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");

    // The parser's refusals: an unknown `match…` name, no selector at all.
    for body in ["match_regex=.%2A", "last_event_id=x"] {
        let response = call(
            &hub,
            query("", Some(&reader), body).body(body.into()).unwrap(),
        )
        .await;
        assert_eq!(status(&response), StatusCode::BAD_REQUEST, "{body}");
    }

    // Past the body limit: 413, whether `Content-Length` says so or the body only shows it.
    let long = format!("match={}", "a".repeat(64));
    let declared = query("", Some(&reader), &long).body(long.clone()).unwrap();
    assert_eq!(
        status(&call(&hub, declared).await),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let mut undeclared = query("", Some(&reader), &long).body(long.clone()).unwrap();
    undeclared.headers_mut().remove("content-length");
    assert_eq!(
        status(&call(&hub, undeclared).await),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // Another media type: 415, naming the one a QUERY takes.
    let mut json = query("", Some(&reader), "{}").body("{}".into()).unwrap();
    json.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    let response = call(&hub, json).await;
    assert_eq!(status(&response), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(response.headers()["accept-query"], FORM);

    // OPTIONS names the method and what it takes.
    let options = Request::options(HUB).body(String::new()).unwrap();
    let response = call(&hub, options).await;
    let allow = response.headers()["allow"].to_str().unwrap();
    assert!(allow.contains("QUERY"), "{allow}");
    assert_eq!(response.headers()["accept-query"], FORM);
    // A method the hub does not know is still a 405.
    let other = Request::builder()
        .method("SEARCH")
        .uri(HUB)
        .body(String::new())
        .unwrap();
    assert_eq!(
        status(&call(&hub, other).await),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

/// On the hub's port: a raw HTTP/1.1 `QUERY` (the lean path hands it to hyper with the bytes
/// it has read) and an h2c one, each receiving a published update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_subscribes_over_http1_and_h2c_on_the_hubs_port() {
    let hub = support::start(support::args());
    let addr = hub.addr;
    let body = "match=https%3A%2F%2Fex.com%2Fq";
    let request = format!(
        "QUERY /.well-known/mercure HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {FORM}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut http1 = tokio::net::TcpStream::connect(addr).await.unwrap();
    http1.write_all(request.as_bytes()).await.unwrap();

    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut send = send.ready().await.unwrap();
    let h2_request = Request::builder()
        .method("QUERY")
        .uri(format!("http://{addr}/.well-known/mercure"))
        .header("content-type", FORM)
        .body(())
        .unwrap();
    let (response, mut stream) = send.send_request(h2_request, false).unwrap();
    stream
        .send_data(Bytes::from_static(body.as_bytes()), true)
        .unwrap();
    let response = timeout(LIMIT, response).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut h2_events = response.into_body();

    // Both have their head (and the opening comment) before the publish.
    let mut seen1 = Vec::new();
    let mut buf = [0; 4096];
    while !String::from_utf8_lossy(&seen1).contains("\r\n\r\n") {
        let n = timeout(LIMIT, http1.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&seen1));
        seen1.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&seen1).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    let first = timeout(LIMIT, h2_events.data())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.starts_with(b":"), "{first:?}");

    let topic = push_core::Topic::new("https://ex.com/q").unwrap();
    push_core::Broker::publish(
        &hub.broker,
        std::slice::from_ref(&topic),
        push_core::Event::new("queried"),
    )
    .await
    .unwrap();
    while !String::from_utf8_lossy(&seen1).contains("data: queried") {
        let n = timeout(LIMIT, http1.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&seen1));
        seen1.extend_from_slice(&buf[..n]);
    }
    let mut seen2 = Vec::new();
    while !String::from_utf8_lossy(&seen2).contains("data: queried") {
        let data = timeout(LIMIT, h2_events.data())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let _ = h2_events.flow_control().release_capacity(data.len());
        seen2.extend_from_slice(&data);
    }
}
