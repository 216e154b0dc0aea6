//! RFC 8441 WebSocket over HTTP/2 (extended CONNECT) on an `h2` server connection (feature
//! `h2`).
//!
//! The server enables the extended CONNECT protocol (`push_net::h2_builder` does, or
//! `h2::server::Builder::enable_connect_protocol`); the client opens a stream with
//! `:method CONNECT` and `:protocol websocket`; a `200` answer turns the stream into a
//! WebSocket byte stream (no `Sec-WebSocket-Key`, no `101`). [`H2Stream`] (push-net's) makes
//! the stream an `AsyncRead + AsyncWrite`, on which tungstenite runs unchanged, for servers and
//! clients alike.
//!
//! Three ways in, one protocol: [`accept`] here, for a loop over an `h2` connection of your
//! own; the [`Endpoint`](super::Endpoint) behind `push_h2::drive` (the driver hands it the
//! stream with an [`OnConnect`](push_net::OnConnect)); and the `Endpoint` behind hyper's
//! HTTP/2 server (hyper's upgrade). Each checks the same [`Config`] (`:protocol`, Origin,
//! subprotocols) and guards writes with the same stall timeout.

use bytes::Bytes;
use h2::RecvStream;
use http::request::Parts;
use http::{Request, Response};
use push_net::StallGuard;
use tokio_tungstenite::WebSocketStream;

pub use push_net::H2Stream;

use super::{Accepted, Config, Error, Metered, websocket};

/// Accepts an extended CONNECT request received from `h2::server::Connection::accept`:
/// checks it against `config` (`:protocol websocket`, the Origin policy, subprotocols),
/// answers `200` and returns the WebSocket on the stream, with the request's head (for
/// [`drive`](super::drive) and the hooks). A refused request gets its status (400 for a plain
/// `CONNECT` or another method, 501 for another `:protocol`, 403 for a cross-site Origin) and
/// [`Error::Refused`].
///
/// The stream is guarded by a [`StallGuard`] with [`Config::write_stall_timeout`]: a peer that
/// keeps the stream's flow-control window shut for that long fails the connection's write.
///
/// # Cancel safety
/// Cancel safe up to the response; after it, dropping the future resets the stream.
pub async fn accept(
    request: Request<RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    config: &Config,
) -> Result<
    (
        WebSocketStream<Metered<StallGuard<H2Stream>>>,
        Accepted,
        Parts,
    ),
    Error,
> {
    let accepted = match config.check(&request) {
        Ok(accepted) => accepted,
        Err(refusal) => {
            let (parts, body) = refusal.clone().into_response().into_parts();
            let mut send = respond.send_response(Response::from_parts(parts, ()), false)?;
            send.send_data(Bytes::from(body), true)?;
            return Err(Error::Refused(refusal));
        }
    };
    let send = respond.send_response(accepted.response(), false)?;
    let (parts, body) = request.into_parts();
    let ws = websocket(H2Stream::new(send, body), config).await;
    Ok((ws, accepted, parts))
}
