//! The errors of the client role.

use http::StatusCode;
use tokio_tungstenite::tungstenite;

/// What went wrong for a [`Client`](super::Client).
///
/// [`Refused`](Self::Refused) and [`Url`](Self::Url) end the stream (trying again would get the
/// same answer); after the others the client reconnects as its
/// `push_http::client::ReconnectPolicy` says, and the stream ends only when the policy gives up.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not a `ws://` (or, with the `tls` feature, `wss://`) URL.
    #[error("bad URL")]
    Url(#[source] Box<tungstenite::Error>),
    /// The server answered the upgrade with this status instead of `101` (a 403 of its Origin
    /// policy or its hooks, a 404, …).
    #[error("the server refused the upgrade: {0}")]
    Refused(StatusCode),
    /// Connecting failed, or the connection failed (I/O, TLS, a WebSocket protocol error).
    #[error("websocket")]
    WebSocket(#[source] Box<tungstenite::Error>),
    /// The server closed the connection (1001 when it shut down, 1008 "expired" when the access
    /// its hooks granted ended, 1013 when this client fell behind, …).
    #[error("closed by the server ({code}{}{reason})", if reason.is_empty() { "" } else { ": " })]
    Closed {
        /// The close code (1005 when the close frame carried none, 1006 when the connection
        /// ended without one).
        code: u16,
        /// The reason the server gave.
        reason: String,
    },
    /// The server sent a message that is not the push protocol; the connection goes on.
    #[error("not the push protocol: {0}")]
    Protocol(String),
}

impl From<tungstenite::Error> for Error {
    fn from(error: tungstenite::Error) -> Self {
        match error {
            tungstenite::Error::Http(response) => Self::Refused(response.status()),
            error @ tungstenite::Error::Url(_) => Self::Url(Box::new(error)),
            error => Self::WebSocket(Box::new(error)),
        }
    }
}

impl Error {
    /// Whether the client gives up after this error (a refusal or a bad URL).
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Url(_) | Self::Refused(_))
    }
}

impl push_http::HttpStatus for Error {
    /// The server's own status for a refusal; 400 for a bad URL; 502 for what the server (the
    /// upstream of a client) did wrong or failed at.
    fn status(&self) -> StatusCode {
        match self {
            Self::Refused(status) => *status,
            Self::Url(_) => StatusCode::BAD_REQUEST,
            Self::WebSocket(_) | Self::Closed { .. } | Self::Protocol(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use push_http::HttpStatus;
    use std::error::Error as _;

    #[test]
    fn statuses_and_sources() {
        let refused = Error::from(tungstenite::Error::Http(Box::new(
            http::Response::builder().status(403).body(None).unwrap(),
        )));
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.is_fatal());
        let io = Error::from(tungstenite::Error::Io(
            std::io::ErrorKind::ConnectionReset.into(),
        ));
        assert_eq!(io.status(), StatusCode::BAD_GATEWAY);
        assert!(!io.is_fatal() && io.source().is_some());
        assert_eq!(
            io.to_string(),
            "websocket",
            "the source is not printed twice"
        );
        let closed = Error::Closed {
            code: 1008,
            reason: "expired".into(),
        };
        assert_eq!(closed.to_string(), "closed by the server (1008: expired)");
    }
}
