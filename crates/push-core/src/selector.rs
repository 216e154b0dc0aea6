//! Patterns and the selectors that subscriptions use to name their topics.

use core::fmt;
use core::hash::{Hash, Hasher};
use std::sync::OnceLock;

use crate::{Error, Topic, UriTemplate};

/// The most patterns one [`Selector`] may hold.
pub const MAX_SELECTOR_TOPICS: usize = 64;

/// One way of naming topics: an exact name, every topic, a URI template or a URL pattern.
///
/// ```
/// use push_core::{Pattern, Topic};
///
/// assert_eq!(Pattern::parse("*").unwrap(), Pattern::All);
/// let books = Pattern::parse("https://example.com/books/{id}").unwrap();
/// assert!(matches!(books, Pattern::Template(_)));
/// assert!(books.matches(&Topic::new("https://example.com/books/1").unwrap()));
/// // Not a template (unclosed brace): the exact topic of that name.
/// assert!(matches!(Pattern::parse("a{b").unwrap(), Pattern::Exact(_)));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Exactly this topic.
    Exact(Topic),
    /// Every topic (written `*`).
    All,
    /// The topics an RFC 6570 URI template can expand to.
    Template(UriTemplate),
    /// The topics a WHATWG URL pattern matches (feature `urlpattern`).
    #[cfg(feature = "urlpattern")]
    UrlPattern(crate::UrlPattern),
}

impl Pattern {
    /// Reads a pattern as Mercure does: `*` is every topic; a string containing `{` that parses
    /// as a URI template is that template; anything else is the exact topic of that name.
    ///
    /// # Errors
    /// The [`Topic::new`] errors when the string is read as an exact topic and is not one.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text == "*" {
            return Ok(Self::All);
        }
        if text.contains('{')
            && let Ok(template) = UriTemplate::parse(text)
        {
            return Ok(Self::Template(template));
        }
        Topic::new(text).map(Self::Exact)
    }

    /// Whether `topic` is one of the topics this pattern names.
    pub fn matches(&self, topic: &Topic) -> bool {
        match self {
            Self::Exact(t) => t == topic,
            Self::All => true,
            Self::Template(t) => t.matches(topic),
            #[cfg(feature = "urlpattern")]
            Self::UrlPattern(p) => p.matches(topic),
        }
    }
}

impl From<Topic> for Pattern {
    fn from(topic: Topic) -> Self {
        Self::Exact(topic)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(t) => fmt::Display::fmt(t, f),
            Self::All => f.write_str("*"),
            Self::Template(t) => fmt::Display::fmt(t, f),
            #[cfg(feature = "urlpattern")]
            Self::UrlPattern(p) => fmt::Display::fmt(p, f),
        }
    }
}

/// Which topics a subscription receives: one to [`MAX_SELECTOR_TOPICS`] [`Pattern`]s; a topic
/// is selected when any of them matches it.
///
/// One [`Cursor`](crate::Cursor) resumes the whole selection.
///
/// ```
/// use push_core::{Pattern, Selector, Topic};
///
/// let a = Topic::new("a").unwrap();
/// let b = Topic::new("b").unwrap();
/// let s = Selector::new([b.clone(), a.clone(), b.clone()]).unwrap();
/// assert_eq!(s.topics(), &[a.clone(), b]);
/// assert!(s.matches(&a));
///
/// let books = Selector::new([Pattern::parse("/books/{id}").unwrap()]).unwrap();
/// assert!(books.matches(&Topic::new("/books/7").unwrap()));
/// assert!(books.topics().is_empty());
/// ```
#[derive(Clone)]
pub struct Selector {
    /// The exact topics, sorted, without duplicates: a single one inline.
    topics: Topics,
    /// The other patterns (`*`, templates, URL patterns), as given, without duplicates.
    others: Vec<Pattern>,
    /// Every pattern, exact topics first: made on the first call of
    /// [`patterns`](Self::patterns) (matching and subscribing never need it).
    all: OnceLock<Vec<Pattern>>,
}

/// The exact topics of a selector. Most selectors name one topic: it is kept inline, so a
/// request's selector costs no allocation beyond the topic's name.
#[derive(Clone, Debug)]
enum Topics {
    One(Topic),
    /// None (a selector of patterns only) or two and more.
    Many(Vec<Topic>),
}

