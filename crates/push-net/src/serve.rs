//! hyper 1 servers: the builder with a timer and the limits, the connection runner with the
//! handshake deadline and the write-stall guard, and the publish body reader.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::Watcher;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::clamp_limit;
use crate::{ServerConfig, StallGuard};

/// An error a connection or a service may end with.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// A hyper service a server connection can run: what [`serve_http`] (and any connection
/// handler that hands requests to hyper) asks of its service, named once.
///
/// Implemented for every `Service<Request<Incoming>>` whose future can move between threads,
/// whose error and response body's error box into a [`BoxError`], and whose body's chunks
/// can move between threads.
pub trait HttpService:
    Service<
        Request<Incoming>,
        Response = Response<<Self as HttpService>::ResBody>,
        Error = <Self as HttpService>::Failure,
        Future = <Self as HttpService>::Answer,
    > + Send
    + 'static
{
    /// The response body.
    type ResBody: Body<Data: Send, Error: Into<BoxError>> + Send + 'static;
    /// The service's error.
    type Failure: Into<BoxError>;
    /// The future of a response.
    type Answer: Future<Output = Result<Response<Self::ResBody>, Self::Failure>> + Send + 'static;
}

impl<S, B> HttpService for S
where
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data: Send, Error: Into<BoxError>> + Send + 'static,
{
    type ResBody = B;
    type Failure = S::Error;
    type Answer = S::Future;
}

/// A hyper server builder (HTTP/1.1, and HTTP/2 with prior knowledge) with tokio's timer and
/// `config`'s limits: the HTTP/1.1 header-read timeout (the
/// [handshake timeout](ServerConfig::with_handshake_timeout), which also closes idle keep-alive
/// connections), the HTTP/1.1 request head limit (the HTTP/2 header list size,
/// [`Http2Limits::max_header_list_size`](crate::Http2Limits::max_header_list_size), at least
/// hyper's minimum of 8 KiB, and at most 64 header fields: `431` beyond), and every
/// [`Http2Limits`](crate::Http2Limits) setting with keep-alive PINGs.
///
/// Without the head limit hyper reads a request head into a buffer of up to about 400 KiB per
/// connection.
///
/// Without a timer hyper has no header-read timeout at all: a peer that sends one byte of its
/// request head every few seconds holds its connection forever.
pub fn http_builder(config: &ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.handshake_timeout)
        .max_buf_size(http1_head_limit(&config.http2))
        .max_headers(HTTP1_MAX_HEADERS);
    let h2 = &config.http2;
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(h2.max_concurrent_streams)
        .max_header_list_size(h2.max_header_list_size)
        .max_pending_accept_reset_streams(h2.max_pending_accept_reset_streams)
        .max_local_error_reset_streams(h2.max_local_error_reset_streams)
        .max_send_buf_size(h2.max_send_buffer_size)
        .keep_alive_interval(clamp_limit(h2.keep_alive_interval))
        .keep_alive_timeout(clamp_limit(h2.keep_alive_timeout));
    builder
}

/// The most header fields an HTTP/1.1 request head may have (hyper's default is 100): a browser
/// sends about 20, and each field costs hyper a parsing slot per connection.
const HTTP1_MAX_HEADERS: usize = 64;

/// hyper's smallest accepted read buffer (`max_buf_size` panics below it).
const HYPER_MIN_BUF: usize = 8192;

/// The HTTP/1.1 read buffer limit, which bounds a request head: the HTTP/2 header list size,
/// so both protocols take the same heads.
fn http1_head_limit(limits: &crate::Http2Limits) -> usize {
    usize::try_from(limits.max_header_list_size)
        .unwrap_or(usize::MAX)
        .max(HYPER_MIN_BUF)
}

