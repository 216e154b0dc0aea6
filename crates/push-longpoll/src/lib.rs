//! Long polling done right: a client asks "anything after cursor C?"; the server answers at once
//! if there is, or holds the request until an event arrives or the hold ends.
//!
//! The core is a deterministic state machine, [`Exchange`]: a parsed [`PollRequest`], the
//! subscription's [`Delivery`](push_core::Delivery) items and the current time go in; a
//! [`Reply`] (status, headers, JSON body) and the hold's deadline come out. It performs no I/O,
//! reads no clock (time is an argument; `clippy.toml` forbids `Instant::now`) and spawns nothing.
//! The optional adapters map it to `http` types, hold with `tokio::time`, serve it with hyper and
//! poll it as a client.
//!
//! ```text
//!   query, Prefer, If-None-Match ──► PollRequest::parse ──► PollRequest ──► Broker::subscribe(since)
//!   Delivery… ──► Exchange::handle_delivery ─┐
//!   "nothing ready" ──► Exchange::handle_idle ├──► Exchange::poll_reply ──► Reply (200 / 204 / 304 / 4xx)
//!   now ──► Exchange::handle_timeout ─────────┘      Exchange::poll_timeout ──► deadline
//! ```
//!
//! # The protocol
//!
//! `GET /poll?topic=T[&topic=U…][&since=CURSOR][&wait=SECONDS]`
//!
//! - `since`: a [`push_core::Cursor`] (absent or empty: from now). The answer is every retained
//!   event after it, in order, batched up to [`Config::max_events`] and [`Config::max_bytes`].
//! - `wait` (or `Prefer: wait=N`, RFC 7240; the query parameter wins): how long the client is
//!   willing to wait. Capped by [`Config::wait_cap`] (25 s by default) and shortened by a little
//!   jitter. `wait=0` is short polling.
//! - Nothing new during the hold: `204 No Content` with the cursor to continue from in the
//!   `Push-Cursor` header ([`CURSOR_HEADER`]); the client simply asks again from it.
//! - Every answer with a cursor carries `ETag: "CURSOR"`. A request whose `If-None-Match` names
//!   the cursor gets `304 Not Modified` instead of `204`. Without `since`, a single
//!   `If-None-Match` tag is the `since`, so plain cache-validating short polling works.
//! - A malformed cursor, wait or topic: `400` with a `text/plain` message saying which
//!   ([`Error`]'s `Display`). A wait above the cap is capped, not refused.
//! - A cursor of another epoch (the server restarted) or older than the history: `"gap": true`,
//!   with the events from where the history starts and a `next` from there.
//!
//! The `200` body (`application/json`; each event's object is encoded once and cached with
//! [`Published::encoded`](push_core::Published::encoded) under this crate's own key, since
//! `push-ws` caches its own message shape under its key):
//!
//! ```text
//! {"events":[{"id":"5eed-2a","event":"message","data":"hello"}, …],"next":"5eed-2a","gap":false}
//! ```
//!
//! `id` is each event's cursor, `event` its type (`"message"` when none), `data` its payload as a
//! JSON string (invalid UTF-8 replaced by U+FFFD). `next` is the cursor to ask with next; `gap`
//! says that events between the request's cursor and the first event were lost (another epoch,
//! evicted history); a gap after some events ends the batch, so `gap` is always about the start.
//! Every answer has `Cache-Control: no-store`.
//!
//! # No lost event, no leaked waiter
//!
//! *Register, then check, then hold*: the subscription is opened from `since` before anything is
//! checked, so an event published between the check and the hold is in the subscription and
//! wakes (or immediately answers) the hold. A client that disconnects while held drops the
//! handler's future, which drops the subscription, which frees its slot in the broker at once.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use push_broker::MemoryBroker;
//! use push_core::{Event, Topic};
//! use push_longpoll::{Config, Exchange, PollRequest, Reply};
//!
//! let broker = MemoryBroker::default();
//! let config = Config::default().jitter(Duration::ZERO);
//! let request = PollRequest::parse(b"topic=news&wait=10", &[], &[]).unwrap();
//! let t0 = Instant::now(); // the caller's clock; the core never reads one
//!
//! // Register, check, hold.
//! let mut sub = broker.subscribe(request.selector(), request.since(), &push_core::Access::public()).unwrap();
//! let mut exchange = Exchange::new(request, &config, t0, 0);
//! while let Some(d) = sub.try_recv() {
//!     exchange.handle_delivery(d);
//! }
//! exchange.handle_idle(sub.cursor());
//! assert!(exchange.poll_reply().is_none(), "held");
//! assert_eq!(exchange.poll_timeout(), Some(t0 + Duration::from_secs(10)));
//!
//! // Nothing came: at the deadline, 204 with the cursor to continue from.
//! exchange.handle_timeout(t0 + Duration::from_secs(10));
//! let reply = exchange.poll_reply().unwrap();
//! assert_eq!(reply.status(), 204);
//! assert_eq!(reply.next(), Some(broker.head()));
//!
//! // The next poll resumes from there and gets what was published in between, at once.
//! broker.publish_now(&Topic::new("news").unwrap(), Event::new("hi")).unwrap();
//! let query = format!("topic=news&since={}", reply.next().unwrap());
//! let request = PollRequest::parse(query.as_bytes(), &[], &[]).unwrap();
//! let mut sub = broker.subscribe(request.selector(), request.since(), &push_core::Access::public()).unwrap();
//! let mut exchange = Exchange::new(request, &config, t0, 0);
//! while let Some(d) = sub.try_recv() {
//!     exchange.handle_delivery(d);
//! }
//! exchange.handle_idle(sub.cursor());
//! let Some(Reply::Events { count: 1, body, .. }) = exchange.poll_reply() else { panic!() };
//! assert!(body.starts_with(br#"{"events":[{"id":""#));
//! ```
//!
//! # Crate features
//! - `http`: [`parse_http`] and [`Reply::into_http`]: `http::Request` / `http::Response`.
//! - `tokio`: [`Handler`], the async handler generic over [`push_core::Broker`], holding with
//!   `tokio::time`.
//! - `hyper`: [`serve`] / [`serve_with`], a server on hyper 1 (`GET /poll`, demo `POST
//!   /publish`), HTTP/1.1 and HTTP/2 with prior knowledge on one port: over HTTP/2 one
//!   connection holds many polls. Connections are handled by `push-net` (accept back-off,
//!   handshake, body and write-stall timeouts, HTTP/2 limits; `push_net::ServerConfig`).
//! - `axum`: [`Reply`] implements axum's `IntoResponse`; an axum route answers with
//!   `Handler::answer(parse_http(&request)?)` (see `tests/axum.rs`).
//! - `client`: [`Client`], the polling loop (re-polls with `next`, backs off on errors, reports
//!   gaps) over a hyper 1 client.
//! - `tls`: `https://` for the client (rustls with the ring provider, the Mozilla roots from
//!   `webpki-roots`, and more roots with `Client::add_root_certificate`).
//!
//! # Errors
//! One enum, [`Error`]: request errors map to `400`, broker errors to `503`
//! ([`Error::status`]); the client adds transport and response errors.
//!
//! # Cancel safety
//! Dropping a [`Handler::handle`] future at any await point is safe and is how a disconnect is
//! handled: nothing was sent, the subscription is released, no event is consumed for anyone else.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod config;
mod error;
mod exchange;
#[cfg(feature = "http")]
mod fuzzing;
mod headers;
mod json;
mod reply;
mod request;

