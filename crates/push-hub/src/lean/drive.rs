//! `Drive`: an event stream written straight to its socket, holding no read buffer.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use push_core::Subscription;
use push_net::StallGuard;
use push_sse::server::EventStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most frames gathered into one write (`writev`): a subscriber that fell behind catches
/// up in writes of up to this many events.
const MAX_BATCH_FRAMES: usize = 32;

/// The most bytes gathered into one write: at most a socket's unsent low-water mark's worth
/// (push-net's default 128 KiB), so one write never queues far more than the socket takes.
const MAX_BATCH_BYTES: usize = 64 * 1024;

/// Writes in a row before the task yields to others (a subscriber far behind a busy topic
/// would otherwise keep a worker thread for its whole backlog).
const WRITES_PER_POLL: usize = 16;

/// The bytes a read of the peer's unexpected input takes at once (on the stack, for the
/// duration of one read).
const DISCARD_CHUNK: usize = 512;

/// Serves one event stream on its connection, after its response head: each frame of the
/// [`EventStream`] goes to the socket as it comes (several ready frames in one vectored write,
/// the shared encoded bytes of each event as they are, never copied), and nothing else is
/// kept per connection but the frames not yet written.
///
/// - The peer closing is seen through read readiness alone, with no buffer: a read of a few
///   bytes on the stack then tells an end of stream (the peer left: the stream and its
///   subscription are dropped at once) from bytes it sent after its request, which are
///   dropped up to `max_discard` in total (the connection closes beyond).
/// - Writes go through a [`StallGuard`]: one that takes no byte for the write-stall timeout
///   ends the connection.
/// - When the stream ends (the subscription closed, the grant expired, shutdown) the rest is
///   written and the connection shut down: the body was delimited by the close.
pub(crate) struct Drive<T, S> {
    io: StallGuard<T>,
    events: EventStream<S>,
    /// The frames not yet written, the first possibly in part. Empty (no allocation) while
    /// the stream is idle.
    batch: Vec<Bytes>,
    /// The stream has ended: write what is left, then shut down.
    ended: bool,
    /// Bytes the peer may still send before the connection is closed.
    discard: usize,
}

impl<T, S> std::fmt::Debug for Drive<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drive")
            .field("events", &self.events)
            .field("unwritten", &self.batch.len())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin, S: Subscription> Drive<T, S> {
    /// Drives `events` on `io`, writing `head` first.
    pub(crate) fn new(
        io: StallGuard<T>,
        head: Bytes,
        events: EventStream<S>,
        max_discard: usize,
    ) -> Self {
        Self {
            io,
            events,
            batch: vec![head],
            ended: false,
            discard: max_discard,
        }
    }

    /// `Ready(Ok(()))` once the peer has closed its side, `Pending` while it is silent (a
    /// pending read registers the read interest; its buffer is on the stack, for this call).
    fn poll_peer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut scratch = [0u8; DISCARD_CHUNK];
            let mut read = ReadBuf::new(&mut scratch);
            std::task::ready!(Pin::new(&mut self.io).poll_read(cx, &mut read))?;
            let n = read.filled().len();
            if n == 0 {
                return Poll::Ready(Ok(()));
            }
            // A pipelined request behind a stream is never answered (the response said
            // `connection: close`); a peer that keeps sending is cut off.
            self.discard = self.discard.checked_sub(n).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "the peer kept sending")
            })?;
        }
    }

    /// Takes ready frames into the batch, up to its bounds.
    fn fill(&mut self, cx: &mut Context<'_>) {
        let mut bytes: usize = self.batch.iter().map(Bytes::len).sum();
        while !self.ended && self.batch.len() < MAX_BATCH_FRAMES && bytes < MAX_BATCH_BYTES {
            match self.events.poll_frame(cx) {
                Poll::Ready(Some(frame)) => {
                    bytes += frame.len();
                    self.batch.push(frame);
                }
                Poll::Ready(None) => self.ended = true,
                Poll::Pending => break,
            }
        }
    }

    /// Writes the batch once; `Ready(Ok(()))` when some bytes went out.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut slices = [IoSlice::new(&[]); MAX_BATCH_FRAMES];
        let count = self.batch.len().min(MAX_BATCH_FRAMES);
        for (slice, frame) in slices.iter_mut().zip(&self.batch) {
            *slice = IoSlice::new(frame);
        }
        let written =
            std::task::ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]))?;
        if written == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        self.consume(written);
        Poll::Ready(Ok(()))
    }

    /// Drops `written` bytes from the front of the batch.
    fn consume(&mut self, mut written: usize) {
        let whole = self
            .batch
            .iter()
            .take_while(|frame| {
                let whole = frame.len() <= written;
                if whole {
                    written -= frame.len();
                }
                whole
            })
            .count();
        if whole == self.batch.len() {
            // Frees the batch: an idle stream holds no allocation for it.
            self.batch = Vec::new();
        } else {
            self.batch.drain(..whole);
            self.batch[0].advance(written);
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin, S: Subscription> Future for Drive<T, S> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.poll_peer(cx)?.is_ready() {
            return Poll::Ready(Ok(()));
        }
        for _ in 0..WRITES_PER_POLL {
            this.fill(cx);
            if this.batch.is_empty() {
                if this.ended {
                    return Pin::new(&mut this.io).poll_shutdown(cx);
                }
                return Poll::Pending;
            }
            std::task::ready!(this.poll_write(cx))?;
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use push_broker::MemorySubscription;
    use tokio::net::TcpStream;

    #[test]
    fn a_drive_is_its_socket_its_stream_and_a_few_words() {
        use std::mem::size_of;
        let drive = size_of::<Drive<TcpStream, MemorySubscription>>();
        let socket = size_of::<StallGuard<TcpStream>>();
        let events = size_of::<EventStream<MemorySubscription>>();
        println!("Drive {drive} = socket {socket} + event stream {events} + the rest");
        println!("  (MemorySubscription {})", size_of::<MemorySubscription>());
        assert!(
            drive <= socket + events + 48,
            "a buffer crept into the drive"
        );
    }
}
