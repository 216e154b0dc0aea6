//! Long polling done right: a client asks "anything after cursor C?"; the server answers at once
//! if there is, or holds the request until an event arrives or the hold ends.
//!
//! The core is a deterministic state machine, [`Exchange`]: a parsed [`PollRequest`], the
//! subscription's [`Delivery`](push_core::Delivery) items and the current time go in; a
//! [`Reply`] (status, headers, JSON body) and the hold's deadline come out. It performs no I/O,
//! reads no clock (time is an argument; `clippy.toml` forbids `Instant::now`) and spawns nothing.
//! Around it, the `server` role's [`server::Endpoint`] (a `tower_service::Service` holding with
//! `tokio::time`; mount it in axum, hyper or any tower stack) and the `client` role's
//! `client::Client` (a `Stream` of the answers' events).
//!
//! ```text
//!   query, split once (push_http::query::Query) ──► Hooks::topics ──► Selector ─┐
//!   the same query, Prefer, If-None-Match ────────────────────────────────────┴► PollRequest::from_parts
//!   Hooks::authorize ──► Access ──► Broker::subscribe(selector, since, access)
//!   Delivery… ──► Exchange::handle_delivery ─┐
//!   "nothing ready" ──► Exchange::handle_idle ├──► Exchange::poll_reply ──► Reply (200 / 204 / 304 / 4xx)
//!   now ──► Exchange::handle_timeout ─────────┘      Exchange::poll_timeout ──► deadline
//! ```
//!
//! # The protocol
//!
//! `GET /poll?topic=T[&topic=U…][&since=CURSOR][&wait=SECONDS]` (the path is where the
//! application mounts the [`server::Endpoint`]; the topics are what its hooks read, by default
//! the `topic` parameters)
//!
//! - `since`: a [`push_core::Cursor`] (absent or empty: from now), or an id the broker
//!   resolves ([`push_core::Broker::place`]: a Mercure update id seen over SSE, say; an id
//!   it cannot place is a gap, then every retained event). The answer is every retained
//!   event after it, in order, batched up to [`server::Config::max_events`] and [`server::Config::max_bytes`].
//! - `wait` (or `Prefer: wait=N`, RFC 7240; the query parameter wins): how long the client is
//!   willing to wait. Capped by [`server::Config::wait_cap`] (25 s by default) and shortened by a
//!   little jitter. `wait=0` is short polling. A `Prefer: wait` is answered with
//!   `Preference-Applied: wait=N`, the hold granted.
//! - An authorization that ends (an [`Access::until`](push_core::Access::until), a token's
//!   expiry) ends the hold then at the latest: the answer is the `204` (or the batch so far),
//!   and the next poll is authorized again.
//! - Nothing new during the hold: `204 No Content` with the cursor to continue from in the
//!   `Push-Cursor` header ([`CURSOR_HEADER`]); the client simply asks again from it.
//! - Every answer with a cursor carries `ETag: "CURSOR"`. A request whose `If-None-Match` names
//!   the cursor gets `304 Not Modified` instead of `204`. Without `since`, a single
//!   `If-None-Match` tag is the `since`, so plain cache-validating short polling works.
//! - A malformed cursor, wait or topic: `400` with a `text/plain` message saying which
//!   ([`server::Error`]'s `Display`); a refusal of the hooks is answered as they say (`401`,
//!   `403`, …). A wait above the cap is capped, not refused.
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
//! `Endpoint`'s response future, which drops the subscription, which frees its slot in the broker at once.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use push_broker::MemoryBroker;
//! use push_core::{Access, Event, Selector, Topic};
//! use push_http::query::Query;
//! use push_longpoll::{Exchange, PollRequest, Reply, server::Config};
//!
//! let broker = MemoryBroker::default();
//! let config = Config::default().with_jitter(Duration::ZERO);
//! let news = Selector::one(Topic::new("news").unwrap());
//! let request = PollRequest::parse(news.clone(), &Query::new(b"wait=10"), &[], &[]).unwrap();
//! let t0 = Instant::now(); // the caller's clock; the core never reads one
//!
//! // Register, check, hold.
//! let mut sub = broker.subscribe(request.selector(), request.since(), &Access::public()).unwrap();
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
//! assert_eq!(reply.status(), http::StatusCode::NO_CONTENT);
//! assert_eq!(reply.next(), Some(broker.head()));
//!
//! // The next poll resumes from there and gets what was published in between, at once.
//! broker.publish_now(&Topic::new("news").unwrap(), Event::new("hi")).unwrap();
//! let query = format!("since={}", reply.next().unwrap());
//! let request = PollRequest::parse(news, &Query::new(query.as_bytes()), &[], &[]).unwrap();
//! let mut sub = broker.subscribe(request.selector(), request.since(), &Access::public()).unwrap();
//! let mut exchange = Exchange::new(request, &config, t0, 0);
//! while let Some(d) = sub.try_recv() {
//!     exchange.handle_delivery(d);
//! }
//! exchange.handle_idle(sub.cursor());
//! let Some(Reply::Events { count: 1, body, .. }) = exchange.poll_reply() else { panic!() };
//! assert!(body.starts_with(br#"{"events":[{"id":""#));
//! ```
//!
//! # Mounting the server
//!
//! [`server::Endpoint`] is built from the broker (owned: `MemoryBroker` is a cheap handle), a
//! [`server::Config`] and, optionally, hooks ([`server::Hooks`], push-http's): which topics a
//! request asks for (default: the `topic` parameters), and what it may have (default: public
//! events for everyone). It is a `tower_service::Service<http::Request<_>>` that never fails
//! (errors are answers), so it mounts as it is, here in axum behind a token check:
//!
//! ```
//! use http::request::Parts;
//! use http::{Request, StatusCode};
//! use http_body_util::BodyExt;
//! use push_broker::MemoryBroker;
//! use push_core::{Access, Event, Selector, Topic};
//! use push_longpoll::server::{Config, Endpoint, Hooks, Refusal};
//! use tower_service::Service;
//!
//! /// Polls need the bearer token; the topics are the `topic` parameters (the default).
//! #[derive(Clone)]
//! struct Token;
//!
//! impl Hooks for Token {
//!     async fn authorize(&self, request: &Parts, _: &Selector) -> Result<Access, Refusal> {
//!         match request.headers.get("authorization") {
//!             Some(v) if v == "Bearer letmein" => Ok(Access::public()),
//!             _ => Err(Refusal::unauthorized("Bearer", "a token is required")),
//!         }
//!     }
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let broker = MemoryBroker::default();
//!     let poll = Endpoint::new(broker.clone(), Config::default()).with_hooks(Token);
//!     let mut app = axum::Router::new().route_service("/poll", poll);
//!     // `axum::serve(listener, app)` serves it; here requests go through the router directly.
//!     let since = broker.head();
//!     broker.publish_now(&Topic::new("news").unwrap(), Event::new("hi")).unwrap();
//!     let request = |token: &str| {
//!         Request::get(format!("/poll?topic=news&since={since}"))
//!             .header("authorization", token)
//!             .body(axum::body::Body::empty())
//!             .unwrap()
//!     };
//!     let refused = app.call(request("Bearer guess")).await.unwrap();
//!     assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
//!     let response = app.call(request("Bearer letmein")).await.unwrap();
//!     assert_eq!(response.status(), StatusCode::OK);
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert!(body.starts_with(br#"{"events":[{"id":""#));
//! }
//! ```
//!
//! The example `server` (`cargo run -p push-longpoll --example server`) serves it with push-net's
//! connection handling (accept back-off, handshake, body and write-stall timeouts, HTTP/2 with
//! prior knowledge) beside a demo `POST /publish`, which no library route offers: publishing
//! is the application's business, behind its own authorization.
//!
//! # Crate features
//! - `server`: [`server::Endpoint`] and [`server::Body`] (tokio's timer, `tower-service`,
//!   `http-body`). [`server::Config`] and [`server::Error`] exist without it: the core uses them.
//! - `client`: [`client::Client`], the polling stream over a hyper 1 client, retrying under
//!   `push_http::client::ReconnectPolicy`.
//! - `tls`: `https://` for the client (rustls with the ring provider, the Mozilla roots from
//!   `webpki-roots`, and more roots with `Client::with_root_certificate`).
//!
//! # Errors
//! One enum per role: [`server::Error`] (a malformed request: `400`; a broker that cannot serve:
//! `503`) and `client::Error` (configuration, transport, or the server's answer; with
//! `is_transient`). Both say their HTTP status with `status()`, as an `http::StatusCode`.
//!
//! # Cancel safety
//! Dropping an [`Endpoint`](server::Endpoint)'s response future at any await point is safe and is
//! how a disconnect is handled: nothing was sent, the subscription is released, no event is
//! consumed for anyone else.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "client")]
pub mod client;
mod exchange;
#[cfg(feature = "__fuzz")]
mod fuzzing;
mod headers;
mod json;
mod reply;
mod request;
pub mod server;

pub use exchange::Exchange;
pub use json::event_json;
/// The split query [`PollRequest::parse`] reads (push-http's).
pub use push_http::query::Query;
pub use reply::{CURSOR_HEADER, JSON_CONTENT_TYPE, Reply, TEXT_CONTENT_TYPE};
pub use request::PollRequest;

/// Hooks for the fuzz targets and the seed-replay tests (private feature `__fuzz`); not part of
/// the API.
#[cfg(feature = "__fuzz")]
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::fuzzing::{longpoll_headers, longpoll_request};
}
