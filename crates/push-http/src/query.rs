//! Query strings (`application/x-www-form-urlencoded`), decoded strictly: one rule for every
//! transport that reads topics from a URL.
//!
//! ```text
//! query   = param *( "&" param )
//! param   = name [ "=" value ]
//! escape  = "%" HEXDIG HEXDIG          ; anything else after "%" is an error, not literal text
//! "+"     = a space
//! ```
//!
//! A lossy decoder makes distinct names equal (`a%ffb` and `a%feb` would both become `a\u{fffd}b`)
//! and a lenient one reads `%zz` literally while another reads it as an error: both are refused
//! here, so a topic name has exactly one spelling that reaches the broker.
//!
//! The escapes are checked here, then decoded by `percent-encoding`, whose UTF-8 step is strict.
//! (`form_urlencoded::parse` is not used to decode: it reads `%zz` literally and replaces bytes
//! that are not UTF-8, the two things this module refuses. The tests use it as the encoder.)

use std::borrow::Cow;

use arrayvec::ArrayVec;
use percent_encoding::percent_decode;
use push_core::{Error, MAX_SELECTOR_TOPICS, Pattern, Selector, Topic};

mod split;

pub use split::{Query, SPLIT_PARAMS};

/// Decodes one query component (`+` is a space, `%XX` a byte); borrows when there is nothing to
/// decode. `None` when an escape is not `%` and two hex digits, or the result is not UTF-8.
///
/// ```
/// use push_http::query::form_decode;
///
/// assert_eq!(form_decode(b"a%2Fb+c").as_deref(), Some("a/b c"));
/// assert_eq!(form_decode(b"a%zz"), None);
/// assert_eq!(form_decode(b"a%ffb"), None);
/// ```
pub fn form_decode(input: &[u8]) -> Option<Cow<'_, str>> {
    // Most components (`topic`, `since`, `20`, a plain topic name) have neither an escape nor
    // a `+`: one scan and the UTF-8 check, where the general path below takes four passes.
    if !input.iter().any(|&b| b == b'%' || b == b'+') {
        return core::str::from_utf8(input).ok().map(Cow::Borrowed);
    }
    if !escapes_are_well_formed(input) {
        return None;
    }
    if input.contains(&b'+') {
        let spaced: Vec<u8> = input
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let decoded = percent_decode(&spaced).decode_utf8().ok()?;
        return Some(Cow::Owned(decoded.into_owned()));
    }
    percent_decode(input).decode_utf8().ok()
}

/// Whether every `%` in `input` is followed by two hex digits.
fn escapes_are_well_formed(input: &[u8]) -> bool {
    let mut rest = input;
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        match rest.get(at + 1..at + 3) {
            Some([hi, lo]) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                rest = &rest[at + 3..];
            }
            _ => return false,
        }
    }
    true
}

/// The most `topic` parameters [`selector_from_query`] reads, repeats included: past it the
/// query is refused with [`Error::SelectorTooLarge`] whatever the number of distinct topics.
///
/// The limit on a selection is on distinct topics ([`MAX_SELECTOR_TOPICS`]): `topic=a` sent 65
/// times selects one topic and is accepted. This second bound keeps the work a query costs
/// bounded by a constant per parameter as well as by its length: each `topic` parameter is
/// decoded, validated and looked up among at most [`MAX_SELECTOR_TOPICS`] others. Four times
/// the selector limit leaves room for any client that repeats itself by accident.
pub const MAX_QUERY_TOPIC_PARAMS: usize = 4 * MAX_SELECTOR_TOPICS;

/// One parameter of a query string, as [`pairs`] yields it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pair<'q> {
    /// The name, decoded strictly ([`form_decode`]); `None` when it does not decode: no name a
    /// caller can be looking for.
    pub name: Option<Cow<'q, str>>,
    /// The value as sent, still encoded (empty without `=`): decode it with [`form_decode`].
    pub value: &'q [u8],
    /// The whole parameter as sent (`name=value`, without the `&`): what a client forwards
    /// when it keeps a parameter it does not read.
    pub raw: &'q [u8],
}

