//! Closing an HTTP/2 connection that has had no open stream for a while.
//!
//! h2 keeps a connection as long as the client does: a client that made one request and never
//! closes holds its socket, its buffers and its HPACK tables for the server's life. The accept
//! loop here ends such a connection with a graceful GOAWAY once it has been idle long enough.

use std::time::Duration;

use bytes::Buf;
use h2::RecvStream;
use h2::server::{Connection, SendResponse};
use http::Request;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

/// The default idle timeout of [`accept_until_idle`]: 60 s.
///
/// Long enough that a browser keeps its connection between the page loads of one visit (browsers
/// themselves drop idle HTTP/2 connections after a few minutes), short enough that idle
/// connections do not pile up: each holds a socket, h2's buffers and two HPACK tables, and a
/// 2-core / 1 GiB server that accepts a few hundred connections a second would otherwise keep all
/// of them for as long as their clients do.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The next request on `connection`, like `connection.accept()`, but a connection with no open
/// stream (request or push) for `idle` is shut down gracefully (GOAWAY; the streams already
/// accepted finish) and the result is then `None` once it has closed.
///
/// Streams are checked every quarter of `idle`, so the connection closes between `idle` and
/// `idle` × 1.25 after its last stream ended. Keep calling it in the accept loop: it drives the
/// connection, as `accept` does.
///
/// # Cancel safety
/// Cancel safe, as `accept` is, except that the idle clock starts again on the next call.
pub async fn accept_until_idle<T, B>(
    connection: &mut Connection<T, B>,
    idle: Duration,
) -> Option<Result<(Request<RecvStream>, SendResponse<B>), h2::Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    B: Buf,
{
    let tick = (idle / 4).max(Duration::from_millis(1));
    let mut idle_since: Option<Instant> = None;
    let mut closing = false;
    loop {
        if closing {
            return connection.accept().await;
        }
        tokio::select! {
            next = connection.accept() => return next,
            () = tokio::time::sleep(tick) => {
                if connection.has_streams() {
                    idle_since = None;
                    continue;
                }
                let since = *idle_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= idle {
                    connection.graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}
