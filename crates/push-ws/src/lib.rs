//! Server push over WebSocket, as a thin layer on [tungstenite] / tokio-tungstenite.
//!
//! The WebSocket protocol itself (framing, masking, UTF-8 checks, the close handshake state) is
//! tungstenite's; this crate never parses a frame. It adds what every user of those crates ends
//! up writing by hand:
//!
//! - **An accept policy** ([`AcceptConfig`]): an [`OriginPolicy`] that refuses cross-site
//!   upgrades with 403 (neither tungstenite nor axum checks `Origin`), subprotocol negotiation,
//!   and limits for untrusted peers: 1 MiB per message, 256 KiB per frame, a 4 KiB read buffer
//!   (tungstenite's default is 128 KiB), so an idle connection costs a few KiB; and two limits
//!   across connections, kept by the [`Metered`] stream under every accepted WebSocket: the
//!   bytes received into unfinished messages beyond each connection's own 8 KiB draw on one
//!   pool for all the connections of a configuration (64 MiB, 1009 beyond, for the connections
//!   over their share only; control frames and bare headers never count), and at most 256
//!   frames per message (1008 beyond).
//!   [`AcceptConfig::check`] is a pure function over an `http::Request`, used by every adapter:
//!   a plain byte stream ([`accept`]), hyper 1.x upgrades (`hyper` feature) and RFC 8441
//!   WebSocket over HTTP/2 (`h2` feature).
//! - **A connection runner** ([`run`]): pings every interval and closes a peer that stays silent
//!   past the deadline ([`Heartbeat`], sans-IO), completes close handshakes from either side,
//!   closes bad input with the right code (1009 too big, 1007 invalid UTF-8, 1002 protocol
//!   error), and only asks the application for the next message when the socket can take it,
//!   so nothing queues without bound.
//! - **Split halves done right** ([`split`]): a cloneable [`WsSender`] and a [`WsReceiver`] for
//!   other tasks, both bounded, with the close handshake completed from either side while the
//!   halves live anywhere (the connection future keeps owning the socket).
//! - **The push protocol** ([`serve`]): a small JSON protocol over any [`push_core::Broker`],
//!   with the same resume cursor as SSE and long polling.
//!
//! ```text
//!  TcpStream ─► accept(AcceptConfig::check) ─► WebSocketStream ─► serve(broker) / run(handler)
//!  hyper Request ─► hyper::upgrade ─────────────────┘   │ ping/pong, close codes, backpressure
//!  h2 extended CONNECT ─► h2::accept ──────────────────┘ ▼
//!                          broker Subscription ─► event / gap JSON (encoded once per event)
//! ```
//!
//! The sans-IO parts — the handshake policy, the command parser, the encoders and the
//! heartbeat — need no runtime:
//!
//! ```
//! use http::Request;
//! use push_core::{Cursor, Event, Published, Topic};
//! use push_ws::{AcceptConfig, Command};
//!
//! let config = AcceptConfig::default().protocols(["push.v1"]);
//! let upgrade = |origin: &str| {
//!     Request::get("/ws")
//!         .header("host", "example.com")
//!         .header("origin", origin)
//!         .header("connection", "Upgrade")
//!         .header("upgrade", "websocket")
//!         .header("sec-websocket-version", "13")
//!         .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
//!         .header("sec-websocket-protocol", "chat, push.v1")
//!         .body(())
//!         .unwrap()
//! };
//! let accepted = config.check(&upgrade("https://example.com")).unwrap();
//! assert_eq!(accepted.protocol(), Some("push.v1"));
//! assert_eq!(accepted.response().status(), 101);
//! assert_eq!(config.check(&upgrade("https://evil.example")).unwrap_err().status(), 403);
//!
//! let Command::Subscribe { topics, from } =
//!     Command::parse(r#"{"type":"subscribe","topics":["news"],"from":"5eed-2a"}"#).unwrap()
//! else { unreachable!() };
//! assert_eq!((topics[0].as_str(), from), ("news", Some(Cursor::new(0x5eed, 0x2a))));
//!
//! let event = Published::new(Topic::new("news").unwrap(), Cursor::new(0x5eed, 0x2b), Event::new("hi"));
//! let (json, _) = push_ws::encode_event(&event);
//! assert_eq!(json, r#"{"type":"event","topic":"news","id":"5eed-2b","data":"hi"}"#);
//! ```
//!
//! # The push protocol
//!
//! Every message is one JSON object in a text frame, with a `type`.
//!
//! Client → server:
//! - `{"type":"subscribe","topics":["a","b"],"from":"CURSOR"}` adds topics to the connection's
//!   selection (`from` is optional). A connection has **one selection and one cursor**: with
//!   `from`, the whole selection resumes after that cursor; without it, it continues from the
//!   connection's cursor (or, for the first subscribe, with live events only).
//! - `{"type":"unsubscribe","topics":["a"]}` removes topics.
//! - Unknown fields are ignored. An unknown `type`, invalid JSON, a bad topic or cursor, or a
//!   binary message is answered with an `error` message; the connection stays up.
//!
//! Server → client:
//! - `{"type":"subscribed","topics":[..],"cursor":"CURSOR"}` answers every (un)subscribe with
//!   the whole selection and the cursor it delivers after.
//! - `{"type":"event","topic":"a","id":"CURSOR","event":"TYPE","data":"TEXT"}` — `event` is
//!   absent when the event has no type. `id` is the cursor to resume from: send it back as
//!   `from` after a reconnect, exactly like an SSE `Last-Event-ID` or a long-poll `since`.
//! - When the data is not UTF-8, `data` is replaced by `"binary":LEN` and **the next frame from
//!   the server is a binary frame** carrying the `LEN` bytes of that event. Nothing else is sent
//!   between the two, so the client pairs them by order.
//! - `{"type":"gap","reason":"overflow|evicted|unknown-epoch|from-future","resume":"CURSOR"}`:
//!   events were lost; what follows is everything after `resume`.
//! - `{"type":"error","message":"..."}`: a command was refused.
//!
//! Close codes: 1000/1005 normal, 1001 broker shutdown, 1013 (or 1008, see
//! [`ConnectionConfig::overflow_close_code`]) when the subscriber fell behind and the broker's
//! overflow policy is to close, 1009 / 1007 / 1002 for bad input, 1009 when a connection holds
//! more than its share of unfinished messages and the shared pool is spent and 1008 for a message in too many frames.
//!
//! # Backpressure
//! The runner pulls the next event from the subscription only when tungstenite's write buffer
//! (bounded by [`AcceptConfig::write_buffer_size`] plus one message) has room. A slow client
//! therefore lags in the broker, whose bounded queue and overflow policy (`push_broker::Overflow`)
//! turn the lag into a `gap` or a close; the publisher and the other clients never wait.
//! Replies to commands are bounded too: past 16 unsent replies the runner stops reading.
//!
//! The overflow policy is applied when the connection next pulls from its subscription, that is
//! when the client reads again. A client that stops reading altogether stops answering pings
//! too (they queue behind our data), so the heartbeat closes it as dead after
//! `ping_interval + pong_timeout`; until then it costs its socket buffers and nothing else.
//!
//! [`accept`] bounds the handshake only; it does not apply push-net's write-stall rule. To
//! close a peer whose socket takes no bytes, wrap the stream before [`accept`] with
//! `push_net::StallGuard` and set `TCP_USER_TIMEOUT` with `push_net::configure_stream`
//! (`push_net::Acceptor::accept` does the latter), as the examples do.
//!
//! # Cancel safety
//! - [`run`] and [`serve`] own the socket; dropping their future drops the connection without a
//!   close frame (the peer sees a reset). To close cleanly, end the handler: return a
//!   [`tungstenite::Message::Close`] from [`Handler::poll_outgoing`], or close the broker.
//! - [`WsSender::send`] and [`WsReceiver::recv`] are cancel safe (a dropped `send` queued
//!   nothing; a dropped `recv` lost nothing). Dropping the [`split`] connection future drops the
//!   connection like dropping [`run`].
//! - [`accept`] and the adapters' upgrade futures are not cancel safe (a half-done handshake is
//!   dropped with its stream); wrap them in a timeout, which is then the only thing lost.
//! - The sans-IO types have no futures.
//!
//! # Crate features
//! - `hyper`: upgrade hyper 1.x HTTP/1.1 requests ([`hyper::upgrade`]), also inside axum
//!   handlers.
//! - `h2`: RFC 8441 WebSocket over HTTP/2 on an `h2` server ([`h2::accept`]).
//!
//! # Errors
//! One enum, [`Error`]: a refused handshake (with its [`Refusal`]), a dead peer, a close
//! timeout, the wrapped tungstenite / I/O / broker / h2 / hyper error. A connection that ended
//! normally returns [`Ended`].
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod accept;
mod accept_io;
mod answer;
mod budget;
mod connection;
mod error;
mod fuzzing;
#[cfg(feature = "h2")]
pub mod h2;
mod handler;
mod heartbeat;
#[cfg(feature = "hyper")]
pub mod hyper;
mod meter;
mod metered;
mod origin;
mod protocol;
mod push;
mod split;

pub use accept::AcceptConfig;
pub use accept_io::{MAX_REQUEST_HEAD, accept};
pub use answer::{Accepted, Refusal};
pub use connection::run;
pub use error::{Ended, Error};
pub use handler::{ConnectionConfig, Handler, Outbox};
pub use heartbeat::{Beat, Heartbeat};
pub use metered::Metered;
pub use origin::OriginPolicy;
pub use protocol::{
    Command, CommandError, encode_error, encode_event, encode_gap, encode_subscribed,
};
pub use push::serve;
pub use split::{SendError, TrySendError, WsReceiver, WsSender, split};

/// Hooks for the fuzz targets and the seed-replay test; not part of the API.
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::fuzzing::ws_client_message;
}
pub use tokio_tungstenite::{WebSocketStream, tungstenite};
