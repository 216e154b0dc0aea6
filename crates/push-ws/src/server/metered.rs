//! The byte stream under every accepted WebSocket: reads pass through the [`FrameMeter`] before
//! tungstenite sees them, writes pass through untouched. It is push-net's [`Rewind`] (the
//! bytes read with the request head replayed first) with the meter as its read check.

use std::io;

use bytes::Bytes;
use push_net::{ReadCheck, Rewind, StallGuard};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::Config;
use super::meter::FrameMeter;

/// A stream whose incoming WebSocket frames are metered against the limits of an
/// [`Config`]: each connection's share of unfinished messages
/// ([`Config::partial_message_share`]), the pool beyond the shares common to all the
/// connections of that configuration ([`Config::partial_message_budget`]), the frame and
/// message limits (checked on each header, before its payload) and the most frames per message
/// ([`Config::max_frames_per_message`]).
///
/// [`accept`](super::accept) and the `hyper` and `h2` adapters wrap their streams in it. When a
/// limit is hit, the read fails with an I/O error that [`run`](super::run) and
/// [`serve`](super::drive) turn into a close with 1009 (pool, frame or message size), 1002 (a
/// control frame over 125 bytes) or 1008 (frames). To use the limits with a WebSocket built
/// another way, wrap the stream with [`metered`] before handing it to tungstenite.
pub type Metered<S> = Rewind<S, FrameMeter>;

/// Wraps `stream`, metered against `config`'s limits (sharing its budget).
pub fn metered<S>(stream: S, config: &Config) -> Metered<S> {
    metered_after(stream, Bytes::new(), config)
}

/// The server's WebSocket on an upgraded `stream` (hyper's upgrade, an RFC 8441 HTTP/2 stream,
/// any byte stream after the `101`): writes guarded by [`Config::write_stall_timeout`],
/// incoming frames [`metered`], tungstenite configured by [`Config::websocket_config`]. Every
/// adapter (push-ws's own and push-stomp's) builds its WebSocket here.
pub async fn websocket<S>(stream: S, config: &Config) -> WebSocketStream<Metered<StallGuard<S>>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let guarded = StallGuard::new(stream, config.write_stall_timeout());
    let stream = metered(guarded, config);
    WebSocketStream::from_raw_socket(stream, Role::Server, Some(config.websocket_config())).await
}

/// Wraps `stream`, whose first bytes (already read from it) are `prefix`.
pub(crate) fn metered_after<S>(stream: S, prefix: Bytes, config: &Config) -> Metered<S> {
    let meter = FrameMeter::new(config.budget(), config.meter_limits());
    Rewind::with_check(stream, prefix, meter)
}

impl ReadCheck for FrameMeter {
    fn check(&mut self, read: &[u8]) -> io::Result<()> {
        // The refused bytes never reach tungstenite.
        self.handle_read(read).map_err(io::Error::other)
    }
}