impl Topics {
    fn as_slice(&self) -> &[Topic] {
        match self {
            Self::One(topic) => core::slice::from_ref(topic),
            Self::Many(topics) => topics,
        }
    }
}

impl Selector {
    /// A selector for these patterns (or topics; duplicates are merged).
    ///
    /// # Errors
    /// [`Error::SelectorEmpty`] without any pattern; [`Error::SelectorTooLarge`] past
    /// [`MAX_SELECTOR_TOPICS`] distinct patterns.
    pub fn new<I>(patterns: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Pattern>,
    {
        Self::with_limit(patterns, MAX_SELECTOR_TOPICS)
    }

    /// A selector for these patterns, with at most `limit` distinct ones instead of
    /// [`MAX_SELECTOR_TOPICS`]: for selectors a server trusts more than a request's (an
    /// authorization's grant, signed by a key it holds), whose bound is its configuration.
    /// Matching costs grow with the count (each topic is matched once against every pattern
    /// when a subscription first follows it), and so does the selector's memory.
    ///
    /// # Errors
    /// [`Error::SelectorEmpty`] without any pattern; [`Error::SelectorTooLarge`] past `limit`
    /// distinct patterns (and, before deduplication, past four times `limit` given).
    pub fn with_limit<I>(patterns: I, limit: usize) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Pattern>,
    {
        // The first exact topic apart, so that a selector of one topic allocates nothing.
        let mut first = None;
        let mut rest: Vec<Topic> = Vec::new();
        let mut others: Vec<Pattern> = Vec::new();
        for pattern in patterns {
            match pattern.into() {
                Pattern::Exact(topic) if first.is_none() => first = Some(topic),
                Pattern::Exact(topic) => rest.push(topic),
                other if others.contains(&other) => {}
                other => others.push(other),
            }
            // Bounds the work on a hostile iterator before deduplication.
            if usize::from(first.is_some()) + rest.len() + others.len() > limit.saturating_mul(4) {
                return Err(Error::SelectorTooLarge);
            }
        }
        let topics = match first {
            None => Topics::Many(Vec::new()),
            Some(topic) if rest.is_empty() => Topics::One(topic),
            Some(topic) => {
                rest.push(topic);
                rest.sort();
                rest.dedup();
                match rest.pop() {
                    Some(only) if rest.is_empty() => Topics::One(only),
                    Some(last) => {
                        rest.push(last);
                        Topics::Many(rest)
                    }
                    None => Topics::Many(rest),
                }
            }
        };
        let exact = topics.as_slice().len();
        if exact == 0 && others.is_empty() {
            return Err(Error::SelectorEmpty);
        }
        if exact + others.len() > limit {
            return Err(Error::SelectorTooLarge);
        }
        Ok(Self {
            topics,
            others,
            all: OnceLock::new(),
        })
    }

    /// A selector for one topic.
    pub fn one(topic: Topic) -> Self {
        Self {
            topics: Topics::One(topic),
            others: Vec::new(),
            all: OnceLock::new(),
        }
    }

    /// Every topic.
    pub fn all() -> Self {
        Self {
            topics: Topics::Many(Vec::new()),
            others: vec![Pattern::All],
            all: OnceLock::new(),
        }
    }

    /// The exact topics this selector names, sorted, without duplicates (its other patterns
    /// are in [`patterns`](Self::patterns)).
    pub fn topics(&self) -> &[Topic] {
        self.topics.as_slice()
    }

    /// Every pattern: the exact topics first, in [`topics`](Self::topics) order.
    pub fn patterns(&self) -> &[Pattern] {
        self.all.get_or_init(|| {
            let exact = self.topics().iter().cloned().map(Pattern::Exact);
            exact.chain(self.others.iter().cloned()).collect()
        })
    }

    /// Whether every pattern is an exact topic (so [`topics`](Self::topics) is the selection).
    pub fn is_exact(&self) -> bool {
        self.others.is_empty()
    }

    /// Whether an event on `topic` belongs to this selection.
    pub fn matches(&self, topic: &Topic) -> bool {
        self.topics().binary_search(topic).is_ok() || self.matches_by_pattern(topic)
    }

    /// Whether one of the selection's non-exact patterns (`*`, a template, a URL pattern)
    /// matches `topic`; what a broker asks of a topic it already knows is not named exactly.
    pub fn matches_by_pattern(&self, topic: &Topic) -> bool {
        self.others.iter().any(|p| p.matches(topic))
    }
}

/// Two selectors are equal when they select with the same patterns (the cache of
/// [`Selector::patterns`] plays no part).
impl PartialEq for Selector {
    fn eq(&self, other: &Self) -> bool {
        self.topics() == other.topics() && self.others == other.others
    }
}

impl Eq for Selector {}

impl Hash for Selector {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.topics().hash(state);
        self.others.hash(state);
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("topics", &self.topics())
            .field("others", &self.others)
            .finish()
    }
}

