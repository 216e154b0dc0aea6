//! Server-Sent Events (`text/event-stream`): an incremental sans-IO codec, a server
//! [`Endpoint`](server::Endpoint) for any tower stack, and a reconnecting
//! [`EventSource`](client::EventSource) client.
//!
//! The codec ([`Decoder`], the `encode_*` functions) performs no I/O, reads no clock and spawns
//! nothing: the same code runs under tokio, in a blocking client, in a test or in a fuzzer. The
//! decoder is fed bytes as they arrive and yields complete [`Decoded`] items; a line or event
//! split across chunks is *not* an error, it is `Ok(None)` until the rest arrives. It implements
//! the WHATWG "event stream interpretation" exactly (BOM, CR / LF / CRLF line endings even when
//! a CR ends a chunk, one stripped leading space, comments, persistent last event id, `retry`
//! digits only, U+FFFD replacement for invalid UTF-8), and bounds its memory with the limits of
//! a [`Config`]. What browsers accept, it accepts.
//!
//! ```text
//!   bytes ──► Decoder::feed / feed_bytes ──► poll_owned  ──► Decoded::Event(push_core::Event)
//!                                      ├──► poll_shared ──► Decoded::Event(SharedEvent)
//!                                      ├──► poll_ref    ──► Decoded::Event(EventRef<'_>)
//!                                      └──► (any of them) ─► Decoded::Retry(ms)
//!   Event ──► encode_event ──► b"event: tick\nid: 7\ndata: hi\n\n"
//!   Published ──► encode_published ──► bytes with the cursor as `id` (cached per event)
//!
//!   server (feature `server`):  http::Request ──► Endpoint (hooks: topics, authorize)
//!        ──► broker.subscribe(selector, Last-Event-ID, access) ──► EventStream ──► Body
//!   client (feature `client`):  EventSource: Stream<Item = Result<client::Item, client::Error>>
//!        decisions by EventSourceState (sans-IO): bytes, ends, now in; items, Reconnect out
//! ```
//!
//! ```
//! use push_sse::{Decoded, Decoder};
//!
//! let mut decoder = Decoder::new();
//! decoder.feed(b"event: greeting\nid: 5eed-1\ndata: hel");
//! assert_eq!(decoder.poll_owned(), Ok(None)); // incomplete, not an error
//! decoder.feed(b"lo\n\n");
//! let Some(Decoded::Event(event)) = decoder.poll_owned().unwrap() else {
//!     panic!("expected an event");
//! };
//! assert_eq!(event.event.as_deref(), Some("greeting"));
//! assert_eq!(&event.data[..], b"hello");
//! assert_eq!(event.id.as_deref(), Some("5eed-1"));
//! assert_eq!(decoder.poll_owned(), Ok(None));
//! ```
//!
//! # Words
//! - [`Decoded`] is what the **decoder** yields: an event or a `retry`. The event's form is the
//!   method's: [`Decoder::poll_owned`] gives a [`push_core::Event`] (its own allocations),
//!   [`Decoder::poll_shared`] a [`SharedEvent`] (shares the input chunk, can be kept),
//!   [`Decoder::poll_ref`] an [`EventRef`] (borrowed until the next call; the fastest).
//! - [`client::Item`] is what a **client** yields: an event, or the server's `retry` as a
//!   `Duration`.
//! - `Config` and `Error` are per role: [`Config`] and [`Error`] for the codec (limits, codec
//!   errors), [`server::Config`] / [`server::Error`], [`client::Config`] / [`client::Error`].
//!
//! # Design
//! - Lines are found with a hand-tuned `memchr` scan (short lines a word at a time, long ones
//!   with `memchr2`), which no parser combinator matches; the field grammar of a line (`name`,
//!   the optional space, the value, `retry` digits) is a small `nom` parser on the general path,
//!   with the WHATWG ABNF in its docs. The usual `data:` / `id:` / `event:` lines are recognised
//!   from their first word before the parser is called. A long partial line is scanned once,
//!   not once per chunk.
//! - What is copied: [`Decoder::feed`] copies its slice into the input buffer;
//!   [`Decoder::feed_bytes`] reads a [`bytes::Bytes`] chunk in place and copies only a line that
//!   continues into the next chunk. [`Decoder::poll_owned`] copies the data, type and id of each
//!   event; [`Decoder::poll_shared`] slices single-line data out of the chunk (a reference
//!   count) and keeps a type or id of up to 30 bytes inline; [`Decoder::poll_ref`] copies and
//!   counts nothing. All three give the same values and may be mixed.
//! - A line that spans chunks is held by what its first bytes say it is: a comment or an
//!   ignored field is dropped as it arrives (a 64 MB comment costs the chunk being read, no
//!   more); a `data` line is kept while the event may still grow; an `event`, `id` or `retry`
//!   line up to the line limit. Complete lines obey the same limits, so where chunks end never
//!   changes the outcome.
//! - UTF-8 is validated with SIMD (`simdutf8`), with no `unsafe` in this crate. Event types are
//!   decoded once and remembered.
//! - The encoder validates first, reserves once, and splits data into `data:` lines with `memchr`.
//! - Decoding and encoding are a pair: a property test checks `decode(encode(events))` against a
//!   reference model at every chunking.
//! - Serving: one SSE state type, [`server::EventStream`], turns a subscription into frames
//!   (events with their cursor as `id`, gaps, keep-alives, the end at an authorization's expiry
//!   or at shutdown). The [`server::Endpoint`] is a `tower_service::Service` that reads the
//!   topics and the grant through [`push_http::Hooks`], resumes from `Last-Event-ID`, and
//!   answers with a [`server::Body`] around an `EventStream`; a leaner serving path drives an
//!   `EventStream` itself. There is no second SSE writer.
//!
//! # Serving
//! ```
//! # #[cfg(all(feature = "server", feature = "client"))] {
//! use push_broker::MemoryBroker;
//! use push_sse::server::{Config, Endpoint};
//!
//! let broker = MemoryBroker::default();
//! let sse = Endpoint::new(broker.clone(), Config::default()); // hooks: push_http::Open
//! let app: axum::Router = axum::Router::new().route_service("/events", sse);
//! # let _ = app; }
//! ```
//! Requests name their topics with `?topic=` (the default [`push_http::Hooks::topics`]) and
//! resume with a `Last-Event-ID` header or a `lastEventID` / `last_event_id` query parameter.
//! With hooks of your own, [`server::Endpoint::with_hooks`] decides the topics and the
//! [`push_core::Access`] of each request (a JWT's topics and expiry, say): private events reach
//! only the subscribers granted them, and the stream ends when the grant expires.
//!
//! # Errors
//! - [`Error`], the codec's: decoding fails only when a limit of the [`Config`] is exceeded (the
//!   decoder then stays failed); every other byte string is a valid event stream. Encoding
//!   fails for values that cannot be written without injecting a field: CR, LF or NUL in the
//!   type or id, CR or LF in a comment, and data that is not UTF-8. [`check_encodable`] refuses
//!   exactly what [`encode_published`] refuses.
//! - [`server::Error`]: a malformed resume cursor (400) or the broker's refusal (503); the
//!   endpoint answers it as text with its status ([`push_http::HttpStatus`]).
//! - [`client::Error`]: transient ones ([`client::Error::is_transient`]) are followed by a
//!   reconnection; final ones end the stream. Each keeps its cause as `source()`.
//!
//! # Crate features
//! - `server`: [`server::Endpoint`], [`server::EventStream`] and [`server::Body`] (http,
//!   http-body, tower-service, push-http, tokio's timer).
//! - `client`: [`client::EventSource`] over hyper (hyper, hyper-util, tokio), with its sans-IO
//!   [`client::EventSourceState`].
//! - `tls`: `https://` for the client (rustls with the ring provider, the Mozilla roots from
//!   `webpki-roots`, and more roots with `EventSource::with_root_certificate`).
//!
//! The codec needs none of them: with default features the crate depends on `push-core`,
//! `bytes`, `memchr`, `nom`, `simdutf8` and `arrayvec` only.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "client")]
pub mod client;
mod config;
mod decode;
mod encode;
mod error;
mod field;
mod frame;
mod interpret;
mod last_id;
mod line;
mod scan;
#[cfg(feature = "server")]
pub mod server;
mod types;
mod utf8;

pub use config::{Config, DEFAULT_MAX_EVENT_LEN, DEFAULT_MAX_LINE_LEN};
pub use decode::{Decoded, Decoder};
pub use encode::{
    check_encodable, encode_comment, encode_event, encode_published,
    encode_published_with_event_id, encode_retry,
};
pub use error::Error;
pub use frame::{EventRef, SharedEvent};

// private: fuzz targets and the crate's own seed-replay and property tests; not part of the API.
#[cfg(feature = "__fuzz")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;
