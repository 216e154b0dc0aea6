//! The lean path: plain-TCP HTTP/1.1 connections whose request is a Mercure subscribe are
//! served without hyper, so that an idle subscriber costs its socket, its subscription and a
//! few hundred bytes of state, and nothing else.
//!
//! A subscriber is a connection that is idle almost all its life. hyper keeps a read buffer,
//! a write buffer and its connection state machine for every connection (about 19 KiB each
//! with axum's `Sse`); here a connection's task holds, while it waits, the socket, the
//! [`EventStream`] (the one SSE state type, the same the push-sse endpoint drives) and an
//! empty list of unwritten frames: no read buffer, no write buffer.
//!
//! ```text
//!  TcpStream ─► read the head (httparse, a buffer freed with it; limits of push-net's hyper path)
//!      │ GET/HEAD /.well-known/mercure ─► subscribe(&parts) ─► Ok((head, EventStream))
//!      │                                    │                    └► head, then frames straight to the socket
//!      │                                    └► Err(answer) ─► written; the next request, or close
//!      │ anything else ─► hyper (push-net's builder), the bytes already read replayed first
//!      │ a head too large: 431; malformed: 400; not complete in the handshake timeout: closed
//! ```
//!
//! # For the server: the hand-off point
//! Call [`serve_connection`] for every accepted plain-TCP connection that speaks HTTP/1.1
//! (after TLS and HTTP/2 prior knowledge have been sniffed off) — the `TcpStream`, or any
//! wrapper of it that counts or tracks (an `AsyncRead + AsyncWrite`): pass the bytes the sniffing
//! already read (or none, if it peeked), the subscribe function (for the hub,
//! `Mercure::subscribe` in a closure), the hyper service every other request goes to (the
//! router), the [`Config`] and the graceful-shutdown watcher. The watcher covers what hyper
//! serves; a lean stream ends at shutdown through its own [`EventStream`]'s signal, with the
//! `retry:` hint the stream carries itself (for the hub, `Mercure::with_shutdown`): the lean
//! path adds nothing to a stream, so it ends as it would anywhere else.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use push_broker::MemoryBroker;
//! use push_hub::lean::{self, Config};
//! use push_net::Acceptor;
//! use push_sse::server::EventStream;
//!
//! # async fn run() -> std::io::Result<()> {
//! let broker = MemoryBroker::default();
//! let config = Config::default();
//! let mut acceptor = Acceptor::bind("127.0.0.1:8080".parse().unwrap(), config.server())?;
//! loop {
//!     let (stream, _) = acceptor.accept().await?;
//!     let (broker, config) = (broker.clone(), config.clone());
//!     tokio::spawn(async move {
//!         // Every topic's events, from now: the hub's is Mercure's subscribe instead.
//!         let subscribe = move |_: &http::request::Parts| {
//!             let selector = push_core::Selector::all();
//!             let subscription = broker
//!                 .subscribe(&selector, None, &push_core::Access::public())
//!                 .map_err(|e| http::Response::new(Full::new(Bytes::from(e.to_string()))))?;
//!             let events = EventStream::new(subscription, &push_sse::server::Config::default());
//!             let (head, ()) = push_http::head::event_stream_response(()).into_parts();
//!             Ok((head, events))
//!         };
//!         let router = hyper::service::service_fn(|_request| async {
//!             Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"hi"))))
//!         });
//!         // A timeout or a broken connection concerns this peer only.
//!         let _ = lean::serve_connection(stream, Bytes::new(), subscribe, router, &config, None)
//!             .await;
//!     });
//! }
//! # }
//! # fn main() { let _ = run; }
//! ```
//!
//! # Framing: close-delimited
//! An event stream's body is delimited by the connection's close (`connection: close`, no
//! `transfer-encoding: chunked`): the stream ends only when the server ends it (the grant
//! expired, shutdown) or the peer leaves, and then the client reconnects after its `retry`
//! delay anyway, so a reusable connection would rarely be reused; without chunk framing the
//! shared encoded bytes of each event go to the socket as they are (one vectored write for
//! several, no per-subscriber copy or chunk header), HTTP/1.0 clients are served too, and SSE's
//! own framing (an event ends at a blank line) already tells a cut stream from a whole one.
//! Answers that are not streams (a refusal, the answer to a `HEAD`) have a length, and the
//! connection then carries the next request when HTTP/1.1 allows it.
//!
//! # Cancel safety
//! Dropping the future closes the connection and drops its subscription.

mod answer;
mod config;
mod drive;
mod head;
mod pace;

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::request::Parts;
use http::{Method, Response, StatusCode, response};
use http_body::Body;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::Watcher;
use push_core::Subscription;
use push_net::{HttpService, Rewind, ServerConfig, StallGuard};
use push_sse::server::EventStream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

pub use config::Config;
pub use head::{MAX_HEADERS, MERCURE_PATH};

