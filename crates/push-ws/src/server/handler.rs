//! What an application plugs into a connection run by [`run`](super::run): the [`Handler`]
//! that sees and produces data messages, and the [`Outbox`] its replies go to.

use std::collections::VecDeque;
use std::task::{Context, Poll};

use tokio_tungstenite::tungstenite::Message;

/// Replies queued by a [`Handler`], written before anything else the handler produces.
#[derive(Debug, Default)]
pub struct Outbox(pub(crate) VecDeque<Message>);

impl Outbox {
    /// Queues a message (a [`Message::Close`] starts the close handshake).
    pub fn push(&mut self, message: Message) {
        self.0.push_back(message);
    }
}

/// The application side of a connection run by [`run`](super::run).
///
/// [`run`](super::run) owns the socket: it answers pings, pings the peer, closes dead peers, maps bad input
/// to close codes and completes close handshakes. The handler only sees data messages and
/// produces data messages (or a [`Message::Close`] to end the connection).
pub trait Handler {
    /// A text or binary message arrived; replies go to `outbox`.
    fn on_message(&mut self, message: Message, outbox: &mut Outbox);

    /// The next message to send, if one is ready. It is polled only when the socket can take a
    /// message, so a slow peer makes the handler wait (and a broker subscription lag, where its
    /// overflow policy applies) instead of growing a queue. `Ready(None)`: nothing more, ever.
    fn poll_outgoing(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>>;

    /// Whether the handler can take the next incoming message now (default: always). While it
    /// is `Pending` the connection does not read from the peer, so a slow consumer pushes back
    /// on the peer instead of growing a buffer.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let _ = cx;
        Poll::Ready(())
    }
}
