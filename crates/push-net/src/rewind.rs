//! `Rewind`: a connection whose first reads give back bytes already read from it, and whose
//! reads can pass through a check before the reader sees them.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a [`Rewind`] does with each read before its reader sees it: nothing (`()`), or a
/// check that refuses the read with an I/O error (a meter of incoming frames, say).
pub trait ReadCheck {
    /// Looks at `read`, the bytes a read just gave (the replayed ones included); an error
    /// fails the read and the bytes are not handed on.
    ///
    /// # Errors
    /// Why the bytes are refused.
    fn check(&mut self, read: &[u8]) -> io::Result<()>;
}

impl ReadCheck for () {
    fn check(&mut self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
}

/// A byte stream that yields `replay` first and then what `inner` yields, every read through
/// the [`ReadCheck`] `C`; writes go to `inner` untouched.
///
/// A server that read the start of a connection to decide who serves it (a request head, a
/// protocol preface) hands the connection on through a `Rewind`, so the next reader sees the
/// bytes as if nobody had touched the socket. The replayed bytes are freed once read.
#[derive(Debug)]
pub struct Rewind<T, C = ()> {
    inner: T,
    replay: Bytes,
    check: C,
}

impl<T> Rewind<T> {
    /// `inner`, with `replay` to be read again first.
    pub fn new(inner: T, replay: Bytes) -> Self {
        Self::with_check(inner, replay, ())
    }
}

impl<T, C> Rewind<T, C> {
    /// `inner`, with `replay` to be read again first and every read through `check`.
    pub fn with_check(inner: T, replay: Bytes, check: C) -> Self {
        Self {
            inner,
            replay,
            check,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream (reading from it directly bypasses the replay and the check).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The check.
    pub fn check(&self) -> &C {
        &self.check
    }

    /// Whether replayed bytes are still to be read.
    pub fn is_replaying(&self) -> bool {
        !self.replay.is_empty()
    }
}

impl<T: AsyncRead + Unpin, C: ReadCheck + Unpin> AsyncRead for Rewind<T, C> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        if this.replay.is_empty() {
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        } else {
            let n = this.replay.len().min(buf.remaining());
            buf.put_slice(&this.replay[..n]);
            this.replay.advance(n);
            if this.replay.is_empty() {
                // Frees the buffer now rather than with the connection.
                this.replay = Bytes::new();
            }
        }
        if let Err(refused) = this.check.check(&buf.filled()[before..]) {
            // The refused bytes never reach the reader.
            buf.set_filled(before);
            return Poll::Ready(Err(refused));
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin, C: Unpin> AsyncWrite for Rewind<T, C> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn replays_then_reads_the_connection_and_writes_through() {
        let (near, mut far) = tokio::io::duplex(64);
        let mut rewound = Rewind::new(near, Bytes::from_static(b"GET / HTTP/1.1\r\n"));
        far.write_all(b"\r\n").await.unwrap();
        let mut small = [0u8; 4];
        rewound.read_exact(&mut small).await.unwrap();
        assert_eq!(&small, b"GET ");
        assert!(rewound.is_replaying());
        let mut rest = [0u8; 14];
        rewound.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"/ HTTP/1.1\r\n\r\n");
        assert!(!rewound.is_replaying());
        rewound.write_all(b"HTTP/1.1 200 OK\r\n").await.unwrap();
        let mut answer = [0u8; 17];
        far.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200 OK\r\n");
    }

    /// Refuses any read holding `!`, and counts what it let through.
    #[derive(Debug, Default)]
    struct NoBang(usize);

    impl ReadCheck for NoBang {
        fn check(&mut self, read: &[u8]) -> io::Result<()> {
            if read.contains(&b'!') {
                return Err(io::Error::other("a bang"));
            }
            self.0 += read.len();
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_check_sees_replayed_and_fresh_bytes_and_a_refused_read_hands_nothing_on() {
        let (near, mut far) = tokio::io::duplex(64);
        let mut rewound = Rewind::with_check(near, Bytes::from_static(b"abc"), NoBang::default());
        far.write_all(b"de").await.unwrap();
        let mut five = [0u8; 5];
        rewound.read_exact(&mut five).await.unwrap();
        assert_eq!(&five, b"abcde");
        assert_eq!(rewound.check().0, 5);
        far.write_all(b"f!").await.unwrap();
        let mut buf = [0u8; 8];
        let mut read = ReadBuf::new(&mut buf);
        let refused = std::future::poll_fn(|cx| Pin::new(&mut rewound).poll_read(cx, &mut read))
            .await
            .unwrap_err();
        assert_eq!(refused.to_string(), "a bang");
        assert!(read.filled().is_empty());
    }
}