use answer::{Framing, encode_head, refusal, write_answer};
use drive::Drive;
use head::{Head, HeadError, Subscribe, read_head};

/// An error a connection ends with (push-net's).
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// What a subscribe function gives: the response head and the [`EventStream`] to serve, or
/// the refusal to answer with.
pub type Subscribed<S, E> = Result<(response::Parts, EventStream<S>), Response<E>>;

/// What the lean path asks of its subscribe function: the request's parts to the response head
/// and the [`EventStream`] to serve, or a refusal to answer with (any body whose error boxes).
/// Implemented for every such `Fn`, such as a closure around `Mercure::subscribe`.
pub trait Subscriber {
    /// The subscriptions of the streams it opens.
    type Subscription: Subscription;
    /// The body of a refusal.
    type Refusal: Body<Error: Into<BoxError>>;

    /// Opens the stream `request` asks for, or says why not.
    ///
    /// # Errors
    /// The refusal, as a complete response.
    #[allow(clippy::result_large_err)] // the refusal is the response itself (the cold path)
    fn subscribe(&self, request: &Parts) -> Subscribed<Self::Subscription, Self::Refusal>;
}

impl<F, S, E> Subscriber for F
where
    F: Fn(&Parts) -> Subscribed<S, E>,
    S: Subscription,
    E: Body<Error: Into<BoxError>>,
{
    type Subscription = S;
    type Refusal = E;

    fn subscribe(&self, request: &Parts) -> Subscribed<S, E> {
        self(request)
    }
}

/// Serves one accepted plain-TCP HTTP/1.1 connection (`stream`: the `TcpStream` or a
/// wrapper of it; the lean path is for plain TCP, where a connection costs its socket and no
/// TLS buffers): Mercure subscribes (`GET` or `HEAD` of
/// [`MERCURE_PATH`], any query) through `subscribe`, every other request through hyper with
/// `service`.
///
/// `read` holds the bytes already read from `stream` (by the protocol sniffing), which are
/// read again first; pass an empty [`Bytes`] when none were.
///
/// For a subscribe, `subscribe` gets the request's parts and gives either the response head
/// and the [`EventStream`] to serve, or a response to answer with (a refusal: 400, 401, 403,
/// 503…). The stream's head is written, then its frames, until the stream ends or the peer
/// leaves; a `HEAD` gets the head only (the stream is dropped). A refusal is written with a
/// length (its body read up to [`Config::max_answer_bytes`]) and the connection goes on to its
/// next request when HTTP/1.1 allows it (no `connection: close`, no request body).
///
/// Any other request goes to hyper (push-net's [`http_builder`](push_net::http_builder), with
/// upgrades, under `graceful` when given) with every byte read so far replayed, pipelined
/// requests included: hyper serves the connection from there on.
///
/// Limits: the head must be complete within the handshake timeout
/// ([`ServerConfig::handshake_timeout`]; the connection is closed otherwise), at most
/// [`Config::max_head_bytes`] long with at most [`MAX_HEADERS`] fields (`431`), well-formed
/// (`400`); writes fail after the write-stall timeout without progress.
///
/// # Errors
/// The connection's socket error, a stalled write ([`std::io::ErrorKind::TimedOut`]), a peer
/// that kept sending after its subscribe request, or hyper's error: each concerns this peer
/// only. A peer that leaves or never completes a head is no error.
pub fn serve_connection<'c, T, Sub, Svc>(
    stream: T,
    read: Bytes,
    subscribe: Sub,
    service: Svc,
    config: &'c Config,
    graceful: Option<Watcher>,
) -> impl Future<Output = Result<(), BoxError>> + use<'c, T, Sub, Svc>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    Sub: Subscriber,
    Svc: HttpService,
{
    let io = StallGuard::new(stream, config.server().write_stall_timeout());
    Connection::Opening(Box::pin(open(
        io, read, subscribe, service, config, graceful,
    )))
}

/// A connection's future, hand-written so that its size is its largest state's and nothing
/// more: the head reading and hyper's connection are large futures, boxed while they run;
/// what the task holds while a subscriber idles is the [`Drive`] alone. (An `async fn` would
/// also keep room for its arguments beside its states, the whole connection's life.)
enum Connection<O, T, S> {
    /// Reading requests until one opens a stream, hyper takes over, or the connection ends.
    Opening(Pin<Box<O>>),
    /// Serving the stream.
    Driving(Drive<T, S>),
}

impl<O, T, S> Future for Connection<O, T, S>
where
    O: Future<Output = Result<Option<Drive<T, S>>, BoxError>>,
    T: AsyncRead + AsyncWrite + Unpin,
    S: Subscription,
{
    type Output = Result<(), BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match this {
                Self::Opening(opening) => match ready!(opening.as_mut().poll(cx)) {
                    Ok(Some(drive)) => *this = Self::Driving(drive),
                    Ok(None) => return Poll::Ready(Ok(())),
                    Err(e) => return Poll::Ready(Err(e)),
                },
                Self::Driving(drive) => return Pin::new(drive).poll(cx).map_err(Into::into),
            }
        }
    }
}

