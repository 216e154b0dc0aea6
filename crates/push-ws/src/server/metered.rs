//! The byte stream under every accepted WebSocket: reads pass through the [`FrameMeter`] before
//! tungstenite sees them, writes pass through untouched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

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
/// another way, wrap the stream with [`Metered::new`] before handing it to tungstenite.
#[derive(Debug)]
pub struct Metered<S> {
    inner: S,
    /// Bytes the peer sent with its request head, served before the stream's own.
    prefix: Vec<u8>,
    consumed: usize,
    meter: FrameMeter,
}

impl<S> Metered<S> {
    /// Wraps `stream`, metered against `config`'s limits (sharing its budget).
    pub fn new(stream: S, config: &Config) -> Self {
        Self::with_prefix(stream, Vec::new(), config)
    }

    /// Wraps `stream`, whose first bytes (already read from it) are `prefix`.
    pub(crate) fn with_prefix(stream: S, prefix: Vec<u8>, config: &Config) -> Self {
        Self {
            inner: stream,
            prefix,
            consumed: 0,
            meter: FrameMeter::new(config.budget(), config.meter_limits()),
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped stream (reading from it directly bypasses the meter).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        if this.consumed < this.prefix.len() {
            let rest = &this.prefix[this.consumed..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.consumed += n;
            if this.consumed == this.prefix.len() {
                this.prefix = Vec::new();
                this.consumed = 0;
            }
        } else {
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        }
        match this.meter.handle_read(&buf.filled()[before..]) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(exceeded) => {
                // The refused bytes never reach tungstenite.
                buf.set_filled(before);
                Poll::Ready(Err(io::Error::other(exceeded)))
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
