//! The subscribe request's query: the selectors (0.x `topic`, 1.0 `match` / `match_exact` /
//! `match_urlpattern`) and the cursor parameter (`lastEventID`, `last_event_id`).
//!
//! ```text
//! query     = param *( "&" param )          ; application/x-www-form-urlencoded, strict escapes
//! topic     = "topic=" selector             ; 0.x: "*", a URI template, else an exact topic
//! match     = ( "match=" / "match_exact=" ) topic-or-star   ; 1.0: byte-exact ("*": every topic)
//! urlpat    = "match_urlpattern=" pattern   ; 1.0: a WHATWG URL pattern, relative to the hub
//! any other name starting with "match"      ; 1.0 reserves the namespace: 400
//! cursor    = ( "lastEventID=" / "last_event_id=" ) id
//! ```

use core::fmt;

use push_core::{MAX_SELECTOR_TOPICS, Pattern, Selector, Topic, UrlPattern};
use push_http::query::{form_decode, pairs};

use super::text::has_control_or_format;

/// The most selector parameters (`topic` and `match…`, repeats included) one query may carry:
/// four times the selector limit, so the work a query costs is bounded per parameter whatever
/// its length, with room for a client that repeats itself.
pub const MAX_SELECTOR_PARAMS: usize = 4 * MAX_SELECTOR_TOPICS;

/// How a subscription named its topics, as the subscription events and API report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchType {
    /// 0.x `topic=`: `*`, a URI template or an exact topic.
    Topic,
    /// 1.0 `match=` / `match_exact=`: byte-exact (or `*`).
    Exact,
    /// 1.0 `match_urlpattern=`: a WHATWG URL pattern.
    UrlPattern,
}

impl MatchType {
    /// The 1.0 wire name (`exact`, `urlpattern`); 0.x selectors are `topic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Topic => "topic",
            Self::Exact => "exact",
            Self::UrlPattern => "urlpattern",
        }
    }
}

/// One selector as the subscriber wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Matcher {
    /// Which parameter named it.
    pub kind: MatchType,
    /// Its text, decoded.
    pub text: String,
}

/// What a subscribe query asks for.
#[derive(Clone, Debug)]
pub struct SubscribeQuery {
    /// Every selector, as the broker matches them.
    pub selector: Selector,
    /// The distinct selectors as written, in order (for subscription events).
    pub matchers: Vec<Matcher>,
    /// Whether the query is 1.0-shaped (it has a `match…` parameter).
    pub v1: bool,
    /// The cursor parameter (`lastEventID`, else `last_event_id`), decoded: the first
    /// non-empty one, else `Some("")` when one was present but empty.
    pub last_event_id: Option<String>,
}

/// Why a subscribe query is refused (always a `400 Bad Request`).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// No selector parameter at all.
    MissingTopic,
    /// A name in the 1.0 `match` namespace that is not one of its parameters.
    UnknownMatcher(String),
    /// A parameter value that is not strictly form-encoded UTF-8.
    Encoding(&'static str),
    /// A 1.0 value holding a control or format character.
    Character(&'static str),
    /// More selector parameters than [`MAX_SELECTOR_PARAMS`].
    TooManyParameters,
    /// A selector the broker's model refuses (empty, too long, a control character, an invalid
    /// URL pattern, past the selector limit).
    Selector(&'static str, push_core::Error),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingTopic => f.write_str(
                "Missing \"topic\" parameter (or, in Mercure 1.0, \"match\" / \"match_urlpattern\")",
            ),
            Self::UnknownMatcher(name) => write!(
                f,
                "unknown matcher parameter {name:?}: the \"match\" namespace has match, match_exact and match_urlpattern"
            ),
            Self::Encoding(name) => write!(
                f,
                "the {name:?} parameter is not strictly form-encoded UTF-8 (a bad %-escape?)"
            ),
            Self::Character(name) => write!(
                f,
                "the {name:?} parameter holds a control or invisible format character"
            ),
            Self::TooManyParameters => write!(
                f,
                "too many selector parameters (at most {MAX_SELECTOR_PARAMS})"
            ),
            Self::Selector(name, e) => write!(f, "bad {name:?} parameter: {e}"),
        }
    }
}

impl std::error::Error for QueryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Selector(_, e) => Some(e),
            _ => None,
        }
    }
}