impl From<Topic> for Selector {
    fn from(topic: Topic) -> Self {
        Self::one(topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> Topic {
        Topic::new(name).unwrap()
    }

    #[test]
    fn selector_limits() {
        assert_eq!(Selector::new::<[Topic; 0]>([]), Err(Error::SelectorEmpty));
        let many = (0..=MAX_SELECTOR_TOPICS).map(|i| t(&i.to_string()));
        assert_eq!(Selector::new(many), Err(Error::SelectorTooLarge));
        let many = (0..1000).map(|i| t(&i.to_string()));
        assert_eq!(
            Selector::with_limit(many, 1000).unwrap().topics().len(),
            1000
        );
        let many = (0..=1000).map(|i| t(&i.to_string()));
        assert_eq!(
            Selector::with_limit(many, 1000),
            Err(Error::SelectorTooLarge)
        );
        let s = Selector::one(t("a"));
        assert!(!s.matches(&t("b")));
        assert!(s.is_exact());
    }

    #[test]
    fn patterns_mix_and_deduplicate() {
        let s = Selector::new([
            Pattern::parse("/b/{id}").unwrap(),
            Pattern::Exact(t("z")),
            Pattern::parse("/b/{id}").unwrap(),
            Pattern::Exact(t("a")),
            Pattern::All,
        ])
        .unwrap();
        assert_eq!(s.topics(), &[t("a"), t("z")]);
        let shown: Vec<String> = s.patterns().iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["a", "z", "/b/{id}", "*"]);
        assert!(!s.is_exact());
        assert!(s.matches(&t("anything")));
        let books = Selector::new([Pattern::parse("/b/{id}").unwrap()]).unwrap();
        assert!(books.matches(&t("/b/1")) && !books.matches(&t("/c/1")));
        assert!(Selector::all().matches(&t("x")));
    }

    #[test]
    fn one_topic_however_given_is_the_same_selector() {
        let one = Selector::one(t("a"));
        for same in [
            Selector::new([t("a")]).unwrap(),
            Selector::new([t("a"), t("a"), t("a")]).unwrap(),
        ] {
            assert_eq!(same, one);
            assert_eq!(same.topics(), &[t("a")]);
            assert_eq!(same.patterns(), &[Pattern::Exact(t("a"))]);
        }
        let s = Selector::new([t("c"), t("a"), t("b"), t("a")]).unwrap();
        assert_eq!(s.topics(), &[t("a"), t("b"), t("c")]);
        // The patterns made once stay the same; equality ignores whether they were made.
        let fresh = s.clone();
        assert_eq!(s.patterns().len(), 3);
        assert_eq!(s, fresh);
        assert_eq!(Selector::all().patterns(), &[Pattern::All]);
        assert!(Selector::all().topics().is_empty());
    }

    #[test]
    fn parse_follows_the_mercure_rule() {
        assert_eq!(Pattern::parse("*"), Ok(Pattern::All));
        assert_eq!(Pattern::parse("**"), Ok(Pattern::Exact(t("**"))));
        assert_eq!(Pattern::parse("a}"), Ok(Pattern::Exact(t("a}"))));
        assert_eq!(Pattern::parse("{"), Ok(Pattern::Exact(t("{"))));
        assert!(matches!(Pattern::parse("{x}"), Ok(Pattern::Template(_))));
        assert_eq!(Pattern::parse(""), Err(Error::TopicEmpty));
    }
}
