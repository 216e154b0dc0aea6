//! Why a client's poll failed: its configuration, the transport, or the server's answer.

use core::fmt;

use http::StatusCode;
use push_http::HttpStatus;

/// Boxed errors of other libraries (hyper, rustls, the URL parser).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong for a [`Client`](super::Client).
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The URL is not an `http://` (or, with `tls`, `https://`) URL with a host.
    InvalidUrl(BoxError),
    /// The `since` cursor of the URL is malformed.
    InvalidSince(push_core::Error),
    /// A certificate given cannot be a trust anchor, or the TLS setup failed.
    Tls(BoxError),
    /// The server answered with a status other than 200, 204 or 304.
    Status(StatusCode),
    /// The server's answer is not in the long-poll format.
    InvalidResponse(&'static str),
    /// The connection or the HTTP exchange failed.
    Transport(BoxError),
}

impl Error {
    /// Whether the same poll may succeed later (the client retries these under its
    /// [`ReconnectPolicy`](super::ReconnectPolicy); the others end its stream): transport
    /// failures, malformed answers, and the statuses `408`, `429` and `5xx`.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) | Self::InvalidResponse(_) => true,
            Self::Status(s) => {
                s.is_server_error()
                    || *s == StatusCode::TOO_MANY_REQUESTS
                    || *s == StatusCode::REQUEST_TIMEOUT
            }
            Self::InvalidUrl(_) | Self::InvalidSince(_) | Self::Tls(_) => false,
        }
    }

    /// The status a server using this client (a gateway) would answer with: `502 Bad
    /// Gateway` for what the upstream did, `500` for the client's own configuration.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Status(_) | Self::InvalidResponse(_) | Self::Transport(_) => {
                StatusCode::BAD_GATEWAY
            }
            Self::InvalidUrl(_) | Self::InvalidSince(_) | Self::Tls(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl HttpStatus for Error {
    fn status(&self) -> StatusCode {
        Self::status(self)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(e) => write!(f, "invalid URL: {e}"),
            Self::InvalidSince(e) => write!(f, "invalid since cursor: {e}"),
            Self::Tls(e) => write!(f, "TLS setup: {e}"),
            Self::Status(s) => write!(f, "the server answered with status {s}"),
            Self::InvalidResponse(what) => write!(f, "invalid long-poll response: {what}"),
            Self::Transport(e) => write!(f, "transport error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidUrl(e) | Self::Tls(e) | Self::Transport(e) => Some(&**e),
            Self::InvalidSince(e) => Some(e),
            Self::Status(_) | Self::InvalidResponse(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_or_not_and_statuses() {
        assert!(Error::Status(StatusCode::SERVICE_UNAVAILABLE).is_transient());
        assert!(Error::Status(StatusCode::TOO_MANY_REQUESTS).is_transient());
        assert!(!Error::Status(StatusCode::BAD_REQUEST).is_transient());
        assert!(!Error::Status(StatusCode::UNAUTHORIZED).is_transient());
        let e = Error::InvalidSince(push_core::Error::CursorEmpty);
        assert!(!e.is_transient());
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let e = Error::Transport("reset".into());
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
    }
}