/// Reads a subscribe query (the raw query string, without `?`). `base` is the hub's URL, which
/// relative `match_urlpattern` values resolve against (`None`: they must be absolute).
///
/// Both revisions' parameters are read side by side (their union is the selection); unknown
/// parameters are ignored, except names in 1.0's reserved `match` namespace.
///
/// # Errors
/// [`QueryError`]: what is wrong, said for the `400` body.
pub fn parse_subscribe(
    query: &[u8],
    base: Option<&url::Url>,
) -> Result<SubscribeQuery, QueryError> {
    let mut patterns: Vec<Pattern> = Vec::new();
    let mut matchers: Vec<Matcher> = Vec::new();
    let mut v1 = false;
    let mut read = 0;
    let mut cursor: [Option<String>; 2] = [None, None];
    for pair in pairs(query) {
        let Some(name) = pair.name.as_deref() else {
            continue;
        };
        let (kind, name): (MatchType, &'static str) = match name {
            "topic" => (MatchType::Topic, "topic"),
            "match" => (MatchType::Exact, "match"),
            "match_exact" => (MatchType::Exact, "match_exact"),
            "match_urlpattern" => (MatchType::UrlPattern, "match_urlpattern"),
            other if other.starts_with("match") => {
                return Err(QueryError::UnknownMatcher(other.chars().take(64).collect()));
            }
            "lastEventID" | "last_event_id" => {
                let slot = usize::from(name == "last_event_id");
                if cursor[slot].is_none() {
                    let which = if slot == 0 {
                        "lastEventID"
                    } else {
                        "last_event_id"
                    };
                    let value = form_decode(pair.value).ok_or(QueryError::Encoding(which))?;
                    cursor[slot] = Some(value.into_owned());
                }
                continue;
            }
            _ => continue,
        };
        read += 1;
        if read > MAX_SELECTOR_PARAMS {
            return Err(QueryError::TooManyParameters);
        }
        let value = form_decode(pair.value).ok_or(QueryError::Encoding(name))?;
        let pattern = match kind {
            MatchType::Topic => Pattern::parse(&value),
            MatchType::Exact | MatchType::UrlPattern if has_control_or_format(&value) => {
                return Err(QueryError::Character(name));
            }
            MatchType::Exact if value == "*" => Ok(Pattern::All),
            MatchType::Exact => Topic::new(&value).map(Pattern::Exact),
            MatchType::UrlPattern => url_pattern(&value, base),
        }
        .map_err(|e| QueryError::Selector(name, e))?;
        v1 |= kind != MatchType::Topic;
        if patterns.contains(&pattern) {
            continue;
        }
        if patterns.len() == MAX_SELECTOR_TOPICS {
            return Err(QueryError::Selector(
                name,
                push_core::Error::SelectorTooLarge,
            ));
        }
        patterns.push(pattern);
        matchers.push(Matcher {
            kind,
            text: value.into_owned(),
        });
    }
    if patterns.is_empty() {
        return Err(QueryError::MissingTopic);
    }
    let selector = Selector::new(patterns).map_err(|e| QueryError::Selector("topic", e))?;
    // The first non-empty one; else an empty one when either was present (1.0 answers a
    // present cursor parameter even when it is empty).
    let [legacy, current] = cursor;
    let last_event_id = match (legacy, current) {
        (Some(v), _) if !v.is_empty() => Some(v),
        (_, Some(v)) if !v.is_empty() => Some(v),
        (legacy, current) => legacy.or(current),
    };
    Ok(SubscribeQuery {
        selector,
        matchers,
        v1,
        last_event_id,
    })
}

/// A URL pattern; a relative one (no scheme) resolves against the hub's URL first: a path
/// (`/books/:id`) against its origin, anything else against its directory. The pattern is
/// joined as text, so its syntax (`:id`, `*`, `{…}` groups) is never percent-encoded.
pub(crate) fn url_pattern(
    text: &str,
    base: Option<&url::Url>,
) -> Result<Pattern, push_core::Error> {
    let Some(base) = base.filter(|_| !has_scheme(text)) else {
        return UrlPattern::parse(text).map(Pattern::UrlPattern);
    };
    let joined = if text.starts_with("//") {
        format!("{}:{text}", base.scheme())
    } else if text.starts_with('/') {
        format!("{}{text}", base.origin().ascii_serialization())
    } else {
        let dir = base
            .as_str()
            .rfind('/')
            .map_or(base.as_str(), |i| &base.as_str()[..=i]);
        format!("{dir}{text}")
    };
    UrlPattern::parse(&joined).map(Pattern::UrlPattern)
}

/// Whether `text` starts with a URL scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`).
fn has_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