/// Reads requests until one opens a stream (its `Drive` is returned), hyper takes the
/// connection, or it ends.
async fn open<T, Sub, Svc>(
    mut io: StallGuard<T>,
    read: Bytes,
    subscribe: Sub,
    service: Svc,
    config: &Config,
    graceful: Option<Watcher>,
) -> Result<Option<Drive<T, Sub::Subscription>>, BoxError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    Sub: Subscriber,
    Svc: HttpService,
{
    let server = config.server();
    let mut buf = BytesMut::from(&read[..]);
    drop(read);
    loop {
        let deadline = Instant::now() + server.handshake_timeout();
        let request = match read_head(&mut io, buf, config.max_head_bytes(), deadline).await {
            Ok(Head::Subscribe(request)) => request,
            Ok(Head::Other(read)) => {
                let served = Box::pin(to_hyper(io, read.freeze(), service, server, graceful));
                return served.await.map(|()| None);
            }
            Err(HeadError::Closed | HeadError::TimedOut) => return Ok(None),
            Err(HeadError::Io(e)) => return Err(e.into()),
            Err(HeadError::TooLarge) => {
                let message = format!(
                    "the request head is longer than {} bytes or has more than {MAX_HEADERS} fields",
                    config.max_head_bytes()
                );
                refuse(
                    io,
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    &message,
                    config,
                )
                .await?;
                return Ok(None);
            }
            Err(HeadError::Malformed) => {
                refuse(
                    io,
                    StatusCode::BAD_REQUEST,
                    "malformed request head",
                    config,
                )
                .await?;
                return Ok(None);
            }
        };
        let Subscribe {
            parts,
            rest,
            reusable,
        } = request;
        let head_only = parts.method == Method::HEAD;
        let reusable = match subscribe.subscribe(&parts) {
            Ok((head, events)) if !head_only => {
                // The request and whatever came behind it are freed before the stream idles.
                drop((parts, rest));
                let head = encode_head(&head, Framing::UntilClose);
                return Ok(Some(Drive::new(
                    io,
                    head,
                    events,
                    config.max_discard_bytes(),
                )));
            }
            Ok((head, events)) => {
                drop(events);
                io.write_all(&encode_head(&head, Framing::NoBody { reusable }))
                    .await?;
                reusable
            }
            Err(answer) => {
                let limit = config.max_answer_bytes();
                let timeout = server.handshake_timeout();
                write_answer(&mut io, answer, head_only, reusable, limit, timeout).await?
            }
        };
        if !reusable {
            linger_close(io, config).await;
            return Ok(None);
        }
        buf = rest;
    }
}

/// Hands the connection to hyper, `read` replayed first.
async fn to_hyper<T: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    io: StallGuard<T>,
    read: Bytes,
    service: impl HttpService,
    server: &ServerConfig,
    graceful: Option<Watcher>,
) -> Result<(), BoxError> {
    // A complete head is among the replayed bytes, so the first request is there at once:
    // hyper's header-read timeout bounds every later head.
    let stream = Rewind::new(io.into_inner(), read);
    let io = TokioIo::new(StallGuard::new(stream, server.write_stall_timeout()));
    let builder = push_net::http_builder(server);
    let connection = builder.serve_connection_with_upgrades(io, service);
    match graceful {
        Some(graceful) => graceful.watch(connection.into_owned()).await,
        None => connection.await,
    }
}

/// Answers `status` with `message` and closes the connection.
async fn refuse<T: AsyncRead + AsyncWrite + Unpin>(
    mut io: StallGuard<T>,
    status: StatusCode,
    message: &str,
    config: &Config,
) -> std::io::Result<()> {
    let limit = config.max_answer_bytes();
    let timeout = config.server().handshake_timeout();
    write_answer(
        &mut io,
        refusal(status, message),
        false,
        false,
        limit,
        timeout,
    )
    .await?;
    linger_close(io, config).await;
    Ok(())
}

/// Closes after a last answer: the write side first, then what the peer still sends is read
/// and dropped (up to [`Config::max_discard_bytes`], for at most a second), so that unread
/// bytes do not make the kernel reset the connection before the peer has read the answer.
async fn linger_close<T: AsyncRead + AsyncWrite + Unpin>(mut io: StallGuard<T>, config: &Config) {
    if io.shutdown().await.is_err() {
        return;
    }
    let mut left = config.max_discard_bytes();
    let drain = async {
        let mut scratch = [0u8; 512];
        while left > 0 {
            match io.read(&mut scratch).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// How long a closing connection's late bytes are read and dropped.
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);
