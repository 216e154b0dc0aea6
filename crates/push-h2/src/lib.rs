//! HTTP/2 server push (`PUSH_PROMISE`) over [`h2::server`] that cannot send an invalid frame, with
//! 103 Early Hints when push is off and "push the bytes, then notify over SSE".
//!
//! h2's raw API returns `Ok` and then sends a frame the client must reject — a connection error
//! that kills every stream — for a path-only push URI, a push after the parent stream ended, a
//! 1xx after the final response and a 101. This crate makes those impossible:
//!
//! - [`PushRequest`] is valid by construction: `GET`/`HEAD`, no body, an absolute URI whose
//!   scheme is the connection's and whose authority the server is authoritative for
//!   ([`PushConfig::authorities`], the parent's `:authority` by default), request headers copied
//!   from the parent ([`PushConfig::copy_headers`]), values checked.
//! - [`ParentStream`] wraps `SendResponse` in a state machine ([`ParentState`]): pushes before
//!   the response and while the body streams, never after the final frame; 1xx only before the
//!   final response; never 101.
//! - [`PushConnection`] remembers, per connection, that the client disabled push (h2 only says
//!   so in an error's text), counts pushed streams in flight against the client's
//!   `SETTINGS_MAX_CONCURRENT_STREAMS` (and lowers the limit on REFUSED_STREAM), and keeps the
//!   [`PushDiary`] of (path, ETag) pairs so nothing is pushed twice. A [`CacheDigest`] cookie
//!   (Golomb–Rice coded, as h2o's CASPer) skips what the client has across connections.
//! - A skipped push is a [`PushOutcome::NotPushed`] with a [`SkipReason`], never an error.
//! - [`ParentStream::preload`] pushes what `Link: <…>; rel=preload` names (`nopush` opts out),
//!   and sends 103 Early Hints with the same links when push is off.
//! - [`ParentStream::push_and_notify`] pushes a resource on an SSE stream, then sends an event
//!   naming its URL.
//!
//! - [`handshake`] starts a server connection with safe settings by default ([`Http2Limits`]:
//!   100 concurrent streams, 16 KiB header lists, 20 pending-accept resets, 64 KiB of send
//!   buffer per stream) and a deadline for the preface and first request; writes that make no
//!   progress for 30 s close the connection ([`ServerConfig`], shared with every push server
//!   through `push-net`). `h2::server::handshake` alone advertises no stream limit: one client
//!   held 336 MB with 50,000 streams.
//!
//! - [`drive`] runs a whole connection (handshake, accept loop, idle GOAWAY): the requests a
//!   [`Pusher`] accepts are answered on their [`ParentStream`], **every other request by any
//!   `tower_service::Service`** — the transports' `Endpoint`s (`push_sse::server::Endpoint`,
//!   `push_longpoll::server::Endpoint`) or an axum `Router` holding them. That is the one way to
//!   combine HTTP/2 push with the other transports: h2 connections go to this driver (hyper
//!   exposes no `PUSH_PROMISE`), HTTP/1.1 ones to hyper with the same service.
//!
//! It does not implement HTTP/2: framing, HPACK, flow control and settings are h2's. It runs on
//! tokio (h2's I/O is tokio's); the policy parts ([`PushRequest`], [`PushDiary`],
//! [`CacheDigest`], [`preload_links`]) do no I/O. Header grammars (`Link`, `Cookie`) and the
//! event-stream head are push-http's, shared with the other crates.
//!
//! ```text
//!   accept ─► (Request, SendResponse) ─► ParentStream::new(&PushConnection, ..)
//!     preload(Link headers, resolve) ─► PUSH_PROMISE ×n  |  103 Early Hints
//!     send_response / send_data / send_event             ─► HEADERS, DATA
//!     Preloads::send / PushedStream::send                 ─► pushed HEADERS, DATA (stops on RST_STREAM)
//! ```
//!
//! ```
//! use http::{Method, Request, uri::Scheme};
//! use push_h2::{Error, PushConfig, PushContext, PushRequest, preload_links};
//!
//! // The response names what to push.
//! let mut headers = http::HeaderMap::new();
//! headers.append("link", r#"</style.css>; rel=preload; as=style, <app.js>; rel="preload"; nopush"#.parse().unwrap());
//! let links = preload_links(&headers);
//! assert!(links[0].is_push_candidate());
//! assert!(links[1].is_preload() && links[1].is_nopush());
//!
//! // Push requests take their scheme from the connection, their authority from the parent.
//! let config = PushConfig::new(Scheme::HTTPS);
//! let parent = Request::get("https://example.com/index.html")
//!     .header("accept-encoding", "br")
//!     .body(())?;
//! let context = PushContext::new(&config, &parent);
//! let push = PushRequest::get(&context, links[0].target())?;
//! assert_eq!(push.uri(), "https://example.com/style.css");
//! assert_eq!(push.headers()["accept-encoding"], "br");
//!
//! // What HTTP/2 forbids cannot be built.
//! assert!(matches!(PushRequest::new(&context, Method::POST, "/x"), Err(Error::UnsafeMethod(_))));
//! assert!(matches!(PushRequest::get(&context, "https://other.example/x"), Err(Error::ForeignAuthority(_))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A server combines push with any tower service through [`drive`] (see its test
//! `tests/driver.rs`); a server that wants the accept loop in its own hands accepts a connection,
//! then for each request wraps its stream; see `examples/push_server.rs` for the whole program:
//!
//! ```no_run
//! # async fn serve(io: tokio::net::TcpStream) -> Result<(), Box<dyn std::error::Error>> {
//! use bytes::Bytes;
//! use http::{Response, uri::Scheme};
//! use push_h2::{ParentStream, PushConfig, PushConnection, Resource};
//!
//! use push_h2::ServerConfig;
//!
//! // Safe HTTP/2 settings and the handshake deadline; `None`: the client left without a request.
//! let (mut connection, mut next) = push_h2::handshake(io, &ServerConfig::default()).await?;
//! let pushes = PushConnection::new(PushConfig::new(Scheme::HTTP));
//! while let Some((request, respond)) = next.take() {
//!     pushes.observe(&connection);
//!     let mut parent = ParentStream::new(&pushes, &request, respond);
//!     let mut page = Response::new(());
//!     page.headers_mut().insert("link", "</style.css>; rel=preload; as=style".parse()?);
//!     let preloads = parent.preload(page.headers(), |_push| {
//!         Some(Resource { response: Response::new(()), body: Bytes::from_static(b"p{}") })
//!     })?;
//!     parent.send_response(page, false)?;
//!     parent.send_data(Bytes::from_static(b"<!doctype html>"), true)?;
//!     preloads.send_now()?;
//!     // A connection with no open stream for `DEFAULT_IDLE_TIMEOUT` is closed (GOAWAY).
//!     next = push_h2::accept_until_idle(&mut connection, push_h2::DEFAULT_IDLE_TIMEOUT)
//!         .await
//!         .transpose()?;
//! }
//! # Ok(())
//! # }
//! # fn main() { let _ = serve; }
//! ```
//!
//! # Errors
//! One `#[non_exhaustive]` [`Error`] (the crate has the server role only): requests HTTP/2
//! forbids, calls in the wrong stream state (both caught before anything is queued),
//! undecodable digests, SSE encoding, [`Error::Io`] for a failed handshake and [`Error::H2`]
//! for connection failures. It implements `push_http::HttpStatus` (400 for a digest, 408 for a
//! stalled window, 500 otherwise) and keeps its `source()`.
//!
//! # Cancel safety
//! Every method of [`ParentStream`] except the async ones queues frames synchronously: when it
//! returns, the frame is queued or nothing was. [`PushedStream::send`], [`Preloads::send`],
//! [`ParentStream::push_and_notify`] and [`ParentStream::with_processing`] may be dropped at an
//! await point: what was queued is sent, nothing more; a [`PushedStream`] dropped before its body
//! was queued is reset with CANCEL and leaves the in-flight count.
//!
//! # Configuration
//! [`PushConfig`]: builder setters `with_x`, getters `x()`; the server's connection settings are
//! push-net's [`ServerConfig`].
//!
//! # Crate features
//! None public: the crate needs h2, whose I/O is tokio's. `__fuzz` (private) builds the fuzz
//! entry points for the fuzz targets and the seed-replay test.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod config;
mod connection;
mod diary;
mod digest;
mod driver;
mod error;
mod hints;
mod idle;
mod link;
mod notify;
mod parent;
mod policy;
mod pushed;
mod request;
mod resolve;

