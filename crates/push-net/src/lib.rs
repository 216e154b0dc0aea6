//! The connection handling every push server shares: how a socket is listened on, accepted,
//! and closed when its peer does not play along.
//!
//! A push server holds connections for a long time, so it must not hold the ones that cost it
//! without serving anyone. This crate is the one place where that is decided, for the SSE,
//! long-poll, WebSocket and HTTP/2 push servers alike (the example servers use
//! it):
//!
//! - [`bind`] listens with a backlog sized for bursts of reconnects ([`ServerConfig::with_backlog`]).
//! - [`Acceptor::accept`] is the one accept loop: a connection that failed before it was
//!   accepted is skipped, and running out of file descriptors pauses accepting (5 ms doubling
//!   to 1 s) instead of ending the server or spinning; it serves again as soon as descriptors
//!   are free.
//! - [`StallGuard`] fails a write that has made no progress for the
//!   [write-stall timeout](ServerConfig::with_write_stall_timeout), and [`configure_stream`] sets
//!   `TCP_USER_TIMEOUT` to the same limit. Both count only from the moment the socket is full:
//!   a client that never reads is closed once its receive window and our send buffer are full
//!   and then the limit has passed. On a busy stream that is soon; on a quiet one, where only
//!   small keep-alives flow, filling those buffers can take a long time (hours), and until then
//!   the connection is held. HTTP/2 streams whose client keeps reading the socket but never
//!   opens its flow-control window are not covered yet: nothing waits on the socket.
//! - The [handshake timeout](ServerConfig::with_handshake_timeout) bounds the time to a first
//!   complete request on every path (hyper: [`serve_http`]; h2: [`h2_handshake`]; push-ws:
//!   its accept), and the [body timeout](ServerConfig::with_body_timeout) a publish body
//!   ([`read_body`]).
//! - [`Http2Limits`] are the HTTP/2 settings every server advertises: bounded concurrent
//!   streams, header lists, resets and send buffers ([`http_builder`], [`h2_builder`]).
//! - [`Rewind`] hands a connection on after its first bytes were read (to pick who serves it),
//!   replaying them first, optionally through a [`ReadCheck`] (push-ws meters incoming frames
//!   with one); [`HttpService`] names once what a hyper connection asks of its service.
//!
//! It does no protocol work: hyper, h2 and tungstenite do that; this crate decides the limits
//! and the socket's life.
//!
//! ```text
//!  bind(addr) ─► Acceptor::accept ─► (TcpStream: NODELAY, TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT) ─► task
//!                   │ EMFILE/ENFILE: pause 5 ms … 1 s, keep serving
//!                   ▼
//!   serve_http / h2_handshake: StallGuard(stream), first request within the handshake
//!   timeout, HTTP/2 limits advertised; read_body: size and time limit
//!   push_ws::accept: handshake timeout only; the caller wraps the stream in StallGuard
//! ```
//!
//! ```no_run
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use push_net::{Acceptor, ServerConfig, serve_http};
//!
//! # async fn run() -> std::io::Result<()> {
//! let config = ServerConfig::default();
//! let mut acceptor = Acceptor::bind("127.0.0.1:8080".parse().unwrap(), &config)?;
//! loop {
//!     let (stream, _) = acceptor.accept().await?;
//!     let config = config.clone();
//!     tokio::spawn(async move {
//!         let service = hyper::service::service_fn(|_request| async {
//!             Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"hi"))))
//!         });
//!         // A timeout or a broken connection concerns this peer only.
//!         let _ = serve_http(stream, service, &config, None).await;
//!     });
//! }
//! # }
//! # fn main() { let _ = run; }
//! ```
//!
//! # Crate features
//! - `server`: [`http_builder`], [`serve_http`], [`read_body`] for hyper 1 servers.
//! - `h2`: [`h2_builder`], [`h2_handshake`] for servers on the `h2` crate; [`H2Stream`] (an
//!   HTTP/2 stream as a byte stream) and [`OnConnect`] (an RFC 8441 extended CONNECT's stream
//!   handed from a connection driver to the service that answered it).
//!
//! # Errors
//! Plain [`std::io::Error`]s: [`std::io::ErrorKind::TimedOut`] for a limit that ran out, the
//! socket's or the protocol crate's error otherwise; [`BodyError`] for a body that was not read.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod accept;
mod config;
#[cfg(feature = "h2")]
mod h2;
#[cfg(feature = "h2")]
mod h2_stream;
mod rewind;
#[cfg(feature = "server")]
mod serve;
mod stall;

pub use accept::{Acceptor, MAX_ACCEPT_PAUSE, MIN_ACCEPT_PAUSE, bind, configure_stream};
pub use config::{Http2Limits, ServerConfig};
#[cfg(feature = "h2")]
pub use h2::{H2Request, h2_builder, h2_handshake};
#[cfg(feature = "h2")]
pub use h2_stream::{ConnectSender, H2Stream, OnConnect};
pub use rewind::{ReadCheck, Rewind};
#[cfg(feature = "server")]
pub use serve::{BodyError, BoxError, HttpService, http_builder, read_body, serve_http};
pub use stall::StallGuard;
