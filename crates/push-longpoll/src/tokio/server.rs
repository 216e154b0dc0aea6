//! A server on hyper 1, HTTP/1.1 and HTTP/2 (h2c with prior knowledge) on one port: `GET /poll`
//! answered by a [`Handler`], and a demo `POST /publish` that publishes the request body on the
//! broker. Over HTTP/2 a client holds any number of polls on one connection (a browser's six
//! connections per origin stop mattering).

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use push_core::{Broker, Event};
use push_net::{Acceptor, ServerConfig};
use tokio::net::TcpListener;

use crate::Handler;

/// The largest event body `POST /publish` accepts.
const MAX_PUBLISH_BYTES: usize = 1 << 20;

/// Serves long polls on `listener` with the default [`ServerConfig`]; see [`serve_with`].
pub async fn serve<B: Broker>(listener: TcpListener, handler: Arc<Handler<B>>) -> io::Result<()> {
    serve_with(listener, handler, &ServerConfig::default()).await
}

/// Serves long polls on `listener` until the listener fails for good; one task per connection.
///
/// Routes:
/// - `GET /poll?topic=T[&since=C][&wait=S]`: the long poll (see the [crate docs](crate)).
/// - `POST /publish?topic=T[&event=TYPE]`: publishes the request body (at most 1 MiB) as the
///   event data and answers `200` with the new cursor as `text/plain`. **Unauthenticated**: it
///   exists for demos and tests; put it behind your own authorisation in production.
/// - Anything else: `404`, or `405` for a known path with another method.
///
/// A client that closes its connection while held ends its connection task, which drops the
/// poll and frees its waiter at once; over HTTP/2 a client that resets one stream drops that
/// poll alone.
///
/// Connections are handled by [`push_net`] under `config`: accepting backs off when file
/// descriptors run out (and serves again when they are free), a connection must complete its
/// first request within the handshake timeout (and each later HTTP/1.1 head too), a publish
/// body within the body timeout (`408` otherwise), a write that makes no progress for the
/// write-stall timeout closes the connection, and HTTP/2 connections advertise
/// [`push_net::Http2Limits`]. A held poll is not a stalled write: it writes nothing until it
/// is answered.
pub async fn serve_with<B: Broker>(
    listener: TcpListener,
    handler: Arc<Handler<B>>,
    config: &ServerConfig,
) -> io::Result<()> {
    let mut acceptor = Acceptor::new(listener, config);
    loop {
        let (stream, _) = acceptor.accept().await?;
        let handler = Arc::clone(&handler);
        let config = config.clone();
        tokio::spawn(async move {
            let for_requests = config.clone();
            let service = service_fn(move |request| {
                let handler = Arc::clone(&handler);
                let config = for_requests.clone();
                async move { Ok::<_, io::Error>(route(&handler, request, &config).await) }
            });
            // A connection error (a timeout too) concerns this peer only.
            let _ = push_net::serve_http(stream, service, &config, None).await;
        });
    }
}

async fn route<B: Broker>(
    handler: &Handler<B>,
    request: Request<Incoming>,
    config: &ServerConfig,
) -> Response<Full<Bytes>> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/poll") => handler.handle(&request).await,
        (&Method::POST, "/publish") => publish(handler.broker(), request, config).await,
        (_, "/poll" | "/publish") => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try GET /poll or POST /publish",
        ),
    };
    response.map(Full::new)
}

/// `POST /publish?topic=T[&topic=U…][&event=TYPE]`: the body is published to every topic named
/// (the union, as Mercure reads a repeated `topic`) as one event, all or none
/// ([`Broker::publish`]); the answer is its cursor, or a 503 that says why. The query is decoded strictly: an
/// invalid escape or non-UTF-8 text is a 400.
async fn publish<B: Broker>(
    broker: &B,
    request: Request<Incoming>,
    config: &ServerConfig,
) -> Response<Bytes> {
    let (parts, body) = request.into_parts();
    let query = parts.uri.query().unwrap_or_default();
    let selector = match push_core::Selector::from_query(query.as_bytes()) {
        Ok(selector) => selector,
        Err(push_core::Error::SelectorEmpty) => {
            return text(StatusCode::BAD_REQUEST, "the request names no topic");
        }
        Err(e) => return text(StatusCode::BAD_REQUEST, &format!("invalid topic: {e}")),
    };
    // Parameter names are decoded before they are matched: `%65vent` is `event`.
    let kind = match push_core::query_param(query.as_bytes(), "event") {
        Ok(kind) => kind.map(std::borrow::Cow::into_owned),
        Err(_) => return text(StatusCode::BAD_REQUEST, "invalid event type encoding"),
    };
    let data = match push_net::read_body(body, MAX_PUBLISH_BYTES, config).await {
        Ok(data) => data,
        Err(e) => return text(e.status(), &e.to_string()),
    };
    let mut event = Event::new(data);
    event.event = kind.filter(|k| !k.is_empty());
    // One event on every topic, all or none: a 503 leaves nothing behind, and a retry
    // duplicates nothing.
    match broker.publish(selector.topics(), event).await {
        Ok(cursor) => text(StatusCode::OK, &cursor.to_string()),
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

fn text(status: StatusCode, message: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(message.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(crate::TEXT_CONTENT_TYPE),
    );
    response
}