pub use config::PushConfig;
pub use connection::PushConnection;
pub use diary::PushDiary;
pub use digest::{CacheDigest, DEFAULT_UNIVERSE_BITS, MAX_DIGEST_ENTRIES, MAX_DIGEST_LEN};
pub use driver::{Pusher, RequestBody, drive};
pub use error::Error;
pub use hints::{Preloads, Resource};
pub use idle::{DEFAULT_IDLE_TIMEOUT, accept_until_idle};
pub use link::{MAX_LINKS, PreloadLink, preload_link_header, preload_links};
pub use notify::{Notified, PUSHED_EVENT, notify_event};
pub use parent::{ParentState, ParentStream};
pub use policy::{PushStats, SkipReason};
pub use pushed::{PushDelivery, PushOutcome, PushedStream};
pub use request::{MAX_TARGET_LEN, PushContext, PushRequest};

/// The server side of the connection, shared with every push server (`push-net`).
pub use push_net::{
    H2Request, Http2Limits, ServerConfig, StallGuard, h2_builder as server_builder,
    h2_handshake as handshake,
};

/// An extended CONNECT's stream (RFC 8441) as [`drive`] hands it to the service that answered
/// it 2xx, and the byte stream it becomes (`push-net`).
pub use push_net::{H2Stream, OnConnect};

/// Entry points for the fuzz targets and their seed replay (private feature `__fuzz`); not part
/// of the API.
#[cfg(feature = "__fuzz")]
#[doc(hidden)]
pub mod __fuzz;
