//! The server role (feature `server`): the [`Endpoint`] to mount on a route, the one-connection
//! paths under it ([`accept`] on a byte stream, [`h2::accept`] on an `h2` connection, then
//! [`drive`]), the generic connection runner ([`run`] with a [`Handler`], [`split`]), the
//! [`Config`] and the [`Error`].
//!
//! ```text
//!  hyper / axum request ─► Endpoint (check, hooks.topics, authorize) ─► 101 ─┐
//!  TcpStream / TLS ─► accept(Config::check) ──────────────────────────────────┤
//!  h2 extended CONNECT ─► h2::accept ─────────────────────────────────────────┤
//!                      WebSocketStream<Metered<..>> ─► drive(request head, broker, hooks)
//!                        = run(PushHandler): ping/pong, close codes, backpressure
//! ```

mod accept_io;
mod answer;
mod body;
mod budget;
mod config;
mod connection;
mod drive;
mod endpoint;
mod error;
#[cfg(feature = "h2")]
pub mod h2;
mod handler;
mod meter;
mod metered;
mod origin;
mod retained;
mod split;

pub use accept_io::{MAX_REQUEST_HEAD, accept};
pub use answer::Accepted;
pub use body::Body;
pub use config::Config;
pub use connection::run;
pub use drive::drive;
pub use endpoint::{Endpoint, ResponseFuture};
pub use error::{Ended, Error};
pub use handler::{Handler, Outbox};
pub use meter::FrameMeter;
pub use metered::{Metered, metered, websocket};
pub use origin::OriginPolicy;
pub use push_http::{Hooks, Open, Refusal, query::Query};
pub use split::{SendError, TrySendError, WsReceiver, WsSender, split};

#[cfg(feature = "__fuzz")]
pub(crate) use accept_io::parse_head;
