//! The reconnecting client against a scripted loopback server: ids carried across
//! reconnections, `Last-Event-ID` only when non-empty, `retry` honoured, 204 stops, wrong
//! answers are final errors, and the retry limit really stops; over TLS, with a trusted root or
//! refused without.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use push_sse::client::{Config, Error as ClientError, EventSource, Item, ReconnectPolicy};
use tokio::net::TcpListener;

const LIMIT: Duration = Duration::from_secs(10);

/// One canned answer: status, content type, body.
type Answer = (u16, &'static str, &'static str);

/// Serves the answers in order (the last one repeats) and records each request's Last-Event-ID.
async fn scripted(answers: Vec<Answer>) -> (SocketAddr, Arc<Mutex<Vec<Option<String>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let answers = Arc::new(answers);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let log = Arc::clone(&log);
            let answers = Arc::clone(&answers);
            let service = service_fn(move |req: Request<Incoming>| {
                let mut log = log.lock().unwrap();
                let id = req
                    .headers()
                    .get("last-event-id")
                    .map(|v| v.to_str().unwrap().to_owned());
                let (status, content_type, body) = answers[log.len().min(answers.len() - 1)];
                log.push(id);
                let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
                *response.status_mut() = StatusCode::from_u16(status).unwrap();
                response
                    .headers_mut()
                    .insert("content-type", content_type.parse().unwrap());
                async move { Ok::<_, Infallible>(response) }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen)
}

fn fast() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .with_initial(Duration::from_millis(1))
        .with_min(Duration::from_millis(1))
        .with_max(Duration::from_millis(5))
}

/// Every item until the stream is over, errors as text.
async fn collect(mut source: EventSource) -> Vec<String> {
    tokio::time::timeout(LIMIT, async {
        let mut out = Vec::new();
        while let Some(item) = source.next().await {
            out.push(match item {
                Ok(Item::Event(e)) => format!(
                    "{}:{}:{}",
                    e.event.unwrap_or_default(),
                    String::from_utf8_lossy(&e.data),
                    e.id.unwrap_or_default()
                ),
                Ok(Item::Retry(delay)) => format!("retry {}", delay.as_millis()),
                Ok(other) => format!("{other:?}"),
                Err(e) if e.is_transient() => "transient".to_owned(),
                Err(e) => format!("error: {e}"),
            });
        }
        out
    })
    .await
    .expect("the client stops by itself")
}

#[tokio::test]
async fn reconnects_with_the_last_event_id_and_stops_on_204() {
    let (addr, seen) = scripted(vec![
        (
            200,
            "text/event-stream",
            "retry: 1\n\nid: 7\ndata: a\n\ndata: b\n\ndata: cut",
        ),
        (
            200,
            "text/event-stream; charset=utf-8",
            "data: c\n\nid\ndata: d\n\n",
        ),
        (204, "text/plain", ""),
    ])
    .await;
    let source = EventSource::with_config(
        &format!("http://{addr}/events"),
        Config::default().with_reconnect_policy(fast()),
    )
    .unwrap();
    assert_eq!(
        source.config().reconnect_policy().max(),
        fast().max(),
        "the config is read back"
    );
    let items = collect(source).await;
    assert_eq!(
        items,
        [
            "retry 1",
            "message:a:7",
            "message:b:7",
            "message:c:7",
            "message:d:"
        ]
    );
    // First connect: no id yet; then the persisted id; then an empty id is not sent at all.
    assert_eq!(*seen.lock().unwrap(), [None, Some("7".to_owned()), None]);
}

#[tokio::test]
async fn an_id_only_block_sets_the_id_sent_on_reconnection() {
    // WHATWG: the blank line sets the event source's last event id even though the block has
    // no data and dispatches no event.
    let (addr, seen) = scripted(vec![
        (200, "text/event-stream", "id: 7\n\n"),
        (
            200,
            "text/event-stream",
            "id: 8\ndata: a\n\nid: 9\n\nid: 10\n",
        ),
        (204, "text/plain", ""),
    ])
    .await;
    let source = EventSource::with_config(
        &format!("http://{addr}/"),
        Config::default().with_reconnect_policy(fast()),
    )
    .unwrap();
    assert_eq!(collect(source).await, ["message:a:8"]);
    // `id: 10` never saw its blank line: the end of the stream discarded it.
    assert_eq!(
        *seen.lock().unwrap(),
        [None, Some("7".to_owned()), Some("9".to_owned())]
    );
}

#[tokio::test]
async fn an_id_no_header_can_carry_is_reported_and_the_client_goes_on() {
    // `a\x01b` is a valid SSE id, but no HTTP header value: building the request failed with
    // a final "invalid URL", outside the backoff, and a caller that kept polling spun.
    let (addr, seen) = scripted(vec![
        (
            200,
            "text/event-stream",
            "id: 5\ndata: a\n\nid: a\u{1}b\n\n",
        ),
        (200, "text/event-stream", "data: b\n\n"),
        (204, "text/plain", ""),
    ])
    .await;
    let mut source = EventSource::with_config(
        &format!("http://{addr}/"),
        Config::default().with_reconnect_policy(fast()),
    )
    .unwrap();
    let mut items = Vec::new();
    tokio::time::timeout(LIMIT, async {
        while let Some(item) = source.next().await {
            items.push(match item {
                Ok(Item::Event(e)) => {
                    format!("{}:{}", String::from_utf8_lossy(&e.data), e.id.unwrap())
                }
                Ok(other) => format!("{other:?}"),
                Err(ClientError::LastEventIdNotSendable { id, resumed_from }) => {
                    format!("withheld {id:?}, sent {resumed_from:?}")
                }
                Err(e) => panic!("unexpected error: {e}"),
            });
            assert!(items.len() < 10, "the client spins: {items:?}");
        }
    })
    .await
    .expect("the client stops by itself");
    let withheld = r#"withheld "a\u{1}b", sent Some("5")"#;
    // The events keep the stream's id; each reconnection says what it could not send.
    assert_eq!(items, ["a:5", withheld, "b:a\u{1}b", withheld]);
    assert_eq!(
        *seen.lock().unwrap(),
        [None, Some("5".to_owned()), Some("5".to_owned())]
    );
}

