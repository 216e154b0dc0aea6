//! An HTTP/2 stream as a byte stream, and the hand-over of an RFC 8441 extended CONNECT's
//! stream from the connection driver to the service that answered it.
//!
//! After a `2xx` answer to an extended CONNECT (`:method CONNECT`, `:protocol websocket`), the
//! stream carries the tunnelled protocol's bytes in DATA frames. [`H2Stream`] makes such a
//! stream an `AsyncRead + AsyncWrite`, on which tungstenite (or anything else that speaks over
//! a socket) runs unchanged, for servers and clients alike.
//!
//! A driver that hands requests to a tower service (`push_h2::drive`) cannot give the service
//! the stream: the service answers first, and the driver sends that answer. It puts an
//! [`OnConnect`] in the request's extensions instead (as hyper puts its `OnUpgrade`), keeps the
//! request's body, and once the service has answered `2xx` it completes the [`ConnectSender`]
//! with the stream. A service that wants the tunnel takes the [`OnConnect`] out of the
//! extensions and awaits it after answering.

use std::any::Any;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use h2::{RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;

/// An HTTP/2 stream as a byte stream: what the peer sends is read, what is written goes out as
/// DATA frames within the stream's flow-control window.
///
/// Bounded both ways: a write takes only what the peer's window (and h2's send buffer, see
/// [`Http2Limits::max_send_buffer_size`](crate::Http2Limits)) has room for and is pending
/// otherwise, so a peer that does not read holds at most its window here; a read holds at most
/// one received DATA frame, and the window it used is given back only as it is taken in, so a
/// peer can never send more than the window ahead of what is read.
#[derive(Debug)]
pub struct H2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// Received data not read yet (at most one DATA frame).
    buffered: Bytes,
    /// What lives exactly as long as the stream (see [`OnConnect::holding`]).
    held: Option<Box<dyn Any + Send>>,
}

impl H2Stream {
    /// Joins the two halves of a stream (from `send_response` / `into_body` on a server, or
    /// `send_request` / the response body on a client).
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> Self {
        Self {
            send,
            recv,
            buffered: Bytes::new(),
            held: None,
        }
    }
}

fn to_io(e: h2::Error) -> io::Error {
    if e.is_io() {
        e.into_io()
            .unwrap_or_else(|| io::Error::other("h2 i/o error"))
    } else {
        io::Error::other(e)
    }
}

impl AsyncRead for H2Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while self.buffered.is_empty() {
            match ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    // The frame is ours now: its share of the window goes back to the peer.
                    let len = data.len();
                    let _ = self.recv.flow_control().release_capacity(len);
                    self.buffered = data;
                }
                Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = self.buffered.len().min(buf.remaining());
        buf.put_slice(&self.buffered[..n]);
        self.buffered.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.send.reserve_capacity(buf.len());
        loop {
            let capacity = self.send.capacity();
            if capacity > 0 {
                let n = capacity.min(buf.len());
                self.send
                    .send_data(Bytes::copy_from_slice(&buf[..n]), false)
                    .map_err(to_io)?;
                return Poll::Ready(Ok(n));
            }
            match ready!(self.send.poll_capacity(cx)) {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
                None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The h2 connection task writes the queued DATA frames; they are within the window.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // End the stream; an error means it already ended or was reset.
        let _ = self.send.send_data(Bytes::new(), true);
        Poll::Ready(Ok(()))
    }
}

/// The stream of an extended CONNECT, once the request has been answered `2xx`: a request
/// extension a connection driver inserts, completed by its [`ConnectSender`]. Await it after
/// answering; it fails when the answer was not `2xx` or the stream ended before it was sent.
///
/// Clones share the hand-over (request extensions must be `Clone`, as hyper's `OnUpgrade`
/// is): the first to await it gets the stream, the others an error.
#[derive(Clone)]
pub struct OnConnect(Arc<Mutex<Pending>>);

/// What an [`OnConnect`] and its clones share.
struct Pending {
    /// `None` once the stream (or the error) has been taken.
    rx: Option<oneshot::Receiver<H2Stream>>,
    held: Option<Box<dyn Any + Send>>,
}

impl std::fmt::Debug for OnConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnConnect").finish_non_exhaustive()
    }
}

/// The driver's half of an [`OnConnect`]: completed with the stream after a `2xx` answer.
#[derive(Debug)]
pub struct ConnectSender(oneshot::Sender<H2Stream>);

impl OnConnect {
    /// A new hand-over: the [`ConnectSender`] stays with the driver, the [`OnConnect`] goes in
    /// the request's extensions.
    pub fn pair() -> (ConnectSender, Self) {
        let (tx, rx) = oneshot::channel();
        let pending = Pending {
            rx: Some(rx),
            held: None,
        };
        (ConnectSender(tx), Self(Arc::new(Mutex::new(pending))))
    }

    /// The same hand-over, with `guard` kept until the stream it yields is dropped (or until
    /// this is dropped, when no stream comes): a quota permit or a gauge of open streams that
    /// counts the stream itself, not the connection it shares with others.
    #[must_use]
    pub fn holding(self, guard: Box<dyn Any + Send>) -> Self {
        self.lock().held = Some(guard);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // Nothing panics while holding the lock; a poisoned one is still consistent.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ConnectSender {
    /// Whether the service still holds the [`OnConnect`] (or a clone), i.e. may take the
    /// stream. A driver
    /// resets a `2xx`-answered stream nobody claimed rather than leave a tunnel open to no one.
    pub fn is_claimed(&self) -> bool {
        !self.0.is_closed()
    }

    /// Hands `stream` over; gives it back when the [`OnConnect`] was dropped meanwhile.
    ///
    /// # Errors
    /// The stream itself, when nobody takes it.
    pub fn send(self, stream: H2Stream) -> Result<(), H2Stream> {
        self.0.send(stream)
    }
}

impl Future for OnConnect {
    type Output = io::Result<H2Stream>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut pending = self.lock();
        let Some(rx) = pending.rx.as_mut() else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the extended CONNECT's stream was already taken",
            )));
        };
        let received = ready!(Pin::new(rx).poll(cx));
        pending.rx = None;
        Poll::Ready(match received {
            Ok(mut stream) => {
                stream.held = pending.held.take();
                Ok(stream)
            }
            Err(_) => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the extended CONNECT's stream was not handed over (no 2xx answer, or it ended)",
            )),
        })
    }
}
