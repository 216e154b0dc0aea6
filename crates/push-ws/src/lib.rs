//! Server push over WebSocket, as a thin layer on [tungstenite] / tokio-tungstenite: a JSON
//! push protocol with the same resume cursor as SSE and long polling, a server
//! [`Endpoint`](server::Endpoint) to mount on any hyper / axum / tower stack, and a reconnecting
//! [`Client`](client::Client).
//!
//! The WebSocket protocol itself (framing, masking, UTF-8 checks, the close handshake state) is
//! tungstenite's; this crate never parses a frame. The push protocol's commands and messages
//! ([`Command`], the `encode_*` functions) and the [`Heartbeat`] are sans-IO and always built;
//! the roles run on tokio and are behind features:
//!
//! - **`server`**: [`server::Endpoint`], a `tower_service::Service` that answers the upgrade
//!   (the Origin policy that neither tungstenite nor axum checks, the version, subprotocols) and
//!   runs the push protocol on the connection, asking the [`Hooks`](server::Hooks) which topics
//!   the URL names and authorizing **every subscribe command** with the upgrade request's head;
//!   limits for untrusted peers (1 MiB per message, 256 KiB per frame, a 4 KiB read buffer, so an
//!   idle connection costs a few KiB; a pool for unfinished messages shared by all the
//!   connections of a [`server::Config`], kept by the [`Metered`](server::Metered) stream under
//!   every WebSocket); heartbeats that close dead peers; close codes for bad input; and a
//!   connection that asks for the next event only when the socket can take it. The same
//!   protocol runs on one connection accepted some other way ([`server::accept`] on a byte
//!   stream, `server::h2::accept` for RFC 8441 on an `h2` connection, then [`server::drive`]),
//!   and any application protocol runs on the same machinery ([`server::run`] with a
//!   [`Handler`](server::Handler), [`server::split`]).
//! - **`client`**: [`client::Client`], a `futures_core::Stream` of the server's messages that
//!   reconnects with `push_http::client::ReconnectPolicy` and resumes from the last cursor.
//!
//! ```text
//!  http::Request ─► server::Endpoint ─ Config::check, hooks.topics/authorize ─► 101 ─┐
//!  TcpStream ─► server::accept ───────────────────────────────────────────────────────┤
//!  h2 extended CONNECT ─► server::h2::accept (or Endpoint behind push_h2::drive) ────┤
//!                  WebSocketStream<Metered<..>> ─► drive: commands ─► hooks.authorize ─► broker
//!                        ping/pong, close codes, backpressure │
//!                  broker Subscription ─► event / gap JSON (encoded once per event)
//! ```
//!
//! Mounting the endpoint (here on a bare hyper connection; with axum it is
//! `Router::new().route_service("/ws", ws)`), then one client subscribing:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures_util::StreamExt;
//! use push_broker::MemoryBroker;
//! use push_core::{Event, Topic};
//! use push_ws::client::{Client, Item};
//! use push_ws::server::{Config, Endpoint};
//!
//! let broker = MemoryBroker::default();
//! let ws = Endpoint::new(broker.clone(), Config::default()); // .with_hooks(MyHooks)
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("ws://{}/ws", listener.local_addr()?);
//! tokio::spawn(async move {
//!     let Ok((tcp, _)) = listener.accept().await else { return };
//!     let service = hyper_util::service::TowerToHyperService::new(ws);
//!     let connection = hyper::server::conn::http1::Builder::new()
//!         .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
//!         .with_upgrades();
//!     let _ = connection.await;
//! });
//!
//! let news = Topic::new("news")?;
//! let mut client = Client::new(url, [news.clone()]);
//! let Some(Ok(Item::Subscribed { .. })) = client.next().await else { panic!() };
//! broker.publish_now(&news, Event::new("hello"))?;
//! let Some(Ok(Item::Event { data, .. })) = client.next().await else { panic!() };
//! assert_eq!(data, "hello");
//! # Ok(())
//! # }
//! ```
//!
//! The sans-IO parts need no runtime:
//!
//! ```
//! use push_core::{Cursor, Event, Published, Resume, Topic};
//! use push_ws::Command;
//!
//! let Command::Subscribe { topics, from } =
//!     Command::parse(r#"{"type":"subscribe","topics":["news"],"from":"5eed-2a"}"#).unwrap()
//! else { unreachable!() };
//! assert_eq!((topics[0].as_str(), from), ("news", Some(Resume::Cursor(Cursor::new(0x5eed, 0x2a)))));
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
//! The upgrade URL may name a first subscription, as an SSE or long-poll request does:
//! `/ws?topic=a&topic=b&from=CURSOR` (read by the hooks' `topics`; see [`server::Endpoint`]
//! and [`server::drive`], which both ask); it is answered with a `subscribed` message first.
//!
//! Client → server:
//! - `{"type":"subscribe","topics":["a","b"],"from":"CURSOR"}` adds topics to the connection's
//!   selection (`from` is optional). Each is read as Mercure reads a selector: `*` is every
//!   topic, an RFC 6570 URI template (`/books/{id}`) every topic it expands to, anything else
//!   the exact topic; the URL's `?topic=` likewise. A connection has **one selection and one cursor**: with
//!   `from`, the whole selection resumes after that cursor; without it, it continues from the
//!   connection's cursor (or, for the first subscribe, with live events only). Each subscribe
//!   is authorized by the server's hooks before it takes effect.
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
//! - `{"type":"error","message":"..."}`: a command was refused (malformed, or the broker
//!   refused it); `{"type":"error","status":403,"message":"..."}` when the hooks refused a
//!   subscribe (the status of their [`Refusal`](server::Refusal)). The connection stays up and
//!   its selection is unchanged.
//!
//! Close codes: 1000/1005 normal, 1001 broker shutdown, 1008 "expired" when the access the hooks
//! granted reaches its deadline ([`push_core::Access::until`]), 1013 (or 1008, see
//! [`server::Config::overflow_close_code`]) when the subscriber fell behind and the broker's
//! overflow policy is to close, 1009 / 1007 / 1002 for bad input, 1009 when a connection holds
//! more than its share of unfinished messages and the shared pool is spent, and 1008 for a
//! message in too many frames.
//!
//! # Backpressure
//! The runner pulls the next event from the subscription only when tungstenite's write buffer
//! (bounded by [`server::Config::write_buffer_size`] plus one message) has room. A slow client
//! therefore lags in the broker, whose bounded queue and overflow policy (`push_broker::Overflow`)
//! turn the lag into a `gap` or a close; the publisher and the other clients never wait.
//! Replies to commands are bounded too: past 16 unsent replies the runner stops reading.
//!
//! The overflow policy is applied when the connection next pulls from its subscription, that is
//! when the client reads again. A client that stops reading altogether stops answering pings
//! too (they queue behind our data), so the heartbeat closes it as dead after
//! `ping_interval + pong_timeout`; until then it costs its socket buffers and nothing else.
//!
//! The [`Endpoint`](server::Endpoint) guards the upgraded stream's writes with a
//! `push_net::StallGuard` ([`server::Config::write_stall_timeout`]). [`server::accept`] bounds the
//! handshake only: to close a peer whose socket takes no bytes, wrap the stream before it with
//! `push_net::StallGuard` and set `TCP_USER_TIMEOUT` with `push_net::configure_stream`
//! (`push_net::Acceptor::accept` does the latter), as the examples do.
//!
//! # Cancel safety
//! - The connections an [`Endpoint`](server::Endpoint) upgrades run in tasks of their own;
//!   dropping the response future before it resolved drops the upgrade.
//! - [`server::run`] and [`server::drive`] own the socket; dropping their future drops the
//!   connection without a close frame (the peer sees a reset). To close cleanly, end the handler:
//!   return a [`tungstenite::Message::Close`] from `Handler::poll_outgoing`, or close the broker.
//! - `WsSender::send` and `WsReceiver::recv` are cancel safe (a dropped `send` queued
//!   nothing; a dropped `recv` lost nothing). Dropping the [`server::split`] connection future
//!   drops the connection like dropping [`server::run`].
//! - [`server::accept`] and `server::h2::accept` are not cancel safe (a half-done handshake is
//!   dropped with its stream); [`server::accept`] has its own deadline.
//! - [`client::Client`] is a stream: dropping it closes its connection; no item is lost between
//!   two polls.
//! - The sans-IO types have no futures.
//!
//! # Crate features
//! - `server`: the server role ([`server`]): the tower endpoint (on hyper's upgrades), the
//!   byte-stream accept, the connection runner.
//! - `h2`: RFC 8441 WebSocket over HTTP/2 on an `h2` server connection (`server::h2`), and the
//!   [`server::Endpoint`] behind `push_h2::drive` (it takes the stream the driver hands over,
//!   push-net's `OnConnect`); implies `server`.
//! - `client`: the reconnecting [`client::Client`] (`ws://`).
//! - `tls`: `wss://` for the client (rustls with the webpki roots and added roots, through
//!   `push_http::client`); implies `client`.
//!
//! Without features the crate is the sans-IO protocol only (serde_json, no tokio).
//!
//! # Errors
//! Per role: [`server::Error`] (a refused handshake with its
//! [`Refusal`](server::Refusal), a dead peer, a close timeout, the wrapped tungstenite / I/O /
//! broker / h2 / hyper error; a connection that ended normally returns [`server::Ended`]) and
//! [`client::Error`] (a refused upgrade, a bad URL, a lost connection, a message that is not the
//! protocol). Both implement `push_http::HttpStatus` and keep their `source()`.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "__fuzz")]
mod fuzzing;
mod heartbeat;
mod protocol;
#[cfg(feature = "server")]
pub mod server;

pub use heartbeat::{Beat, Heartbeat};
pub use protocol::{
    Command, CommandError, encode_error, encode_event, encode_gap, encode_refusal,
    encode_subscribed,
};
#[cfg(any(feature = "server", feature = "client"))]
pub use tokio_tungstenite::{WebSocketStream, tungstenite};

/// Entry points for the fuzz targets and the seed-replay test (private feature `__fuzz`); not
/// part of the API.
#[cfg(feature = "__fuzz")]
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::fuzzing::ws_client_message;
}
