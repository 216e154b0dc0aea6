//! The one error type of push-core.

use core::fmt;

/// What went wrong in push-core's vocabulary: a cursor or topic that is not well formed, or a
/// broker that can no longer serve.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The cursor is empty.
    CursorEmpty,
    /// The cursor has no `-` between its epoch and its offset.
    CursorMissingSeparator,
    /// The epoch, the offset or the sequence after a second `-` is missing.
    CursorMissingNumber,
    /// The cursor contains a character other than `0-9`, `a-f` and one or two `-`.
    CursorInvalidCharacter,
    /// The cursor is longer than any cursor can be.
    CursorTooLong,
    /// The cursor is not in its one canonical form (a leading zero, or uppercase digits).
    CursorNotCanonical,
    /// The topic name is empty.
    TopicEmpty,
    /// The topic name is longer than [`MAX_TOPIC_LEN`](crate::MAX_TOPIC_LEN) bytes.
    TopicTooLong,
    /// The topic name contains a control character.
    TopicInvalidCharacter,
    /// The selector names no topic.
    SelectorEmpty,
    /// The selector names more topics than [`MAX_SELECTOR_TOPICS`](crate::MAX_SELECTOR_TOPICS).
    SelectorTooLarge,
    /// A topic pattern is not well formed (a URI template or URL pattern that does not parse).
    PatternInvalid,
    /// A query parameter is not strictly `application/x-www-form-urlencoded`: an escape that is
    /// not `%` and two hex digits, or bytes that are not UTF-8 once decoded.
    QueryInvalid,
    /// The broker has shut down.
    BrokerClosed,
    /// The broker's backing store is unreachable or failed.
    BrokerUnavailable,
    /// The broker already retains history on as many topics as its configuration allows, and
    /// this publish would start another one. Retrying later may succeed (topics whose history
    /// expires are forgotten); servers answer it with 503 Service Unavailable.
    TopicLimit,
    /// The broker already serves as many pattern subscriptions (or a pattern subscription
    /// already follows as many topics) as its configuration allows. Servers answer it with
    /// 503 Service Unavailable.
    SubscriptionLimit,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CursorEmpty => "the cursor is empty",
            Self::CursorMissingSeparator => "the cursor has no '-' between epoch and offset",
            Self::CursorMissingNumber => "the cursor lacks a number around a '-'",
            Self::CursorInvalidCharacter => {
                "the cursor contains a character other than 0-9, a-f and one or two '-'"
            }
            Self::CursorTooLong => "the cursor is too long",
            Self::CursorNotCanonical => {
                "the cursor is not in canonical form (leading zero or uppercase digit)"
            }
            Self::TopicEmpty => "the topic is empty",
            Self::TopicTooLong => "the topic is too long",
            Self::TopicInvalidCharacter => "the topic contains a control character",
            Self::SelectorEmpty => "the selector names no topic",
            Self::SelectorTooLarge => "the selector names too many topics",
            Self::PatternInvalid => "the topic pattern is not a valid URI template or URL pattern",
            Self::QueryInvalid => {
                "a query parameter has an invalid %-escape or is not UTF-8 once decoded"
            }
            Self::BrokerClosed => "the broker has shut down",
            Self::BrokerUnavailable => "the broker is unavailable",
            Self::SubscriptionLimit => {
                "the broker serves as many pattern subscriptions or pattern topics as it may; retry later"
            }
            Self::TopicLimit => {
                "the broker holds history on as many topics as it may; retry later or publish to an existing topic"
            }
        })
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Whether this error is about a malformed cursor (useful to answer 400 with the message).
    pub fn is_cursor(self) -> bool {
        matches!(
            self,
            Self::CursorEmpty
                | Self::CursorMissingSeparator
                | Self::CursorMissingNumber
                | Self::CursorInvalidCharacter
                | Self::CursorTooLong
                | Self::CursorNotCanonical
        )
    }
}
