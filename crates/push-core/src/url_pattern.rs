//! WHATWG URL patterns as topic patterns (feature `urlpattern`), through the `urlpattern` crate.

use core::fmt;
use std::sync::Arc;

use crate::{Error, MAX_TOPIC_LEN, Topic};

/// Whether every `]` closes a `[` before it (a backslash escapes the character after it).
/// `urlpattern` 0.6 subtracts past zero on a `]` that closes nothing in a hostname
/// (`https:]/example.com`, found by fuzzing): an overflow panic in debug builds, a wrapped
/// bracket depth in release. Such a pattern is refused before it reaches the crate.
fn brackets_balance(pattern: &str) -> bool {
    let mut depth = 0usize;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => depth = depth.saturating_add(1),
            ']' if depth == 0 => return false,
            ']' => depth -= 1,
            _ => {}
        }
    }
    true
}

/// A WHATWG URL pattern (`https://example.com/books/:id`) used as a topic pattern: it matches
/// the topics that are absolute URLs the pattern matches. A topic that is not an absolute URL
/// never matches.
///
/// Matching uses the `regex` crate's automata, linear in the topic's length.
///
/// ```
/// use push_core::{Topic, UrlPattern};
///
/// let books = UrlPattern::parse("https://example.com/books/:id").unwrap();
/// assert!(books.matches(&Topic::new("https://example.com/books/42").unwrap()));
/// assert!(!books.matches(&Topic::new("https://example.com/books/42/reviews").unwrap()));
/// assert!(!books.matches(&Topic::new("not a url").unwrap()));
/// ```
#[derive(Clone)]
pub struct UrlPattern {
    source: Arc<str>,
    pattern: Arc<urlpattern::UrlPattern>,
}

impl UrlPattern {
    /// Parses a URL pattern constructor string of at most [`MAX_TOPIC_LEN`] bytes; it must be
    /// absolute (name a protocol), as topics have no base URL.
    ///
    /// # Errors
    /// [`Error::TopicTooLong`] past the length; [`Error::PatternInvalid`] when it is not an
    /// absolute URL pattern.
    pub fn parse(pattern: &str) -> Result<Self, Error> {
        if pattern.len() > MAX_TOPIC_LEN {
            return Err(Error::TopicTooLong);
        }
        if !brackets_balance(pattern) {
            return Err(Error::PatternInvalid);
        }
        // The `urlpattern` crate is fed hostile text (any subscriber's `match_urlpattern`, any
        // token's grant): a panic inside it refuses the pattern, never ends the caller.
        let compiled = std::panic::catch_unwind(|| {
            let init =
                urlpattern::UrlPatternInit::parse_constructor_string::<regex::Regex>(pattern, None)
                    .ok()?;
            urlpattern::UrlPattern::parse(init, urlpattern::UrlPatternOptions::default()).ok()
        })
        .ok()
        .flatten()
        .ok_or(Error::PatternInvalid)?;
        Ok(Self {
            source: pattern.into(),
            pattern: Arc::new(compiled),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `topic` is an absolute URL this pattern matches.
    pub fn matches(&self, topic: &Topic) -> bool {
        let Ok(url) = url::Url::parse(topic.as_str()) else {
            return false;
        };
        self.pattern
            .test(urlpattern::UrlPatternMatchInput::Url(url))
            .unwrap_or(false)
    }
}

impl fmt::Debug for UrlPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.source, f)
    }
}

impl fmt::Display for UrlPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for UrlPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for UrlPattern {}

impl core::hash::Hash for UrlPattern {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.source.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Pattern, Selector};

    fn t(name: &str) -> Topic {
        Topic::new(name).unwrap()
    }

    #[test]
    fn url_patterns_match_absolute_url_topics() {
        let p = UrlPattern::parse("https://example.com/books/:id").unwrap();
        assert!(p.matches(&t("https://example.com/books/1")));
        assert!(!p.matches(&t("https://example.com/books/1/x")));
        assert!(!p.matches(&t("http://example.com/books/1")));
        assert!(!p.matches(&t("/books/1")));
        let any = UrlPattern::parse("https://*.example.com/*").unwrap();
        assert!(any.matches(&t("https://api.example.com/a/b?c")));
        let s = Selector::new([Pattern::UrlPattern(p)]).unwrap();
        assert!(s.matches(&t("https://example.com/books/2")));
        assert_eq!(s.patterns()[0].to_string(), "https://example.com/books/:id");
    }

    /// Found by the `mercure_token` fuzz target: a `]` closing nothing in the hostname made
    /// the `urlpattern` crate subtract past zero (a panic in debug builds).
    #[test]
    fn a_closing_bracket_that_closes_nothing_is_refused_not_a_panic() {
        for pattern in [
            "https:]/example.com/:id",
            "https://]example.com",
            "https://a]b/",
        ] {
            assert_eq!(
                UrlPattern::parse(pattern).err(),
                Some(Error::PatternInvalid),
                "{pattern}"
            );
        }
        let v6 = UrlPattern::parse("https://[\\:\\:1]/x").unwrap();
        assert!(v6.matches(&t("https://[::1]/x")));
    }

    #[test]
    fn malformed_or_relative_patterns_are_refused() {
        for bad in [
            "/books/:id",
            "https://example.com/(",
            "https://example.com/:",
        ] {
            assert_eq!(
                UrlPattern::parse(bad).err(),
                Some(Error::PatternInvalid),
                "{bad}"
            );
        }
        let long = format!("https://e.com/{}", "a".repeat(MAX_TOPIC_LEN));
        assert_eq!(UrlPattern::parse(&long).err(), Some(Error::TopicTooLong));
    }
}