#[cfg(feature = "http")]
mod http;
#[cfg(feature = "tokio")]
mod tokio;

pub use config::Config;
pub use error::Error;
pub use exchange::Exchange;
pub use json::event_json;
pub use reply::{CURSOR_HEADER, JSON_CONTENT_TYPE, Reply, TEXT_CONTENT_TYPE};
pub use request::PollRequest;

#[cfg(feature = "http")]
pub use http::parse_http;
#[cfg(feature = "client")]
pub use tokio::client::{Backoff, Client, ClientEvent, Item};
#[cfg(feature = "tokio")]
pub use tokio::handler::Handler;
#[cfg(feature = "hyper")]
pub use tokio::server::{serve, serve_with};

/// Hooks for the fuzz targets and the seed-replay test; not part of the API.
#[doc(hidden)]
pub mod __fuzz {
    #[cfg(feature = "http")]
    pub use crate::fuzzing::longpoll_headers;

    /// Parses arbitrary bytes as a request: the query, the `Prefer` value and the
    /// `If-None-Match` value, separated by `\n`. Never panics; checks a few invariants.
    pub fn longpoll_request(data: &[u8]) {
        let mut parts = data.splitn(3, |&b| b == b'\n');
        let query = parts.next().unwrap_or_default();
        let prefer = parts.next().unwrap_or_default();
        let inm = parts.next().unwrap_or_default();
        let Ok(request) = crate::PollRequest::parse(query, &[prefer], &[inm]) else {
            return;
        };
        assert!(!request.selector().topics().is_empty());
        let config = crate::Config::default();
        let wait = config.effective_wait(request.wait());
        assert!(wait <= config.get_wait_cap());
        if let Some(since) = request.since() {
            let text = since.to_string();
            assert_eq!(text.parse::<push_core::Cursor>(), Ok(since));
        }
    }
}