/// Serves one accepted connection (a `TcpStream`, or any byte stream such as a TLS stream
/// over one) with `service` under `config`: the [`http_builder`]
/// settings, writes guarded by a [`StallGuard`], and the handshake deadline — a connection
/// that has not completed its first request (HTTP/1.1 head, or HTTP/2 preface, SETTINGS and
/// first request) within the [handshake timeout](ServerConfig::with_handshake_timeout) is closed,
/// whichever protocol the client was going to speak.
///
/// Protocol upgrades are served (`serve_connection_with_upgrades`), so a service that answers
/// `101 Switching Protocols`, such as a WebSocket endpoint, gets its connection.
///
/// With `graceful` (from `GracefulShutdown::watcher`), the connection takes part in that
/// graceful shutdown (a shutdown lets its requests finish).
///
/// # Errors
/// [`io::ErrorKind::TimedOut`] when the first request did not arrive in time or a write
/// stalled; otherwise hyper's error for this connection. Either concerns this peer only.
pub async fn serve_http<T, S>(
    stream: T,
    service: S,
    config: &ServerConfig,
    graceful: Option<Watcher>,
) -> Result<(), BoxError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: HttpService,
{
    let started = Arc::new(AtomicBool::new(false));
    let service = MarkFirst {
        inner: service,
        started: Arc::clone(&started),
    };
    let io = TokioIo::new(StallGuard::new(stream, config.write_stall_timeout));
    let builder = http_builder(config);
    // With upgrades, so that WebSocket endpoints (`push_ws::server::Endpoint`) work here too.
    let connection = builder.serve_connection_with_upgrades(io, service);
    match graceful {
        Some(graceful) => {
            let watched = graceful.watch(connection.into_owned());
            first_request_within(watched, &started, config.handshake_timeout).await
        }
        None => first_request_within(connection, &started, config.handshake_timeout).await,
    }
}

/// Runs `connection`, dropping it (which closes the socket) when `started` is still unset
/// `timeout` after the start.
async fn first_request_within<F>(
    connection: F,
    started: &AtomicBool,
    timeout: Duration,
) -> Result<(), BoxError>
where
    F: Future<Output = Result<(), BoxError>>,
{
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        ended = &mut connection => return ended,
        () = tokio::time::sleep(timeout) => {}
    }
    if !started.load(Ordering::Acquire) {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no complete request within {timeout:?} (handshake timeout)"),
        )
        .into());
    }
    connection.await
}

/// Marks the connection as started when hyper hands over its first request.
#[derive(Debug)]
struct MarkFirst<S> {
    inner: S,
    started: Arc<AtomicBool>,
}

impl<S, R> Service<R> for MarkFirst<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, request: R) -> Self::Future {
        self.started.store(true, Ordering::Release);
        self.inner.call(request)
    }
}

/// Reads a request body of at most `max` bytes within `config`'s
/// [body timeout](ServerConfig::with_body_timeout).
///
/// # Errors
/// [`BodyError`]; its [`status`](BodyError::status) is the answer to send.
pub async fn read_body<B>(body: B, max: usize, config: &ServerConfig) -> Result<Bytes, BodyError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let collect = Limited::new(body, max).collect();
    match tokio::time::timeout(config.body_timeout, collect).await {
        Err(_) => Err(BodyError::TimedOut(config.body_timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge(max)),
        Ok(Err(e)) => Err(BodyError::Broken(e)),
    }
}

/// Why [`read_body`] gave no body.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is longer than the limit (the limit in bytes): `413 Content Too Large`.
    TooLarge(usize),
    /// The body did not arrive within the body timeout: `408 Request Timeout`.
    TimedOut(Duration),
    /// The upload failed (the connection broke, a malformed chunk): `400 Bad Request`.
    Broken(BoxError),
}

impl BodyError {
    /// The status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Broken(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl push_http::HttpStatus for BodyError {
    fn status(&self) -> StatusCode {
        Self::status(self)
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(max) => write!(f, "the body is larger than {max} bytes"),
            Self::TimedOut(limit) => write!(f, "the body did not arrive within {limit:?}"),
            Self::Broken(_) => f.write_str("the upload broke"),
        }
    }
}

impl StdError for BodyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Broken(e) => Some(&**e),
            _ => None,
        }
    }
}
