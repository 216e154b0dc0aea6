//! `h2` servers: the builder with the HTTP/2 limits and a handshake under the handshake
//! deadline.

use std::io;

use bytes::Bytes;
use h2::RecvStream;
use h2::server::{Builder, Connection, SendResponse};
use http::Request;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, timeout_at};

use crate::{Http2Limits, ServerConfig, StallGuard};

/// A request accepted on an h2 connection and the handle to answer it.
pub type H2Request = (Request<RecvStream>, SendResponse<Bytes>);

/// An `h2::server::Builder` advertising and enforcing `limits`.
///
/// `h2::server::handshake` on its own advertises no `SETTINGS_MAX_CONCURRENT_STREAMS` (no
/// limit), a 16 MiB header list and 400 KiB of send buffer per stream: one client opening
/// 50,000 streams held 336 MB.
///
/// It also advertises `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441), so clients may open
/// WebSockets over HTTP/2 with an extended CONNECT: such a request reaches the accept loop like
/// any other (with `h2::ext::Protocol` in its extensions) and is answered like any other — by
/// `push_ws::server::h2::accept`, by a service behind `push_h2::drive` (which hands over the
/// stream with an [`OnConnect`](crate::OnConnect)), or with whatever status a route gives a
/// `CONNECT` it does not serve. Costs nothing per connection.
pub fn h2_builder(limits: &Http2Limits) -> Builder {
    let mut builder = Builder::new();
    builder
        .enable_connect_protocol()
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(limits.max_header_list_size)
        .max_pending_accept_reset_streams(limits.max_pending_accept_reset_streams)
        .max_local_error_reset_streams(Some(limits.max_local_error_reset_streams))
        .max_send_buffer_size(limits.max_send_buffer_size);
    builder
}

/// The HTTP/2 handshake on `io` with [`h2_builder`]'s settings and writes guarded by a
/// [`StallGuard`], then the connection's first request, both within the
/// [handshake timeout](ServerConfig::with_handshake_timeout). The first request is `None` when the
/// client closed the connection cleanly without sending one.
///
/// Accept the following requests with [`Connection::accept`] as usual.
///
/// # Errors
/// [`io::ErrorKind::TimedOut`] when the preface, SETTINGS and first request did not arrive in
/// time; otherwise h2's error as an [`io::Error`] (its source). Either concerns this peer only.
pub async fn h2_handshake<T>(
    io: T,
    config: &ServerConfig,
) -> io::Result<(Connection<StallGuard<T>, Bytes>, Option<H2Request>)>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let deadline = Instant::now() + config.handshake_timeout;
    let timed_out = || {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "no complete request within {:?} (handshake timeout)",
                config.handshake_timeout
            ),
        )
    };
    let io = StallGuard::new(io, config.write_stall_timeout);
    let handshake = h2_builder(&config.http2).handshake(io);
    let mut connection = timeout_at(deadline, handshake)
        .await
        .map_err(|_| timed_out())?
        .map_err(into_io)?;
    let first = timeout_at(deadline, connection.accept())
        .await
        .map_err(|_| timed_out())?
        .transpose()
        .map_err(into_io)?;
    Ok((connection, first))
}

fn into_io(e: h2::Error) -> io::Error {
    if e.is_io() {
        return e.into_io().unwrap_or_else(|| io::ErrorKind::Other.into());
    }
    io::Error::other(e)
}
