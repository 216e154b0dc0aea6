//! One way to map any error of the push crates to the HTTP status that answers it.

use http::StatusCode;

/// The HTTP status a server answers an error with.
///
/// Every error type of the push crates implements it, so a server maps any of them the same
/// way: `error.status()`. Peer input that is not well formed is a 4xx; a broker that cannot
/// serve now (closed, unavailable, or at a configured limit) is 503: retrying later may succeed; anything this crate does not know is 500.
///
/// ```
/// use http::StatusCode;
/// use push_core::Error;
/// use push_http::HttpStatus;
///
/// assert_eq!(Error::CursorNotCanonical.status(), StatusCode::BAD_REQUEST);
/// assert_eq!(Error::BrokerClosed.status(), StatusCode::SERVICE_UNAVAILABLE);
/// ```
pub trait HttpStatus {
    /// The status to answer with.
    fn status(&self) -> StatusCode;
}

impl<T: HttpStatus + ?Sized> HttpStatus for &T {
    fn status(&self) -> StatusCode {
        (**self).status()
    }
}

impl HttpStatus for push_core::Error {
    fn status(&self) -> StatusCode {
        match self {
            Self::CursorEmpty
            | Self::CursorMissingSeparator
            | Self::CursorMissingNumber
            | Self::CursorInvalidCharacter
            | Self::CursorTooLong
            | Self::CursorNotCanonical
            | Self::TopicEmpty
            | Self::TopicTooLong
            | Self::TopicInvalidCharacter
            | Self::SelectorEmpty
            | Self::SelectorTooLarge
            | Self::PatternInvalid
            | Self::QueryInvalid => StatusCode::BAD_REQUEST,
            Self::TopicLimit
            | Self::SubscriptionLimit
            | Self::BrokerUnavailable
            | Self::BrokerClosed => StatusCode::SERVICE_UNAVAILABLE,
            // A variant added to push-core after this crate: not the client's fault as far as
            // anyone here can tell.
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use push_core::{Error, Topic};

    use super::*;

    /// Every error push-core returns for a peer's input is a 400, every broker state a 503.
    #[test]
    fn peer_input_is_400_and_broker_state_is_503() {
        let peer = [
            Topic::new("").unwrap_err(),
            Topic::new("a\nb").unwrap_err(),
            Topic::new(&"x".repeat(push_core::MAX_TOPIC_LEN + 1)).unwrap_err(),
            "".parse::<push_core::Cursor>().unwrap_err(),
            "01-2".parse::<push_core::Cursor>().unwrap_err(),
            "1-".parse::<push_core::Cursor>().unwrap_err(),
            "12".parse::<push_core::Cursor>().unwrap_err(),
            "1-g".parse::<push_core::Cursor>().unwrap_err(),
            Error::SelectorEmpty,
            Error::SelectorTooLarge,
            Error::PatternInvalid,
            Error::QueryInvalid,
        ];
        for e in peer {
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{e}");
        }
        for e in [
            Error::TopicLimit,
            Error::BrokerUnavailable,
            Error::BrokerClosed,
        ] {
            assert_eq!(
                <&Error as HttpStatus>::status(&&e),
                StatusCode::SERVICE_UNAVAILABLE,
                "{e}"
            );
        }
    }
}