#[tokio::test]
async fn a_hostile_retry_is_clamped_instead_of_crashing_the_client() {
    // `retry: 99999999999999999` and a disconnection made the backoff's jitter panic.
    let (addr, seen) = scripted(vec![
        (
            200,
            "text/event-stream",
            "retry: 99999999999999999\ndata: a\n\n",
        ),
        (200, "text/event-stream", "retry: 0\ndata: b\n\n"),
        (204, "text/plain", ""),
    ])
    .await;
    let source = EventSource::with_config(
        &format!("http://{addr}/"),
        Config::default().with_reconnect_policy(fast()),
    )
    .unwrap();
    assert_eq!(
        collect(source).await,
        [
            "retry 99999999999999999",
            "message:a:",
            "retry 0",
            "message:b:"
        ]
    );
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_given_last_event_id_is_sent_on_the_first_request() {
    let (addr, seen) = scripted(vec![(204, "text/plain", "")]).await;
    let source = EventSource::new(&format!("http://{addr}/"))
        .unwrap()
        .with_last_event_id("5-9");
    assert!(collect(source).await.is_empty());
    assert_eq!(*seen.lock().unwrap(), [Some("5-9".to_owned())]);
}

#[tokio::test]
async fn a_response_that_is_not_an_event_stream_is_a_final_error() {
    let (addr, seen) = scripted(vec![(200, "text/html", "<html>")]).await;
    let source = EventSource::with_config(
        &format!("http://{addr}/"),
        Config::default().with_reconnect_policy(fast()),
    )
    .unwrap();
    assert_eq!(
        collect(source).await,
        ["error: the server answered \"text/html\", not text/event-stream"]
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "no reconnection after a final error"
    );
}

#[tokio::test]
async fn an_error_status_is_final() {
    let (addr, _) = scripted(vec![(500, "text/plain", "boom")]).await;
    let source = EventSource::with_config(
        &format!("http://{addr}/"),
        Config::default().with_reconnect_policy(fast()),
    )
    .unwrap();
    assert_eq!(
        collect(source).await,
        ["error: the server answered 500 Internal Server Error"]
    );
}

#[tokio::test]
async fn the_retry_limit_really_stops() {
    // A port with nothing listening: every attempt fails.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let source = EventSource::with_config(
        &format!("http://{addr}/"),
        Config::default().with_reconnect_policy(fast().with_max_retries(Some(3))),
    )
    .unwrap();
    let items = collect(source).await;
    assert_eq!(
        items,
        [
            "transient",
            "transient",
            "transient",
            "error: gave up after the maximum number of retries"
        ]
    );
}

#[test]
fn only_http_and_https_urls_are_accepted() {
    for url in ["ftp://x/", "/relative", "not a url", "https:///no-host"] {
        assert!(
            matches!(EventSource::new(url), Err(ClientError::InvalidUrl { .. })),
            "{url}"
        );
    }
}

/// A TLS server on loopback with a self-signed certificate for `localhost`, answering every
/// request with the same event stream; returns its port and the certificate (DER).
async fn tls_server(body: &'static str) -> (u16, Vec<u8>) {
    let identity = push_test_support::SelfSigned::localhost();
    let acceptor = identity.acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let service = service_fn(move |_req: Request<Incoming>| async move {
                    let mut response =
                        Response::new(Full::new(Bytes::from_static(body.as_bytes())));
                    response
                        .headers_mut()
                        .insert("content-type", "text/event-stream".parse().unwrap());
                    Ok::<_, Infallible>(response)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (port, identity.der)
}

#[tokio::test]
async fn https_with_a_trusted_root_and_refused_without() {
    let (port, der) = tls_server("id: 1\ndata: over tls\n\n").await;
    let url = format!("https://localhost:{port}/events");
    let source = EventSource::with_config(
        &url,
        Config::default().with_reconnect_policy(fast().with_max_retries(Some(0))),
    )
    .unwrap()
    .with_root_certificate(&der)
    .unwrap();
    let items = collect(source).await;
    assert_eq!(items[0], "message:over tls:1", "{items:?}");

    // The same server is not trusted by the default roots: a connection error, then giving up.
    let source = EventSource::with_config(
        &url,
        Config::default().with_reconnect_policy(fast().with_max_retries(Some(1))),
    )
    .unwrap();
    let items = collect(source).await;
    assert_eq!(
        items.first().map(String::as_str),
        Some("transient"),
        "{items:?}"
    );
    assert_eq!(
        items.last().map(String::as_str),
        Some("error: gave up after the maximum number of retries")
    );
    assert!(matches!(
        EventSource::new("http://x/")
            .unwrap()
            .with_root_certificate(b"not a certificate"),
        Err(ClientError::Tls(_))
    ));
}
