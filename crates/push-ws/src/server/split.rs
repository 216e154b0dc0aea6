//! Sender and receiver halves for a connection that other tasks write to and read from, with
//! the heartbeat, the limits and the close handshake still handled in one place.

use core::fmt;
use std::future::Future;
use std::task::{Context, Poll};

use http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::PollSender;

use super::run;
use super::{Config, Handler, Outbox};
use super::{Ended, Error};

/// Splits an accepted connection into a [`WsSender`] (cloneable), a [`WsReceiver`] and the
/// future that runs the connection; spawn the future, then write and read from any task.
///
/// Both directions are bounded by `capacity` messages: [`WsSender::send`] waits while the queue
/// is full ([`WsSender::try_send`] does not, so a publisher can drop or close instead), and
/// when the [`WsReceiver`] is not read the connection stops reading from the peer rather than
/// buffering. Pings, pongs, limits and close codes are handled by the connection future as in
/// [`run`](super::run).
///
/// Closing works from either side and with the halves anywhere: [`WsSender::close`] (or
/// dropping every sender) sends a close frame after the queued messages and completes the
/// handshake; a close from the peer is answered, and then `recv` returns `None` and `send`
/// fails. The future resolves to how the connection [`Ended`].
///
/// ```no_run
/// # async fn demo(ws: push_ws::WebSocketStream<tokio::net::TcpStream>) {
/// use push_ws::tungstenite::Message;
///
/// let (sender, mut receiver, connection) = push_ws::server::split(ws, &Default::default(), 32);
/// let task = tokio::spawn(connection);
/// sender.send(Message::text("hello")).await.ok();
/// while let Some(message) = receiver.recv().await {
///     if message == Message::text("bye") {
///         sender.close(1000, "bye").await.ok();
///     }
/// }
/// let _ended = task.await;
/// # }
/// # let _ = demo;
/// ```
pub fn split<S>(
    ws: WebSocketStream<S>,
    config: &Config,
    capacity: usize,
) -> (
    WsSender,
    WsReceiver,
    impl Future<Output = Result<Ended, Error>> + use<S>,
)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let capacity = capacity.max(1);
    let (out_tx, out_rx) = mpsc::channel(capacity);
    let (in_tx, in_rx) = mpsc::channel(capacity);
    let handler = Channels {
        outgoing: out_rx,
        incoming: PollSender::new(in_tx),
        closed: false,
    };
    let config = config.clone();
    let connection = async move { run(ws, &config, handler).await };
    (WsSender(out_tx), WsReceiver(in_rx), connection)
}

struct Channels {
    outgoing: mpsc::Receiver<Message>,
    incoming: PollSender<Message>,
    /// The close frame was handed to the connection.
    closed: bool,
}

impl Handler for Channels {
    fn on_message(&mut self, message: Message, _outbox: &mut Outbox) {
        // Reserved by `poll_ready`; a dropped receiver discards what arrives.
        let _ = self.incoming.send_item(message);
    }

    fn poll_outgoing(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        if self.closed {
            return Poll::Ready(None);
        }
        match self.outgoing.poll_recv(cx) {
            Poll::Ready(Some(message)) => {
                self.closed = message.is_close();
                Poll::Ready(Some(message))
            }
            // Every sender is gone: nothing more will be sent, close normally.
            Poll::Ready(None) => {
                self.closed = true;
                Poll::Ready(Some(Message::Close(Some(CloseFrame {
                    code: CloseCode::Normal,
                    reason: "".into(),
                }))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // A closed receiver is always ready: its messages are discarded.
        self.incoming.poll_reserve(cx).map(|_| ())
    }
}

/// The sending half of a [`split`] connection. Cloning gives another sender to the same queue.
#[derive(Clone)]
pub struct WsSender(mpsc::Sender<Message>);

/// The connection has ended; the message was not sent.
#[derive(Debug, PartialEq, Eq)]
pub struct SendError(pub Message);

/// Why [`WsSender::try_send`] did not queue a message (which it gives back).
#[non_exhaustive]
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError {
    /// The queue is full: the peer reads slower than it is written to.
    Full(Message),
    /// The connection has ended.
    Closed(Message),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the connection has ended; the message was not sent")
    }
}

impl std::error::Error for SendError {}

impl push_http::HttpStatus for SendError {
    /// 503: the connection is gone, the message can not be delivered.
    fn status(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

impl fmt::Display for TrySendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "the send queue is full; the message was not queued",
            Self::Closed(_) => "the connection has ended; the message was not sent",
        })
    }
}

impl std::error::Error for TrySendError {}

impl push_http::HttpStatus for TrySendError {
    /// 503 for both: the peer can not take the message now (a full queue) or ever (an ended
    /// connection).
    fn status(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

impl WsSender {
    /// Queues a message, waiting while the queue is full.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, the message was not queued.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        self.0.send(message).await.map_err(|e| SendError(e.0))
    }

    /// Queues a message if there is room now.
    pub fn try_send(&self, message: Message) -> Result<(), TrySendError> {
        self.0.try_send(message).map_err(|e| match e {
            mpsc::error::TrySendError::Full(m) => TrySendError::Full(m),
            mpsc::error::TrySendError::Closed(m) => TrySendError::Closed(m),
        })
    }

    /// Closes the connection with `code` after the messages already queued: a close frame is
    /// sent and the peer's answer awaited (within the close timeout) by the connection future.
    pub async fn close(&self, code: u16, reason: &str) -> Result<(), SendError> {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        self.send(Message::Close(Some(frame))).await
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

impl fmt::Debug for WsSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsSender")
            .field("closed", &self.0.is_closed())
            .finish_non_exhaustive()
    }
}

/// The receiving half of a [`split`] connection: the peer's text and binary messages.
#[derive(Debug)]
pub struct WsReceiver(mpsc::Receiver<Message>);

impl WsReceiver {
    /// The next message from the peer; `None` once the connection has ended and every
    /// received message was read.
    ///
    /// # Cancel safety
    /// Cancel safe: no message is lost when the future is dropped.
    pub async fn recv(&mut self) -> Option<Message> {
        self.0.recv().await
    }

    /// Polls for the next message (see [`recv`](Self::recv)).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.0.poll_recv(cx)
    }
}
