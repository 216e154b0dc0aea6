//! What an application plugs into a connection run by [`run`](crate::run): the [`Handler`] that
//! sees and produces data messages, the [`Outbox`] its replies go to, and the
//! [`ConnectionConfig`] of the runner's timers and close codes.

use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio_tungstenite::tungstenite::Message;

/// How a connection is run once accepted: `ConnectionConfig::default().ping_interval(..)`.
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    pub(crate) ping_interval: Duration,
    pub(crate) pong_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) overflow_close_code: u16,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_secs(5),
            overflow_close_code: 1013,
        }
    }
}

impl ConnectionConfig {
    /// How long the connection may be silent before we ping (default 30 s).
    #[must_use]
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long the peer has to answer a ping before it is closed as dead (default 20 s).
    #[must_use]
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// How long the peer has to answer our close frame (default 5 s).
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// The close code sent when a subscriber falls behind and the broker's overflow policy is
    /// to close: 1013 "try again later" (default) or 1008 "policy violation".
    #[must_use]
    pub fn overflow_close_code(mut self, code: u16) -> Self {
        self.overflow_close_code = code;
        self
    }
}

/// Replies queued by a [`Handler`], written before anything else the handler produces.
#[derive(Debug, Default)]
pub struct Outbox(pub(crate) VecDeque<Message>);

impl Outbox {
    /// Queues a message (a [`Message::Close`] starts the close handshake).
    pub fn push(&mut self, message: Message) {
        self.0.push_back(message);
    }
}

/// The application side of a connection run by [`run`](crate::run).
///
/// [`run`](crate::run) owns the socket: it answers pings, pings the peer, closes dead peers, maps bad input
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
