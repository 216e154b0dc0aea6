//! A server on hyper 1, HTTP/1.1 and HTTP/2 (h2c with prior knowledge) on one port: `GET /poll`
//! answered by a [`Handler`], and a demo `POST /publish` that publishes the request body on the
//! broker. Over HTTP/2 a client holds any number of polls on one connection (a browser's six
//! connections per origin stop mattering).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use push_core::{Broker, Event};
use tokio::net::TcpListener;

use crate::Handler;

/// The largest event body `POST /publish` accepts.
const MAX_PUBLISH_BYTES: usize = 1 << 20;

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
pub async fn serve<B: Broker>(listener: TcpListener, handler: Arc<Handler<B>>) -> io::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) if is_resource_limit(&e) => {
                // Out of file descriptors: back off briefly instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let _ = stream.set_nodelay(true);
        let handler = Arc::clone(&handler);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let handler = Arc::clone(&handler);
                async move { Ok::<_, io::Error>(route(&handler, request).await) }
            });
            // A connection error concerns this peer only.
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

fn is_resource_limit(e: &io::Error) -> bool {
    // EMFILE / ENFILE / ENOBUFS / ENOMEM and the like.
    e.raw_os_error().is_some() && !is_per_connection(e)
}

async fn route<B: Broker>(
    handler: &Handler<B>,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/poll") => handler.handle(&request).await,
        (&Method::POST, "/publish") => publish(handler.broker(), request).await,
        (_, "/poll" | "/publish") => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try GET /poll or POST /publish",
        ),
    };
    response.map(Full::new)
}

/// `POST /publish?topic=T[&topic=U…][&event=TYPE]`: the body is published to every topic named
/// (the union, as Mercure reads a repeated `topic`); the answer is one cursor per line, in topic
/// order. The query is decoded strictly: an invalid escape or non-UTF-8 text is a 400.
async fn publish<B: Broker>(broker: &B, request: Request<Incoming>) -> Response<Bytes> {
    let (parts, body) = request.into_parts();
    let query = parts.uri.query().unwrap_or_default();
    let selector = match push_core::Selector::from_query(query.as_bytes()) {
        Ok(selector) => selector,
        Err(push_core::Error::SelectorEmpty) => {
            return text(StatusCode::BAD_REQUEST, "the request names no topic");
        }
        Err(e) => return text(StatusCode::BAD_REQUEST, &format!("invalid topic: {e}")),
    };
    let mut kind = None;
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("event=") {
            match push_core::form_decode(value.as_bytes()) {
                Some(value) => kind = Some(value.into_owned()),
                None => return text(StatusCode::BAD_REQUEST, "invalid event type encoding"),
            }
        }
    }
    let data = match Limited::new(body, MAX_PUBLISH_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large"),
    };
    let mut event = Event::new(data);
    event.event = kind.filter(|k| !k.is_empty());
    let mut cursors = String::new();
    for topic in selector.topics() {
        match broker.publish(topic, event.clone()).await {
            Ok(cursor) => cursors.push_str(&format!("{cursor}\n")),
            Err(e) => return text(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        }
    }
    text(StatusCode::OK, cursors.trim_end())
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
