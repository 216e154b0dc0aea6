//! The example server's application: `GET /poll` answered by the library's
//! [`Endpoint`], a demo `POST /publish`, and the accept loop (push-net's). The tests of this
//! crate start this same application (`#[path]`), so what they check is what the example runs.

use std::convert::Infallible;
use std::io;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use push_broker::MemoryBroker;
use push_core::Event;
use push_longpoll::server::{Body, Endpoint};
use push_net::{Acceptor, ServerConfig};
use tokio::net::TcpListener;
use tower_service::Service;

/// The largest event body `POST /publish` accepts.
const MAX_PUBLISH_BYTES: usize = 1 << 20;

/// Serves `poll` on `listener` until the listener fails for good; one task per connection.
///
/// Routes:
/// - `GET /poll?topic=T[&since=C][&wait=S]`: the long poll (the library's `Endpoint`).
/// - `POST /publish?topic=T[&topic=U…][&event=TYPE]`: publishes the request body (at most
///   1 MiB) as the event data, one event on all those topics, and answers `200` with its
///   cursor as `text/plain`. **Unauthenticated**: it exists for this demo and the tests; an application
///   publishes from its own code, or behind its own authorization.
/// - Anything else: `404`, or `405` for `/publish` with another method.
///
/// Connections are handled by push-net under `config`: accepting backs off when file
/// descriptors run out, a connection must complete its first request within the handshake
/// timeout, a publish body within the body timeout (`408` otherwise), a write that makes no
/// progress for the write-stall timeout closes the connection, and HTTP/2 (prior knowledge)
/// connections advertise push-net's limits. A held poll is not a stalled write: it writes
/// nothing until it is answered.
pub(crate) async fn run(
    listener: TcpListener,
    poll: Endpoint<MemoryBroker>,
    config: ServerConfig,
) -> io::Result<()> {
    let mut acceptor = Acceptor::new(listener, &config);
    loop {
        let (stream, _) = acceptor.accept().await?;
        let (poll, config) = (poll.clone(), config.clone());
        tokio::spawn(async move {
            let for_requests = config.clone();
            let service = service_fn(move |request| {
                let (poll, config) = (poll.clone(), for_requests.clone());
                async move { Ok::<_, Infallible>(route(poll, request, &config).await) }
            });
            // A connection error (a timeout too) concerns this peer only.
            let _ = push_net::serve_http(stream, service, &config, None).await;
        });
    }
}

async fn route(
    mut poll: Endpoint<MemoryBroker>,
    request: Request<Incoming>,
    config: &ServerConfig,
) -> Response<Body> {
    match (request.method(), request.uri().path()) {
        (_, "/poll") => match poll.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        (&Method::POST, "/publish") => publish(poll.broker(), request, config).await,
        (_, "/publish") => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed".into()),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try GET /poll or POST /publish".into(),
        ),
    }
}

/// `POST /publish?topic=T[&topic=U…][&event=TYPE]`: the body is published as one event on every
/// topic named (the union, as Mercure reads a repeated `topic`; the first in sorted order is
/// the canonical one); the
/// answer is its cursor, or a 503 that says why. The query is decoded strictly: an invalid
/// escape or non-UTF-8 text is a 400, and so is a pattern (one publishes to topics).
async fn publish(
    broker: &MemoryBroker,
    request: Request<Incoming>,
    config: &ServerConfig,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let query = parts.uri.query().unwrap_or_default();
    let selector = match push_http::query::selector_from_query(query.as_bytes()) {
        Ok(selector) if selector.is_exact() => selector,
        Ok(_) => {
            return text(
                StatusCode::BAD_REQUEST,
                "publish to topics, not patterns".into(),
            );
        }
        Err(push_core::Error::SelectorEmpty) => {
            return text(StatusCode::BAD_REQUEST, "the request names no topic".into());
        }
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("invalid topic: {e}")),
    };
    // Parameter names are decoded before they are matched: `%65vent` is `event`.
    let kind = match push_http::query::query_param(query.as_bytes(), "event") {
        Ok(kind) => kind.map(std::borrow::Cow::into_owned),
        Err(_) => {
            return text(
                StatusCode::BAD_REQUEST,
                "invalid event type encoding".into(),
            );
        }
    };
    let data = match push_net::read_body(body, MAX_PUBLISH_BYTES, config).await {
        Ok(data) => data,
        Err(e) => return text(e.status(), e.to_string()),
    };
    let mut event = Event::new(data);
    event.event = kind.filter(|k| !k.is_empty());
    // One event on every topic named, one cursor: stored once, delivered once per subscriber.
    match push_core::Broker::publish(broker, selector.topics(), event).await {
        Ok(cursor) => text(StatusCode::OK, cursor.to_string()),
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

fn text(status: StatusCode, message: String) -> Response<Body> {
    push_http::head::text_response(status, message).map(Body::from)
}
