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

use super::pace::Pace;

/// The most frames gathered into one write (`writev`): a subscriber that fell behind catches
/// up in writes of up to this many events.
const MAX_BATCH_FRAMES: usize = 64;

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
    /// When the batch is written ([`Drive::wait_a_turn`]).
    pace: Pace,
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
            pace: Pace::default(),
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

    /// Takes ready frames into the batch, up to its bounds; whether it took any.
    fn fill(&mut self, cx: &mut Context<'_>) -> bool {
        let before = self.batch.len();
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
        self.batch.len() > before
    }

    /// Whether the batch is as large as one write takes.
    fn is_full(&self) -> bool {
        self.batch.len() >= MAX_BATCH_FRAMES
            || self.batch.iter().map(Bytes::len).sum::<usize>() >= MAX_BATCH_BYTES
    }

    /// Hands the turn back to the runtime before a batch that is not full is written: tokio
    /// polls every other ready task and its I/O driver first (`yield_now`), so the events
    /// published meanwhile (the next publish of a burst is among those tasks) join this
    /// batch, and a subscriber of a busy topic writes several events per write instead of one
    /// each. An idle runtime polls the task again at once, so a lone event waits for nothing
    /// but the tasks that were ready anyway.
    ///
    /// How many turns a batch waits is its [`Pace`]: a lone event one, a burst more.
    fn wait_a_turn(cx: &mut Context<'_>) {
        // The first poll of `yield_now` registers the task to be polled again after the
        // others and is pending; the task keeps its own record that it has waited.
        let _ = std::pin::pin!(tokio::task::yield_now()).poll(cx);
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
            let came = this.fill(cx);
            if this.batch.is_empty() {
                if this.ended {
                    return Pin::new(&mut this.io).poll_shutdown(cx);
                }
                return Poll::Pending;
            }
            if !this.ended && !this.is_full() && this.pace.wait(came) {
                Self::wait_a_turn(cx);
                return Poll::Pending;
            }
            std::task::ready!(this.poll_write(cx))?;
            this.pace.wrote();
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;
    use push_broker::{MemoryBroker, MemorySubscription};
    use push_core::{Access, Broker, Event, Selector, Topic};
    use tokio::net::TcpStream;

    /// A socket that records the length of each write and never has anything to read.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<usize>>>);

    impl Recorder {
        fn writes(&self) -> Vec<usize> {
            self.0.lock().unwrap().clone()
        }
    }

    impl AsyncRead for Recorder {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.lock().unwrap().push(buf.len());
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let len = bufs.iter().map(|b| b.len()).sum();
            self.0.lock().unwrap().push(len);
            Poll::Ready(Ok(len))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn subscribed(broker: &MemoryBroker, topic: &Topic) -> EventStream<MemorySubscription> {
        let selector = Selector::one(topic.clone());
        let subscription = broker
            .subscribe(&selector, None, &Access::public())
            .unwrap();
        EventStream::new(subscription, &push_sse::server::Config::default())
    }

    /// One poll of `drive`, as its task would make it.
    async fn poll_once<T, S>(drive: &mut Drive<T, S>) -> Poll<io::Result<()>>
    where
        T: AsyncRead + AsyncWrite + Unpin,
        S: Subscription,
    {
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *drive).poll(cx))).await
    }

    /// A burst: the task is woken by the first event, and the events published before it
    /// writes (while it waits its turns) go in the same write: one write for the run, not one
    /// per event.
    #[tokio::test]
    async fn events_published_while_a_batch_waits_its_turn_share_its_write() {
        let broker = MemoryBroker::default();
        let topic = Topic::new("t").unwrap();
        let socket = Recorder::default();
        let io = StallGuard::new(socket.clone(), Duration::from_secs(10));
        let mut drive = Drive::new(
            io,
            Bytes::from_static(b"HEAD"),
            subscribed(&broker, &topic),
            0,
        );
        // The head and the opening comment.
        while socket.writes().is_empty() {
            assert!(poll_once(&mut drive).await.is_pending());
        }
        assert!(poll_once(&mut drive).await.is_pending());
        assert_eq!(socket.writes().len(), 1);
        let publish =
            |n: u32| broker.publish(std::slice::from_ref(&topic), Event::new(format!("{n}")));
        publish(1).await.unwrap();
        // Woken by the first event: it waits a turn.
        assert!(poll_once(&mut drive).await.is_pending());
        publish(2).await.unwrap();
        publish(3).await.unwrap();
        // Events came during its turn: a burst, it waits another.
        assert!(poll_once(&mut drive).await.is_pending());
        assert_eq!(socket.writes().len(), 1);
        // A quiet turn: written.
        assert!(poll_once(&mut drive).await.is_pending());
        let writes = socket.writes();
        assert_eq!(
            writes.len(),
            2,
            "one write for the three events: {writes:?}"
        );
        assert!(drive.batch.is_empty());
    }

    /// Reads from `client` into `seen` until `needle` is among the bytes (10 s at most).
    async fn read_until(client: &mut tokio::io::DuplexStream, seen: &mut Vec<u8>, needle: &[u8]) {
        use tokio::io::AsyncReadExt;
        let found = tokio::time::timeout(Duration::from_secs(10), async {
            while !seen.windows(needle.len()).any(|w| w == needle) {
                let mut buf = [0u8; 4096];
                let n = client.read(&mut buf).await.unwrap();
                assert!(n > 0, "the drive closed the connection: {seen:?}");
                seen.extend_from_slice(&buf[..n]);
            }
        })
        .await;
        assert!(found.is_ok(), "never written: {needle:?}, saw {seen:?}");
    }

    /// The turn a batch waits is handed back by the runtime: a spawned drive writes a lone
    /// event with nothing else happening, on a current-thread runtime as on a multi-thread one.
    async fn lone_events_are_written() {
        let broker = MemoryBroker::default();
        let topic = Topic::new("t").unwrap();
        let (server, mut client) = tokio::io::duplex(64 * 1024);
        let io = StallGuard::new(server, Duration::from_secs(10));
        let drive = Drive::new(
            io,
            Bytes::from_static(b"HEAD"),
            subscribed(&broker, &topic),
            0,
        );
        let task = tokio::spawn(drive);
        let mut seen = Vec::new();
        read_until(&mut client, &mut seen, b"HEAD").await;
        for n in 0..3 {
            let data = format!("lone event {n}");
            broker
                .publish(std::slice::from_ref(&topic), Event::new(data.clone()))
                .await
                .unwrap();
            read_until(&mut client, &mut seen, data.as_bytes()).await;
        }
        task.abort();
    }

    #[tokio::test]
    async fn a_lone_event_is_written_after_its_turn() {
        lone_events_are_written().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lone_event_is_written_after_its_turn_on_many_threads() {
        lone_events_are_written().await;
    }

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
