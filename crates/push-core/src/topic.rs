//! Topic names.

use core::fmt;
use std::sync::Arc;

use crate::Error;

/// The longest topic name, in bytes (topics are often URLs, as in the Mercure protocol).
pub const MAX_TOPIC_LEN: usize = 1024;

/// A validated topic name: 1 to [`MAX_TOPIC_LEN`] bytes of UTF-8 without control characters.
///
/// Cloning is a reference count. Topics compare by their text.
///
/// ```
/// use push_core::Topic;
///
/// let t = Topic::new("orders/42").unwrap();
/// assert_eq!(t.as_str(), "orders/42");
/// assert!(Topic::new("bad\nname").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Topic(Arc<str>);

impl Topic {
    /// Validates and wraps a topic name.
    pub fn new(name: &str) -> Result<Self, Error> {
        if name.is_empty() {
            return Err(Error::TopicEmpty);
        }
        if name.len() > MAX_TOPIC_LEN {
            return Err(Error::TopicTooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(Error::TopicInvalidCharacter);
        }
        Ok(Self(Arc::from(name)))
    }

    /// The topic name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::str::FromStr for Topic {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_validation() {
        assert_eq!(Topic::new(""), Err(Error::TopicEmpty));
        assert_eq!(
            Topic::new(&"x".repeat(MAX_TOPIC_LEN + 1)),
            Err(Error::TopicTooLong)
        );
        assert!(Topic::new(&"x".repeat(MAX_TOPIC_LEN)).is_ok());
        assert_eq!(Topic::new("a\0b"), Err(Error::TopicInvalidCharacter));
        assert_eq!(Topic::new("a\u{85}b"), Err(Error::TopicInvalidCharacter));
        assert!(Topic::new("https://example.com/books/1 ü").is_ok());
    }
}
