//! Why a server refuses a poll: a malformed request or a broker that cannot serve.

use core::fmt;

use http::StatusCode;
use push_http::HttpStatus;

/// What a server refuses a long poll for. Each request variant says which part is malformed;
/// the message (`Display`) is the body of the `400` answer.
///
/// The topics of a request are read (and refused) by the hooks, not here: see
/// [`push_http::Hooks`]. [`HttpStatus::status`] (or the inherent `status`) says the answer's
/// status.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The query string is not valid percent-encoded UTF-8.
    InvalidQuery,
    /// A parameter that may appear once (`since`, `wait`) appears twice.
    DuplicateParameter(&'static str),
    /// The `wait` query parameter is not a whole number of seconds.
    InvalidWait,
    /// The broker refused the subscription, or closed it (shut down or unavailable).
    Broker(push_core::Error),
}

impl Error {
    /// The status a server answers this error with: `400` for a malformed request, the broker
    /// error's own ([`HttpStatus`]: `400` for a selector it refuses, `503` when it cannot
    /// serve).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidQuery | Self::DuplicateParameter(_) | Self::InvalidWait => {
                StatusCode::BAD_REQUEST
            }
            Self::Broker(e) => e.status(),
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
            Self::InvalidQuery => {
                f.write_str("the query string is not valid percent-encoded UTF-8")
            }
            Self::DuplicateParameter(name) => {
                write!(f, "the parameter {name:?} is given more than once")
            }
            Self::InvalidWait => {
                f.write_str("invalid wait: the query parameter is not a whole number of seconds")
            }
            Self::Broker(e) => write!(f, "the broker cannot serve: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Broker(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_which_part_is_wrong() {
        let e = Error::DuplicateParameter("since");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("\"since\""));
        let e = Error::Broker(push_core::Error::BrokerClosed);
        assert!(std::error::Error::source(&e).is_some());
        assert!(Error::InvalidWait.to_string().contains("wait"));
        assert_eq!(
            Error::Broker(push_core::Error::BrokerClosed).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            Error::Broker(push_core::Error::SelectorTooLarge).status(),
            StatusCode::BAD_REQUEST
        );
    }
}
