//! Server-Sent Events (`text/event-stream`) framing: an incremental [`Decoder`] and an encoder.
//!
//! The decoder is fed bytes as they arrive and yields complete [`Item`]s; a line or event split
//! across chunks is *not* an error, it is `Ok(None)` until the rest arrives. It implements the
//! WHATWG "event stream interpretation" exactly (BOM, CR / LF / CRLF line endings even when a CR
//! ends a chunk, one stripped leading space, comments, persistent last event id, `retry` digits
//! only, U+FFFD replacement for invalid UTF-8), and bounds its memory with the limits of a
//! [`Config`]: an event's data (a single `data` line may be that long) and an `event`, `id` or
//! `retry` line. Comments and ignored fields are dropped as they arrive, in constant memory at
//! any length: what browsers accept, it accepts.
//!
//! This crate performs no I/O, reads no clock and spawns nothing: the same code runs under tokio,
//! in a blocking client, in a test or in a fuzzer.
//!
//! ```text
//!   bytes ──► Decoder::feed ─► Decoder::poll_item ──► Item::Event(Event { event, data, id })
//!                                                 └─► Item::Retry(ms)
//!   Bytes ──► Decoder::feed_bytes ─► Decoder::poll_ref ──► ItemRef::Event(EventRef)  (borrowed)
//!                                └► Decoder::poll_event ► RawItem::Event(SseEvent)  (shared)
//!   Event ──► encode_event ──► b"event: tick\nid: 7\ndata: hi\n\n"
//!   Published ──► encode_published ──► bytes with the cursor as `id` (cached per event)
//!   bytes, ends, now ──► EventSourceState ──► items; Reconnect { delay, last_event_id, .. }
//! ```
//!
//! ```
//! use push_sse::{Decoder, Item};
//!
//! let mut decoder = Decoder::new();
//! decoder.feed(b"event: greeting\nid: 5eed-1\ndata: hel");
//! assert_eq!(decoder.poll_item(), Ok(None)); // incomplete, not an error
//! decoder.feed(b"lo\n\n");
//! let Some(Item::Event(event)) = decoder.poll_item().unwrap() else {
//!     panic!("expected an event");
//! };
//! assert_eq!(event.event.as_deref(), Some("greeting"));
//! assert_eq!(&event.data[..], b"hello");
//! assert_eq!(event.id.as_deref(), Some("5eed-1"));
//! assert_eq!(decoder.poll_item(), Ok(None));
//! ```
//!
//! # Design
//! - The decoder scans its input with `memchr` for line endings (hand-written rather than `nom`:
//!   it is simpler for this grammar and faster). A long partial line is scanned once, not once
//!   per chunk. Fields are interpreted in place.
//! - What is copied: [`Decoder::feed`] copies its slice into the input buffer;
//!   [`Decoder::feed_bytes`] reads a [`bytes::Bytes`] chunk in place and copies only a line that
//!   continues into the next chunk. [`Decoder::poll_item`] then copies the data, type and id of
//!   each event into its own allocations (keeping an event keeps no input alive).
//! - The zero-copy paths start with [`Decoder::feed_bytes`]. [`Decoder::poll_ref`] yields
//!   [`EventRef`]s: `&str`s into the chunk (single-line data) and the decoder (joined data, the
//!   type, the id), valid until the next call: nothing is copied or counted per event, the
//!   fastest way to decode for a consumer that handles each event at once.
//!   [`Decoder::poll_event`] yields [`SseEvent`]s that can be kept: single-line data lying in the
//!   chunk is a [`bytes::Bytes`] slice of it (a reference count), multi-line data is joined in one
//!   buffer, and a type or id of up to 30 bytes is stored inline in the event: no allocation per
//!   event. Such an event keeps its chunk alive; [`SseEvent::detach`] copies its data. All three
//!   `poll_*` give the same values and may be mixed.
//! - A line that spans chunks is held by what its first bytes say it is: a comment or an
//!   ignored field is dropped as it arrives (a 64 MB comment costs the chunk being read, no
//!   more); a `data` line is kept while the event may still grow; an `event`, `id` or `retry`
//!   line up to the line limit. Complete lines obey the same limits, so where chunks end never
//!   changes the outcome.
//! - Lines lying wholly in the chunk are read in a tight loop; short lines are found a word at a
//!   time, long ones with `memchr2` (AVX2 when the CPU has it). UTF-8 is validated with SIMD
//!   (`simdutf8`), with no `unsafe` in this crate. Event types are decoded once and remembered.
//! - The encoder validates first, reserves once, and splits data into `data:` lines with `memchr`.
//! - Decoding and encoding are a pair: a property test checks `decode(encode(events))` against a
//!   reference model at every chunking.
//!
//! # Errors
//! One enum, [`Error`]. Decoding fails only when a limit of the [`Config`] is exceeded (the
//! decoder then stays failed); every other byte string is a valid event stream. Encoding fails
//! for values that cannot be written without injecting a field: CR, LF or NUL in the type or id,
//! CR or LF in a comment, and data that is not UTF-8. [`check_encodable`] refuses exactly what
//! [`encode_published`] refuses (the type and data: the id sent is the broker's cursor).
//!
//! # Serving and listening
//! - `server` feature: [`subscribe`] turns an `http::Request`'s parts and a push-core
//!   [`Broker`](push_core::Broker) into a streaming `text/event-stream` `http::Response` whose
//!   body, [`SseBody`], writes each event as soon as it is published, with the cursor as its `id`
//!   (so `Last-Event-ID` resumes exactly), gaps as `gap` events, keep-alive comments, and a clean
//!   end on shutdown. It works with hyper 1.x directly and with axum (which accepts any
//!   `http::Response` whose body is an `http_body::Body`). [`query_selector`] reads the topics of
//!   a request's query by one strict rule (the union of every `topic=`); a publish path checks
//!   an event with [`check_encodable`] and refuses (400) what SSE cannot carry.
//! - `client` feature: [`EventSource`], a reconnecting client like the browser's; with `tls`, it
//!   also takes `https://` URLs. Its decisions are made by [`EventSourceState`], a sans-IO state
//!   machine available without any feature: stream bytes, ends and the current time in; items
//!   and [`Reconnect`] decisions (the delay, the `Last-Event-ID` to send) out. The last event id
//!   is the one at the last blank line, as in browsers, so an `id` in a block without data
//!   counts too. An id no HTTP header can carry (a control character: `id: a\x01b` is valid
//!   SSE) is not sent: the reconnection resumes from the most recent id seen that can be, so
//!   events may come again but none is skipped, and says so ([`Reconnect::withheld_id`],
//!   `ClientError::LastEventIdNotSendable`, transient). The reconnection policy ([`ReconnectPolicy`], [`Backoff`]) clamps every delay
//!   into `[min, max]` (a floor, [`DEFAULT_MIN_DELAY`], that a caller can lower, and a cap),
//!   whatever the server's `retry`: `retry: 0` does not make a tight reconnection loop, and no
//!   number a server sends can overflow the arithmetic.
//!
//! # Crate features
//! - `server`: the http response body and helpers (depends on `http`, `http-body`, tokio's timer).
//! - `client`: the reconnecting client (hyper, hyper-util, tokio). Its sans-IO part,
//!   [`EventSourceState`] and [`Backoff`], needs no feature.
//! - `tls`: `https://` for the client (rustls with the ring provider, the Mozilla roots from
//!   `webpki-roots`, and more roots with `EventSource::add_root_certificate`).
//!
//! The codec itself needs none of them: with default features the crate depends on `push-core`,
//! `bytes`, `memchr`, `simdutf8` and `arrayvec` only.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod backoff;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
mod client_error;
mod config;
mod decode;
mod encode;
mod error;
mod field;
mod frame;
mod interpret;
mod last_id;
mod line;
#[cfg(feature = "server")]
mod request;
mod scan;
#[cfg(feature = "server")]
mod server;
mod source;
mod types;
mod utf8;

pub use backoff::{Backoff, DEFAULT_MIN_DELAY, ReconnectPolicy};
#[cfg(feature = "client")]
pub use client::EventSource;
#[cfg(feature = "client")]
pub use client_error::ClientError;
pub use config::{Config, DEFAULT_MAX_EVENT_LEN, DEFAULT_MAX_LINE_LEN};
pub use decode::{Decoder, Item};
pub use encode::{check_encodable, encode_comment, encode_event, encode_published, encode_retry};
pub use error::Error;
pub use frame::{EventRef, ItemRef, RawItem, SseEvent};
#[cfg(feature = "server")]
pub use request::query_selector;
#[cfg(feature = "server")]
pub use server::{
    LAST_EVENT_ID_PARAMS, SseBody, SseConfig, encode_gap, error_response, response, resume_cursor,
    subscribe,
};
pub use source::{EventSourceState, Reconnect};

#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;
