//! STOMP 1.2, 1.1 and 1.0 for the push broker: a sans-IO streaming codec written on `nom`.
//!
//! The codec performs no I/O, reads no clock and spawns nothing. The [`Decoder`] is fed bytes
//! as they arrive and yields complete [`Item`]s (frames and heart-beats); a frame split
//! anywhere is *not* an error, it is `Ok(None)` until the rest arrives. [`encode`] writes a
//! [`Frame`] for a [`Version`]; the two are a pair (property-tested over every chunking, and
//! fuzzed).
//!
//! ```text
//!   bytes ──► Decoder::feed ──► Decoder::poll ──► Item::Frame(Frame) / Item::Heartbeat
//!   Frame ──► encode(frame, version, &mut out) ──► b"MESSAGE\ndestination:/topic/a\n\nhi\0"
//!   a frame for many recipients: encode_head (each one's headers) + encode_tail (shared, once)
//! ```
//!
//! ```
//! use push_stomp::{Command, Decoder, Item, Limits};
//!
//! let mut decoder = Decoder::new(Limits::default());
//! decoder.feed(b"\nSEND\ndestination:/topic/news\ncontent-length:3\n\na\0b");
//! assert_eq!(decoder.poll()?, Some(Item::Heartbeat));
//! assert_eq!(decoder.poll()?, None); // incomplete, not an error
//! decoder.feed(b"\0");
//! let Some(Item::Frame(frame)) = decoder.poll()? else { panic!("a frame") };
//! assert_eq!(frame.command(), Command::Send);
//! assert_eq!(frame.header("destination"), Some("/topic/news"));
//! assert_eq!(&frame.body()[..], b"a\0b"); // content-length bodies may hold NUL
//! # Ok::<(), push_stomp::Error>(())
//! ```
//!
//! # What the codec follows
//! - Every command of the specification; headers in wire order, a repeated header kept but
//!   the first one counting ([`Frame::header`]).
//! - Escaping per version (1.2: `\r` `\n` `\c` `\\`; 1.1 without `\r`; 1.0 none), never in
//!   `CONNECT`, `STOMP` and `CONNECTED`; an undefined escape is an error.
//! - `content-length` bodies that may hold NUL, NUL-terminated bodies otherwise; lines ending in
//!   LF or CRLF; ends of line between frames as heart-beats.
//! - [`Limits`] on the frame size, the header count and a header's length, each refused with
//!   its own [`Error`], as soon as the bytes prove it.
//!
//! # The server session
//! [`Session`] (feature `session`) is one connection's server side on a `push_core::Broker`,
//! sans-IO: bytes and the time in ([`Session::handle_bytes`], [`Session::handle_timeout`]),
//! frames and a close out ([`Session::poll_transmit`]), the next deadline from
//! [`Session::poll_timeout`].
//!
//! - `CONNECT` / `STOMP`: the highest shared version (no higher than the WebSocket
//!   subprotocol's), heart-beats as the specification negotiates them (a client silent for
//!   twice its interval gets an `ERROR` and the close). Credentials: an `Authorization` header
//!   in the frame, or a `passcode` taken as a bearer token, replace the upgrade request's
//!   `Authorization` for every authorization of the connection. `push_http::Hooks::authenticate`
//!   accepts them before `CONNECTED`: a bad login is an `ERROR` at `CONNECT` (frames sent
//!   after it are not handled), not at the first `SUBSCRIBE`.
//! - `SUBSCRIBE`: `destination` `/topic/NAME` or a bare topic name (the hub's topics, shared with
//!   every transport), where `NAME` is read as a Mercure `topic` selector: `*` selects every
//!   topic and a URI template (`/topic/books/{id}`) the topics it expands to; `SEND` names one
//!   topic, never a selector. `/queue/…` and the other queue prefixes are refused with an `ERROR`
//!   saying competing consumers are not supported. Each is authorized by `push_http::Hooks`
//!   with the request head, like every transport; a refusal is an `ERROR` with its message.
//!   [`RESUME_HEADER`] (`x-resume-after`) carries the `message-id` of the last message the
//!   client has (or an id the broker places, such as a Mercure id seen over SSE: see
//!   `push_core::Broker::place`): delivery continues right after it, and a loss is a `MESSAGE` on the
//!   subscription marked with [`GAP_HEADER`] (`x-gap`: why), whose `message-id` is where the
//!   delivery continues. `ack`: `auto`, `client` (cumulative), `client-individual`; in the
//!   client modes at most [`Config::prefetch`] messages await an `ACK`; a `NACK` redelivers
//!   from that message on.
//! - `MESSAGE`: `subscription`, `message-id` (the event's cursor), `destination` (`/topic/` and
//!   the event's topic), `content-type`, `content-length`, `ack` (1.2, client modes),
//!   `x-event-type` / `x-event-id` when the event has them. Everything but `subscription` and
//!   `ack` is the same for every subscriber, so it is encoded once per event and version
//!   ([`encode_tail`], cached in the broker's shared event) and each session writes only its
//!   head ([`encode_head`]) beside it: [`Transmit::Message`].
//! - `SEND` publishes (authorized by a [`Publish`] policy, [`NoPublish`] by default), `RECEIPT`
//!   answers any frame with `receipt` once it took effect, `BEGIN` / `COMMIT` / `ABORT` hold
//!   `SEND`, `ACK` and `NACK` until the commit, `DISCONNECT` is answered with its receipt and
//!   the close. Every protocol error is an `ERROR` (with the `receipt-id` of the frame that
//!   caused it), then the close.
//!
//! # Errors
//! Malformed input and passed limits (see [`Error`]); never an incomplete frame. A decoding
//! error is final for the stream, as STOMP has no way to find the next frame.
//!
//! # Crate features
//! - `session`: [`Session`], [`Config`], [`Publish`] (push-core, push-http, http).
//! - `server`: [`server::Endpoint`] and [`server::handler`], STOMP over WebSocket on push-ws
//!   (tokio, hyper).
//! - `__fuzz` (private): the fuzz entry points; not part of the API.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod decode;
mod encode;
mod error;
mod escape;
mod frame;
mod limits;

#[cfg(feature = "__fuzz")]
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::fuzzing::stomp_decode;
}
#[cfg(feature = "__fuzz")]
mod fuzzing;

#[cfg(feature = "session")]
mod config;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "session")]
mod session;

#[cfg(feature = "session")]
pub use config::Config;
pub use decode::{Decoder, parse};
pub use encode::{HEARTBEAT, encode, encode_head, encode_tail};
pub use error::Error;
pub use frame::{Command, Frame, Item, Version};
pub use limits::Limits;
#[cfg(feature = "session")]
pub use session::publish::{NoPublish, OpenPublish, Publish};
#[cfg(feature = "session")]
pub use session::subscription::{GAP_HEADER, RESUME_HEADER};
#[cfg(feature = "session")]
pub use session::{Session, Transmit};
