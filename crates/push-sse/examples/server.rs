//! An SSE server on the embedded broker, to try with curl and a browser's EventSource.
//!
//! ```text
//! cargo run --release -p push-sse --example server -- 127.0.0.1:8080
//! curl -N 'http://127.0.0.1:8080/events?topic=news'             # an SSE stream, resumable
//! curl -d 'hello' 'http://127.0.0.1:8080/publish?topic=news'     # prints the new cursor
//! curl -N -H 'Last-Event-ID: CURSOR' 'http://127.0.0.1:8080/events?topic=news'
//! ```
//!
//! `GET /events` is the library's [`Endpoint`](push_sse::server::Endpoint) (topics from the
//! query, open to all); `GET /` serves a page whose EventSource prints every event and gap;
//! `POST /publish` is this example's own, open to anyone: a demo route, not something to deploy
//! as it is. Ctrl-C shuts down gracefully: open streams end cleanly.
//!
//! Connections are handled by `push-net` with its documented defaults: a backlog for bursts of
//! reconnects, an accept loop that waits out file-descriptor exhaustion, a 10 s deadline for a
//! request head, 30 s for a publish body, and a subscriber whose socket takes no bytes for 30 s
//! once it is full is closed. A subscriber that never reads a quiet topic is closed only after
//! its receive window and our send buffer have filled up (small keep-alives take long to do
//! that), and then 30 s.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use push_broker::MemoryBroker;
use push_core::Event;
use push_net::{Acceptor, ServerConfig};
use push_sse::server::{self, Endpoint};
use tower::ServiceExt;

type Body = Either<server::Body<push_broker::MemorySubscription>, Full<Bytes>>;

/// The largest event a client may publish.
const MAX_PUBLISH: usize = 1 << 20;

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>push-sse</title>
<h1>push-sse demo</h1>
<p>Topic <input id="topic" value="news"> <button id="go">listen</button>
 &nbsp; publish <input id="data" value="hello"> <button id="pub">send</button></p>
<pre id="log"></pre>
<script>
const log = (s) => document.getElementById('log').textContent += s + '\n';
let es;
document.getElementById('go').onclick = () => {
  if (es) es.close();
  const topic = encodeURIComponent(document.getElementById('topic').value);
  es = new EventSource('/events?topic=' + topic);
  es.onopen = () => log('open');
  es.onmessage = (e) => log('event ' + e.lastEventId + ': ' + e.data);
  es.addEventListener('gap', (e) => log('GAP ' + e.data));
  es.onerror = () => log('error (the browser reconnects with Last-Event-ID)');
};
document.getElementById('pub').onclick = () => {
  const topic = encodeURIComponent(document.getElementById('topic').value);
  fetch('/publish?topic=' + topic, {method: 'POST', body: document.getElementById('data').value});
};
</script>
"#;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Either::Right(Full::new(body.into())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The first parameter of `query` whose decoded name is `name`, its value decoded strictly
/// (`None` when absent; an invalid escape is an error, not text): push-core's one rule.
fn param(query: &str, name: &str) -> Result<Option<String>, String> {
    push_http::query::query_param(query.as_bytes(), name)
        .map(|v| v.map(std::borrow::Cow::into_owned))
        .map_err(|e| format!("{name}: {e}\n"))
}

async fn handle(
    sse: Endpoint<MemoryBroker>,
    config: ServerConfig,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let query = request.uri().query().unwrap_or("").to_owned();
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => {
            let mut r = text(StatusCode::OK, PAGE);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        (&Method::GET, "/events") => match sse.oneshot(request).await {
            Ok(response) => response.map(Either::Left),
            Err(never) => match never {},
        },
        (&Method::POST, "/publish") => {
            // Every `topic=` counts (their union), decoded strictly: push-http's one rule.
            let selector = match push_http::query::selector_from_query(query.as_bytes()) {
                Ok(selector) => selector,
                Err(e) => return Ok(text(StatusCode::BAD_REQUEST, format!("{e}\n"))),
            };
            let event_type = match param(&query, "event") {
                Ok(t) => t,
                Err(e) => return Ok(text(StatusCode::BAD_REQUEST, e)),
            };
            let broker = sse.broker();
            let body = match push_net::read_body(request.into_body(), MAX_PUBLISH, &config).await {
                Ok(body) => body,
                Err(e) => return Ok(text(e.status(), format!("{e}\n"))),
            };
            let mut event = Event::new(body);
            event.event = event_type;
            // Refused now, with the reason, rather than delivered later as an `unencodable` gap.
            if let Err(e) = push_sse::check_encodable(&event) {
                return Ok(text(StatusCode::BAD_REQUEST, format!("{e}\n")));
            }
            // One event on every topic named, all or none (a refusal leaves nothing behind, so
            // a retry duplicates nothing); its one cursor.
            match broker.publish_to(selector.topics(), event) {
                Ok(cursor) => text(StatusCode::OK, format!("{cursor}\n")),
                // Closed, or `TopicLimit`: the server's capacity, not this client's rate.
                Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
            }
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "routes: GET /, GET /events?topic=T, POST /publish?topic=T\n",
        ),
    };
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("ADDR: {e}")))?;
    let config = ServerConfig::default();
    let mut acceptor = Acceptor::bind(addr, &config)?;
    println!(
        "push-sse example listening on http://{}",
        acceptor.local_addr()?
    );
    let broker = MemoryBroker::default();
    // Expires history on time, also on topics nobody publishes to or subscribes to again.
    broker.spawn_sweeper();
    let sse = Endpoint::new(
        broker.clone(),
        server::Config::default().with_keep_alive(Some(Duration::from_secs(15))),
    );
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            accepted = acceptor.accept() => {
                let (stream, _) = accepted?;
                let (sse, config) = (sse.clone(), config.clone());
                let graceful = graceful.watcher();
                tokio::spawn(async move {
                    let for_requests = config.clone();
                    let service =
                        service_fn(move |req| handle(sse.clone(), for_requests.clone(), req));
                    // A timeout or a broken connection concerns this peer only.
                    let _ = push_net::serve_http(stream, service, &config, Some(graceful)).await;
                });
            }
            _ = &mut ctrl_c => break,
        }
    }
    println!("shutting down: closing open streams");
    broker.close();
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    Ok(())
}
