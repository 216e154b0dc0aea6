//! The server role (feature `server`): STOMP over WebSocket on push-ws's machinery. The
//! [`Endpoint`] (a tower `Service`) checks the upgrade with push-ws's [`Config::websocket`] (Origin,
//! subprotocols `v12.stomp` / `v11.stomp` / `v10.stomp`, limits), answers 101 and runs a
//! [`Session`](crate::Session) on the connection with push-ws's runner (ping / pong, dead peers,
//! close codes, the metered incoming limits, the write-stall guard). [`handler`] runs a session
//! on a connection accepted some other way.
//!
//! ```text
//!  hyper / axum request ─► Endpoint (push-ws Config::check) ─► 101 ─► push_ws::server::run(
//!      WebSocketStream<Metered<StallGuard<Upgraded>>>, StompHandler(Session on broker, hooks))
//! ```

mod endpoint;
mod handler;

pub use endpoint::{Config, Endpoint, ResponseFuture};
pub use handler::{StompHandler, handler};
pub use push_ws::server::Body;