/// The parameters of `query` (the raw query string, without `?`) in order, each name decoded
/// by [`query_param`]'s rule: the one way every crate splits a query, so `%73ince` is `since`
/// wherever it is looked for. Empty parameters (`a&&b`) are skipped.
///
/// ```
/// use push_http::query::pairs;
///
/// let names: Vec<_> = pairs(b"%73ince=1-2&&wait=5&b%ff=1")
///     .map(|p| (p.name.map(|n| n.into_owned()), p.value, p.raw))
///     .collect();
/// assert_eq!(names, [
///     (Some("since".to_owned()), &b"1-2"[..], &b"%73ince=1-2"[..]),
///     (Some("wait".to_owned()), b"5", b"wait=5"),
///     (None, b"1", b"b%ff=1"),
/// ]);
/// ```
pub fn pairs(query: &[u8]) -> impl Iterator<Item = Pair<'_>> {
    #[cfg(feature = "__fuzz")]
    crate::__fuzz::count_split();
    query
        .split(|&b| b == b'&')
        .filter(|param| !param.is_empty())
        .map(|raw| {
            let (name, value) = match raw.iter().position(|&b| b == b'=') {
                Some(i) => (&raw[..i], &raw[i + 1..]),
                None => (raw, &b""[..]),
            };
            Pair {
                name: form_decode(name),
                value,
                raw,
            }
        })
}

/// [`pairs`] of a query that is text already (`http::Uri::query`): the same parameters, and a
/// name without `%` or `+` is borrowed as it is, without checking its UTF-8 again.
pub(crate) fn pairs_of_str(query: &str) -> impl Iterator<Item = Pair<'_>> {
    #[cfg(feature = "__fuzz")]
    crate::__fuzz::count_split();
    // Split at the bytes `&` and `=` (ASCII, so every cut is a character boundary): a byte
    // search, where `str::split` runs a character searcher.
    let mut rest = query;
    core::iter::from_fn(move || {
        while !rest.is_empty() {
            let (param, tail) = match rest.bytes().position(|b| b == b'&') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            rest = tail;
            if !param.is_empty() {
                return Some(param);
            }
        }
        None
    })
    .map(|raw| {
        let (name, value) = match raw.bytes().position(|b| b == b'=') {
            Some(i) => (&raw[..i], &raw[i + 1..]),
            None => (raw, ""),
        };
        Pair {
            name: if name.bytes().any(|b| b == b'%' || b == b'+') {
                form_decode(name.as_bytes())
            } else {
                Some(Cow::Borrowed(name))
            },
            value: value.as_bytes(),
            raw: raw.as_bytes(),
        }
    })
}

/// The value of the first parameter of `query` (the raw query string, without `?`) whose
/// **decoded** name is `name`, itself decoded strictly: the one rule for every parameter name,
/// so `%74opic` is `topic` and `%65vent` is `event` wherever a query is read.
///
/// # Errors
/// [`Error::QueryInvalid`] when that parameter's value is not strictly encoded (see
/// [`form_decode`]).
///
/// ```
/// use push_core::Error;
/// use push_http::query::query_param;
///
/// assert_eq!(query_param(b"topic=a&%65vent=b+c", "event").unwrap().as_deref(), Some("b c"));
/// assert_eq!(query_param(b"topic=a", "event"), Ok(None));
/// assert_eq!(query_param(b"event=%zz", "event"), Err(Error::QueryInvalid));
/// ```
pub fn query_param<'q>(query: &'q [u8], name: &str) -> Result<Option<Cow<'q, str>>, Error> {
    param_in(pairs(query), name)
}

/// [`query_param`] over parameters already split.
fn param_in<'q>(
    mut pairs: impl Iterator<Item = Pair<'q>>,
    name: &str,
) -> Result<Option<Cow<'q, str>>, Error> {
    match pairs.find(|p| p.name.as_deref() == Some(name)) {
        Some(Pair { value, .. }) => form_decode(value).map(Some).ok_or(Error::QueryInvalid),
        None => Ok(None),
    }
}

/// The selector named by every `topic=` parameter of `query` (the raw query string, without
/// `?`): the union of all of them, as Mercure reads a repeated `topic`, each value read by
/// [`Pattern::parse`] (`*` is every topic, a URI template names the topics it matches, anything
/// else one exact topic). Names are decoded before they are matched ([`query_param`]'s rule);
/// other parameters are ignored.
///
/// # Errors
/// [`Error::QueryInvalid`] for a `topic` value that is not strictly encoded (see
/// [`form_decode`]); the [`Topic`] errors for an invalid name; [`Error::SelectorEmpty`]
/// without any `topic`; [`Error::SelectorTooLarge`] past [`MAX_SELECTOR_TOPICS`] distinct
/// patterns or [`MAX_QUERY_TOPIC_PARAMS`] `topic` parameters.
///
/// ```
/// use push_core::{Error, Pattern};
/// use push_http::query::selector_from_query;
///
/// let s = selector_from_query(b"topic=a&x=1&topic=b%2Fc&topic=a").unwrap();
/// let names: Vec<_> = s.topics().iter().map(|t| t.as_str()).collect();
/// assert_eq!(names, ["a", "b/c"]);
/// let all = selector_from_query(b"topic=*").unwrap();
/// assert_eq!(all.patterns(), [Pattern::All]);
/// assert_eq!(selector_from_query(b"topic=a%ffb"), Err(Error::QueryInvalid));
/// assert_eq!(selector_from_query(b"since=1-2"), Err(Error::SelectorEmpty));
/// ```
pub fn selector_from_query(query: &[u8]) -> Result<Selector, Error> {
    selector_from_pairs(pairs(query))
}

