//! The codec's error (the server and the client have their own).

use core::fmt;

/// What went wrong while decoding or encoding an event stream.
///
/// Decoding errors are about **limits** only: the WHATWG interpretation accepts every byte string
/// (invalid UTF-8 is replaced, unknown fields are ignored), so the only input the [`Decoder`]
/// refuses is input that would make it buffer without bound. An incomplete line or event is never
/// an error. Encoding errors are values that cannot be written without changing their meaning or
/// injecting a field.
///
/// [`Decoder`]: crate::Decoder
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// An `event`, `id` or `retry` line is longer than
    /// [`Config::max_line_len`](crate::Config::max_line_len) bytes.
    LineTooLong,
    /// An event's data is longer than [`Config::max_event_len`](crate::Config::max_event_len) bytes.
    EventTooLarge,
    /// The event type to encode contains CR, LF or NUL.
    InvalidEventType,
    /// The id to encode contains CR, LF or NUL.
    InvalidId,
    /// The data to encode is not valid UTF-8 (`text/event-stream` is UTF-8 only).
    DataNotUtf8,
    /// The comment to encode contains CR or LF.
    InvalidComment,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong => {
                f.write_str("an event-stream line exceeds the configured maximum length")
            }
            Self::EventTooLarge => {
                f.write_str("an event's data exceeds the configured maximum size")
            }
            Self::InvalidEventType => f.write_str("the event type contains CR, LF or NUL"),
            Self::InvalidId => f.write_str("the event id contains CR, LF or NUL"),
            Self::DataNotUtf8 => f.write_str("the event data is not valid UTF-8"),
            Self::InvalidComment => f.write_str("the comment contains CR or LF"),
        }
    }
}

impl std::error::Error for Error {}

/// Only with push-http in the build (the `server` or `client` feature): the codec alone needs
/// no HTTP.
#[cfg(any(feature = "server", feature = "client"))]
impl push_http::HttpStatus for Error {
    /// 502 for a decoding limit (a stream the peer sent, as
    /// [`client::Error::Decode`](crate::client::Error::Decode) answers when the `client` feature
    /// is on), 500 for a value this side could not encode.
    fn status(&self) -> http::StatusCode {
        match self {
            Self::LineTooLong | Self::EventTooLarge => http::StatusCode::BAD_GATEWAY,
            Self::InvalidEventType | Self::InvalidId | Self::DataNotUtf8 | Self::InvalidComment => {
                http::StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_message() {
        for e in [
            Error::LineTooLong,
            Error::EventTooLarge,
            Error::InvalidEventType,
            Error::InvalidId,
            Error::DataNotUtf8,
            Error::InvalidComment,
        ] {
            assert!(!e.to_string().is_empty());
            let _: &dyn std::error::Error = &e;
        }
    }

    #[cfg(any(feature = "server", feature = "client"))]
    #[test]
    fn decoding_limits_are_the_peers_and_encoding_errors_ours() {
        use http::StatusCode;
        use push_http::HttpStatus;
        for e in [Error::LineTooLong, Error::EventTooLarge] {
            assert_eq!(e.status(), StatusCode::BAD_GATEWAY, "{e}");
        }
        for e in [
            Error::InvalidEventType,
            Error::InvalidId,
            Error::DataNotUtf8,
            Error::InvalidComment,
        ] {
            assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR, "{e}");
        }
    }
}
