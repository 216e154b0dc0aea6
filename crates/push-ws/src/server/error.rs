//! The errors of the server role, and how a connection ended.

use http::StatusCode;
use tokio_tungstenite::tungstenite;

/// What went wrong while accepting or running a server-side WebSocket connection.
///
/// Errors caused by the peer (a refused handshake, a malformed frame, a dead peer) are reported
/// here and never panic. The wrapped tungstenite error is boxed so `Result<_, Error>` stays small.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The handshake was refused by the [`Config`](super::Config) policy; the
    /// refusal (403 for a cross-site Origin, 400 for a malformed upgrade) was sent to the client.
    /// From [`drive`](super::drive): the hooks refused the URL's topics after the upgrade, and
    /// the connection was closed with 1008 and the refusal's message.
    #[error("refused: {0}")]
    Refused(push_http::Refusal),
    /// The peer did not answer a ping within the deadline.
    #[error("the peer did not answer a ping in time")]
    DeadPeer,
    /// The peer did not answer our close frame within the close timeout.
    #[error("the peer did not complete the close handshake in time")]
    CloseTimeout,
    /// The connection failed at the WebSocket layer (framing, limits, UTF-8, I/O).
    #[error("websocket")]
    WebSocket(#[source] Box<tungstenite::Error>),
    /// An I/O error outside tungstenite (for example on an HTTP/2 stream).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The broker refused a subscription.
    #[error("broker: {0}")]
    Broker(#[from] push_core::Error),
    /// An HTTP/2 error on the extended CONNECT stream.
    #[cfg(feature = "h2")]
    #[error("h2: {0}")]
    H2(#[from] h2::Error),
    /// A hyper error while upgrading.
    #[error("hyper: {0}")]
    Hyper(#[from] hyper::Error),
}

impl push_http::HttpStatus for Error {
    /// 400 / 403 / 431 for a refused handshake (its own status), 503 when the broker is
    /// unavailable (through `push_core::Error`), 500 otherwise: the other errors happen after
    /// the upgrade, when no HTTP answer is possible any more, and are reported for logs.
    fn status(&self) -> StatusCode {
        match self {
            Self::Refused(refusal) => refusal.status(),
            Self::Broker(error) => error.status(),
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<tungstenite::Error> for Error {
    fn from(e: tungstenite::Error) -> Self {
        Self::WebSocket(Box::new(e))
    }
}

/// How a connection ended, as seen by [`drive`](super::drive) and [`run`](super::run).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ended {
    /// The close handshake completed; `code` is the close code that started it and `by_peer`
    /// says which side sent it first.
    Closed {
        /// The close code (1005 when the closing frame carried none).
        code: u16,
        /// Whether the peer started the close handshake.
        by_peer: bool,
    },
    /// The peer went away without a close handshake (TCP reset or end of stream).
    Dropped,
}