/// [`selector_from_query`] over parameters already split.
fn selector_from_pairs<'q>(pairs: impl Iterator<Item = Pair<'q>>) -> Result<Selector, Error> {
    // Distinct as they come, so the limit counts distinct patterns: exact topics sorted (a
    // binary search each), the other patterns (at most the limit) compared one by one.
    let mut topics = Distinct::default();
    let mut others: Vec<Pattern> = Vec::new();
    let mut read = 0;
    for Pair { name, value, .. } in pairs {
        // `topic` spelled with escapes is still `topic`; a name that does not decode is
        // no parameter of ours, but a broken `topic` value is never skipped.
        if name.as_deref() != Some("topic") {
            continue;
        }
        read += 1;
        if read > MAX_QUERY_TOPIC_PARAMS {
            return Err(Error::SelectorTooLarge);
        }
        let value = form_decode(value).ok_or(Error::QueryInvalid)?;
        let full = topics.len() + others.len() >= MAX_SELECTOR_TOPICS;
        match Pattern::parse(&value)? {
            Pattern::Exact(topic) => {
                if topics.is_new(&topic) {
                    if full {
                        return Err(Error::SelectorTooLarge);
                    }
                    topics.insert(topic);
                }
            }
            other => {
                if !others.contains(&other) {
                    if full {
                        return Err(Error::SelectorTooLarge);
                    }
                    others.push(other);
                }
            }
        }
    }
    // The common request, one exact topic, needs no second pass to build its selector.
    if others.is_empty()
        && let Some(topic) = topics.take_only()
    {
        return Ok(Selector::one(topic));
    }
    Selector::new(topics.into_iter().map(Pattern::Exact).chain(others))
}

/// How many distinct exact topics [`selector_from_query`] keeps on the stack before it moves
/// them to the heap: a request names one to a few, and the selector copies them into its own
/// storage anyway, so this spares a poll one allocation and its free.
const INLINE_TOPICS: usize = 8;

/// The distinct exact topics of a query, sorted: inline up to [`INLINE_TOPICS`], then on the
/// heap.
#[derive(Default)]
struct Distinct {
    inline: ArrayVec<Topic, INLINE_TOPICS>,
    /// Every topic once the inline ones overflowed (then `inline` is empty).
    heap: Vec<Topic>,
}

impl Distinct {
    fn sorted(&self) -> &[Topic] {
        if self.heap.is_empty() {
            &self.inline
        } else {
            &self.heap
        }
    }

    fn len(&self) -> usize {
        self.sorted().len()
    }

    fn is_new(&self, topic: &Topic) -> bool {
        self.sorted().binary_search(topic).is_err()
    }

    /// Inserts `topic`, which [`is_new`](Self::is_new), in order.
    fn insert(&mut self, topic: Topic) {
        // The first topic (most queries name one): no search, no shift.
        if self.inline.is_empty() && self.heap.is_empty() {
            self.inline.push(topic);
            return;
        }
        let at = self.sorted().binary_search(&topic).unwrap_or_else(|at| at);
        if self.heap.is_empty() && !self.inline.is_full() {
            self.inline.insert(at, topic);
            return;
        }
        if self.heap.is_empty() {
            self.heap = self.inline.drain(..).collect();
        }
        self.heap.insert(at, topic);
    }

    /// The topic, when there is exactly one.
    fn take_only(&mut self) -> Option<Topic> {
        if self.heap.is_empty() && self.inline.len() == 1 {
            self.inline.pop()
        } else {
            None
        }
    }

    fn into_iter(self) -> impl Iterator<Item = Topic> {
        self.inline.into_iter().chain(self.heap)
    }
}

#[cfg(test)]
mod tests;
