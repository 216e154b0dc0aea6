//! The one error type of push-longpoll.

use core::fmt;

/// What went wrong: a request the server refuses (each variant says which part is malformed),
/// a broker that cannot serve, or (in the client) a transport or response problem.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The query string is not valid percent-encoded UTF-8.
    InvalidQuery,
    /// The request names no `topic`.
    MissingTopic,
    /// A `topic` parameter is not a valid topic, or there are too many.
    InvalidTopic(push_core::Error),
    /// The `since` cursor is malformed (the inner error says how).
    InvalidSince(push_core::Error),
    /// A parameter that may appear once (`since`, `wait`) appears twice.
    DuplicateParameter(&'static str),
    /// The `wait` query parameter is not a whole number of seconds.
    InvalidWait,
    /// The broker refused the subscription (shut down or unavailable).
    Broker(push_core::Error),
    /// Client: the server answered with an unexpected status code.
    Status(u16),
    /// Client: the server's answer is not in the long-poll format.
    InvalidResponse(&'static str),
    /// Client: the connection or the HTTP exchange failed.
    Transport(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// The HTTP status code a server answers this error with: 400 for a malformed request,
    /// 503 for a broker that cannot serve, 502 for the client-side errors.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidQuery
            | Self::MissingTopic
            | Self::InvalidTopic(_)
            | Self::InvalidSince(_)
            | Self::DuplicateParameter(_)
            | Self::InvalidWait => 400,
            Self::Broker(_) => 503,
            Self::Status(_) | Self::InvalidResponse(_) | Self::Transport(_) => 502,
        }
    }

    /// Whether retrying the same request later may succeed (the client backs off on these).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Broker(_) | Self::Transport(_) | Self::InvalidResponse(_) => true,
            Self::Status(s) => *s >= 500 || *s == 429 || *s == 408,
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidQuery => {
                f.write_str("the query string is not valid percent-encoded UTF-8")
            }
            Self::MissingTopic => f.write_str("the request names no topic (add ?topic=NAME)"),
            Self::InvalidTopic(e) => write!(f, "invalid topic: {e}"),
            Self::InvalidSince(e) => write!(f, "invalid since cursor: {e}"),
            Self::DuplicateParameter(name) => {
                write!(f, "the parameter {name:?} is given more than once")
            }
            Self::InvalidWait => {
                f.write_str("invalid wait: the query parameter is not a whole number of seconds")
            }
            Self::Broker(e) => write!(f, "the broker cannot serve: {e}"),
            Self::Status(s) => write!(f, "the server answered with status {s}"),
            Self::InvalidResponse(what) => write!(f, "invalid long-poll response: {what}"),
            Self::Transport(e) => write!(f, "transport error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidTopic(e) | Self::InvalidSince(e) | Self::Broker(e) => Some(e),
            Self::Transport(e) => Some(&**e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_which_part_is_wrong() {
        let e = Error::InvalidSince(push_core::Error::CursorNotCanonical);
        assert_eq!(e.status(), 400);
        assert!(e.to_string().starts_with("invalid since cursor: "));
        assert!(Error::InvalidWait.to_string().contains("wait"));
        assert_eq!(Error::Broker(push_core::Error::BrokerClosed).status(), 503);
        assert!(Error::Status(503).is_transient());
        assert!(!Error::Status(400).is_transient());
        assert!(std::error::Error::source(&e).is_some());
    }
}
