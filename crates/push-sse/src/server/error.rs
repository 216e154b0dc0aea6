//! The server's error: why a request gets no event stream.

use core::fmt;

use http::StatusCode;

/// Why a subscribe request was not answered with an event stream. The
/// [`Endpoint`](super::Endpoint) answers it with a text response of its
/// [`status`](Self::status) (also through [`push_http::HttpStatus`]); the hooks' refusals
/// carry their own status and are not errors of this crate.
///
/// Distinct from the client's [`client::Error`](crate::client::Error) and the codec's
/// [`crate::Error`]; the push-core error is kept as the
/// [`source`](std::error::Error::source).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The resume point (`Last-Event-ID`, or its query parameter) does not decode (peer input:
    /// 400). A value that is no cursor is not an error: it is an id the broker places.
    Cursor(push_core::Error),
    /// The broker refused the subscription: closed, unavailable or out of capacity (503), or the
    /// selector is one it cannot take (400).
    Broker(push_core::Error),
}

impl Error {
    /// The status the request is answered with: 400 for a malformed cursor, else the push-core
    /// error's own (503 when the broker is closed, unavailable or full; 400 for a selector it
    /// refuses).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Cursor(_) => StatusCode::BAD_REQUEST,
            Self::Broker(e) => push_http::HttpStatus::status(e),
        }
    }
}

impl push_http::HttpStatus for Error {
    fn status(&self) -> StatusCode {
        Self::status(self)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cursor(e) => write!(f, "bad Last-Event-ID: {e}"),
            Self::Broker(e) => write!(f, "cannot subscribe: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Cursor(e) | Self::Broker(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn statuses_and_sources() {
        let e = Error::Cursor(push_core::Error::CursorEmpty);
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.source().is_some());
        let e = Error::Broker(push_core::Error::BrokerClosed);
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            push_http::HttpStatus::status(&e),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(!e.to_string().is_empty());
    }
}
