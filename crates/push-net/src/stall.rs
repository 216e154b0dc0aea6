//! `StallGuard`: a byte stream whose writes fail once they have made no progress for too long.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Wraps a connection so that a write that stays pending for longer than a limit fails with
/// [`io::ErrorKind::TimedOut`], which ends the server's connection task and closes the socket.
///
/// **The rule:** the clock starts when a write (or flush or shutdown) returns `Pending` and
/// stops when the stream accepts at least one byte (or the flush or shutdown completes). Only
/// bytes the stream takes are progress: a keep-alive comment or ping queued behind a full
/// socket is as stuck as the event before it and does not restart the clock. A peer that reads
/// slowly but reads keeps its connection; a peer with a zero window (it never reads, or its
/// buffers overflowed and it stopped) is closed after the limit instead of holding the socket
/// and the server's unsent data forever.
///
/// Bytes that have already reached the kernel are the kernel's to time out: see
/// [`configure_stream`](crate::configure_stream) (`TCP_USER_TIMEOUT`, the same limit).
///
/// Reads pass through untouched. The timer is allocated on the first stalled write only, so an
/// idle or fast connection costs nothing extra.
#[derive(Debug)]
pub struct StallGuard<T> {
    inner: T,
    limit: Duration,
    /// Set while a write is pending: fires at the stall deadline.
    stalled: Option<Pin<Box<Sleep>>>,
    armed: bool,
    /// The last flush or shutdown returned `Pending`: its completion is progress. (A flush that
    /// completes at once, as a TCP stream's always does, says nothing about the peer.)
    flush_pending: bool,
}

impl<T> StallGuard<T> {
    /// Guards `inner`: writes that make no progress for `limit` fail. A `limit` over
    /// [`ServerConfig::LONGEST`](crate::ServerConfig::LONGEST) (such as `Duration::MAX`) is
    /// taken as that.
    pub fn new(inner: T, limit: Duration) -> Self {
        Self {
            inner,
            limit: crate::config::clamp_limit(limit),
            stalled: None,
            armed: false,
            flush_pending: false,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped stream, unguarded.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Progress: the stall clock stops.
    fn progressed(&mut self) {
        self.armed = false;
    }

    /// No progress: starts the clock if it is not running, and fails once it ran out.
    fn pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let deadline = Instant::now() + self.limit;
        let sleep = match &mut self.stalled {
            Some(sleep) => {
                if !self.armed {
                    sleep.as_mut().reset(deadline);
                }
                sleep
            }
            None => self
                .stalled
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        self.armed = true;
        ready!(sleep.as_mut().poll(cx));
        self.armed = false;
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the peer took no bytes for {:?} (write stall timeout)",
                self.limit
            ),
        ))
    }

    /// Applies the rule to one write-side poll: `made_progress` tells a ready result that
    /// counts as progress.
    fn guard<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<R>>,
        made_progress: impl FnOnce(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        match polled {
            Poll::Ready(Ok(value)) => {
                if made_progress(&value) {
                    self.progressed();
                }
                Poll::Ready(Ok(value))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.pending(cx).map(Err),
        }
    }

    /// [`guard`](Self::guard) for a flush or shutdown: its completion is progress only if it
    /// had to wait.
    fn guard_flush(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<()>>,
    ) -> Poll<io::Result<()>> {
        let waited = std::mem::replace(&mut self.flush_pending, polled.is_pending());
        self.guard(cx, polled, |()| waited)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.guard(cx, polled, |&n| n > 0)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.guard(cx, polled, |&n| n > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.guard_flush(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.guard_flush(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn no_limit_stalls_without_overflowing_the_deadline() {
        let (near, _far) = tokio::io::duplex(8);
        let mut guarded = StallGuard::new(near, Duration::MAX);
        // The peer never reads: the second write stays pending and arms the deadline.
        let stalled =
            tokio::time::timeout(Duration::from_secs(3600), guarded.write_all(&[0; 64])).await;
        assert!(stalled.is_err(), "the write should still be pending");
        assert_eq!(guarded.limit, crate::ServerConfig::LONGEST);
    }
}
