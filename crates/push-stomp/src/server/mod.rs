//! The server role (feature `server`): STOMP over WebSocket on push-ws's machinery. The
//! [`Endpoint`] (a tower `Service`) checks the upgrade with push-ws's [`Config::websocket`] (Origin,
//! subprotocols `v12.stomp` / `v11.stomp` / `v10.stomp`, limits), answers 101 and runs a
//! [`Session`](crate::Session) on the connection with push-ws's runner (ping / pong, dead peers,
//! close codes, the metered incoming limits, the write-stall guard). [`handler`] runs a session
//! on a connection accepted some other way. [`offers_stomp`] tells a STOMP upgrade from another
//! on a path that serves both.
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

use http::HeaderMap;
use http::header::SEC_WEBSOCKET_PROTOCOL;

use crate::Version;

/// Whether a WebSocket upgrade request offers a STOMP subprotocol (`v12.stomp`, `v11.stomp`,
/// `v10.stomp`) in `Sec-WebSocket-Protocol` (every such header, each a comma-separated list):
/// how a server that answers both STOMP and another protocol on one path (the hub's `/ws`)
/// picks the endpoint before the upgrade. Subprotocol names are case-sensitive (RFC 6455,
/// section 4.1), so `V12.STOMP` is not one.
///
/// ```
/// use http::HeaderMap;
/// use push_stomp::server::offers_stomp;
///
/// let mut headers = HeaderMap::new();
/// assert!(!offers_stomp(&headers));
/// headers.insert("sec-websocket-protocol", "push.v1, v12.stomp".parse().unwrap());
/// assert!(offers_stomp(&headers));
/// ```
pub fn offers_stomp(headers: &HeaderMap) -> bool {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .any(|offered| Version::from_subprotocol(offered.trim()).is_some())
}
