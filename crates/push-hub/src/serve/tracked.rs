//! The connection count and the per-connection state every request of a connection shares.
//!
//! A connection is admitted against `--max-connections` when it is accepted, and counted until
//! its socket is dropped. That includes an upgraded connection: hyper hands a WebSocket
//! endpoint the very stream it read from, so the [`Tracked`] wrapper (and the permit inside it)
//! lives exactly as long as the WebSocket does, wherever the endpoint's task takes it.

use std::any::Any;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::ops::metrics::{Metrics, Protocol};

/// The live connections and their limit.
#[derive(Debug)]
pub struct Connections {
    live: AtomicUsize,
    max: usize,
    metrics: Arc<Metrics>,
}

impl Connections {
    /// At most `max` connections at once.
    pub fn new(max: usize, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            live: AtomicUsize::new(0),
            max,
            metrics,
        })
    }

    /// Admits one more connection from `peer`, unless `max` are open.
    pub fn admit(self: &Arc<Self>, peer: SocketAddr) -> Option<Arc<Connection>> {
        let admitted = self
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| {
                (live < self.max).then_some(live + 1)
            })
            .is_ok();
        admitted.then(|| {
            Arc::new(Connection {
                connections: Arc::clone(self),
                peer,
                protocol: Mutex::new(None),
                held: Mutex::new(None),
            })
        })
    }

    /// How many connections are open.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }
}

/// One admitted connection: its peer, what it speaks, and what it holds until it closes.
pub struct Connection {
    connections: Arc<Connections>,
    peer: SocketAddr,
    protocol: Mutex<Option<Protocol>>,
    /// What the connection holds until it closes: one box (a connection holds one stream's
    /// permit and gauge; a second value is boxed together with the first), so that holding
    /// costs a held connection no list beside it.
    held: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Connection {
    /// The TCP peer (a proxy's address when behind one).
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.connections.metrics
    }

    /// Counts the connection under `protocol` from now until it closes.
    pub fn speaks(&self, protocol: Protocol) {
        let mut current = self.protocol.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = current.replace(protocol) {
            self.connections.metrics.connections(old).dec();
        }
        self.connections.metrics.connections(protocol).inc();
    }

    /// Keeps `value` until the connection closes (the quota permit and stream gauge of a
    /// WebSocket, whose connection outlives the request that opened it).
    pub fn hold(&self, value: Box<dyn Any + Send>) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        *held = Some(match held.take() {
            None => value,
            Some(earlier) => Box::new((earlier, value)),
        });
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let protocol = *self
            .protocol
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(protocol) = protocol {
            self.connections.metrics.connections(protocol).dec();
        }
        self.connections.live.fetch_sub(1, Ordering::AcqRel);
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// A byte stream that keeps its [`Connection`] admitted while it lives and counts the bytes
/// written to it (`push_hub_bytes_out_total`).
#[derive(Debug)]
pub struct Tracked<T> {
    inner: T,
    connection: Arc<Connection>,
}

impl<T> Tracked<T> {
    /// Tracks `inner` as `connection`.
    pub fn new(inner: T, connection: Arc<Connection>) -> Self {
        Self { inner, connection }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            self.connection.metrics().bytes_out.inc_by(n as u64);
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = written {
            self.connection.metrics().bytes_out.inc_by(n as u64);
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_is_bounded_and_released_on_drop() {
        let metrics = Metrics::new();
        let connections = Connections::new(2, Arc::clone(&metrics));
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let a = connections.admit(peer).unwrap();
        let b = connections.admit(peer).unwrap();
        assert!(connections.admit(peer).is_none());
        a.speaks(Protocol::Http1);
        b.speaks(Protocol::Tls);
        b.speaks(Protocol::H2c);
        assert_eq!(metrics.connections(Protocol::Http1).get(), 1);
        assert_eq!(metrics.connections(Protocol::Tls).get(), 0);
        let kept = Arc::new(());
        b.hold(Box::new(Arc::clone(&kept)));
        b.hold(Box::new(Arc::clone(&kept)));
        assert_eq!(Arc::strong_count(&kept), 3, "both held");
        drop(a);
        assert_eq!(connections.live(), 1);
        assert_eq!(metrics.connections(Protocol::Http1).get(), 0);
        assert!(connections.admit(peer).is_some());
        drop(b);
        assert_eq!(Arc::strong_count(&kept), 1, "released with the connection");
        assert_eq!(metrics.connections(Protocol::H2c).get(), 0);
        assert_eq!(connections.live(), 0);
    }

    #[tokio::test]
    async fn written_bytes_are_counted() {
        use tokio::io::AsyncWriteExt;
        let metrics = Metrics::new();
        let connections = Connections::new(1, Arc::clone(&metrics));
        let connection = connections.admit("127.0.0.1:1".parse().unwrap()).unwrap();
        let mut tracked = Tracked::new(Vec::<u8>::new(), connection);
        tracked.write_all(b"hello").await.unwrap();
        assert_eq!(metrics.bytes_out.get(), 5);
        assert_eq!(tracked.inner, b"hello");
    }
}
