//! [`Query`]: a request's query string split once, for every reader of that request.
//!
//! A server transport reads one query several times: the hooks read the topics, the transport
//! its own parameters (`since`, `wait`, `from`, `lastEventID`). Each walk with [`pairs`] splits
//! the query and decodes every name again, so the transport splits it once into a `Query` and
//! hands that to each reader ([`Hooks::topics`](crate::Hooks::topics) among them).

use std::borrow::Cow;

use arrayvec::ArrayVec;
use push_core::{Error, Selector};

use super::{Pair, pairs, pairs_of_str, param_in, selector_from_pairs};

/// How many parameters a [`Query`] keeps split. A long-poll, SSE or WebSocket query carries
/// two to five (`topic`, `since`, `wait`, a token); eight keeps the split list on the stack
/// (under 500 bytes) without a heap allocation. A query with more parameters is split again by
/// each walk instead of being stored: what a query costs in memory stays bounded whatever its
/// length.
pub const SPLIT_PARAMS: usize = 8;

/// A query string (`application/x-www-form-urlencoded`, without `?`) split once into its
/// parameters, names decoded by [`pairs`]' rule; the values stay as sent until a reader
/// decodes the one it wants. Reading it never splits it again, unless it has more than
/// [`SPLIT_PARAMS`] parameters (then each walk splits the raw text: bounded memory).
///
/// ```
/// use push_http::query::Query;
///
/// let uri: http::Uri = "/poll?topic=news&%73ince=1-2&wait=5".parse().unwrap();
/// let query = Query::of(&uri);
/// assert_eq!(query.get("since").unwrap().as_deref(), Some("1-2"));
/// let selector = query.selector().unwrap();
/// assert_eq!(selector.topics()[0].as_str(), "news");
/// let names: Vec<_> = query.iter().filter_map(|p| p.name).collect();
/// assert_eq!(names, ["topic", "since", "wait"]);
/// ```
#[derive(Clone, Debug)]
pub struct Query<'q> {
    raw: &'q [u8],
    /// The parameters in order; empty when there are more than [`SPLIT_PARAMS`] (`long`).
    split: ArrayVec<Pair<'q>, SPLIT_PARAMS>,
    /// More than [`SPLIT_PARAMS`] parameters: each walk splits `raw` again.
    long: bool,
}

impl<'q> Query<'q> {
    /// Splits `raw` (the query string without `?`).
    pub fn new(raw: &'q [u8]) -> Self {
        Self::from_pairs(raw, pairs(raw))
    }

    /// Splits the query of `uri` (empty without one). The query of a URI is text already,
    /// so its plain names are not checked for UTF-8 again.
    // Inlined into the caller, so the split list is built where the caller keeps it rather
    // than copied there (it is about 450 bytes).
    #[inline]
    pub fn of(uri: &'q http::Uri) -> Self {
        let query = uri.query().unwrap_or_default();
        Self::from_pairs(query.as_bytes(), pairs_of_str(query))
    }

    /// Keeps the parameters of `raw`, split by `pairs`, when there are few enough. Built in
    /// place (the split list is about 450 bytes: no `Option` around it to move it into).
    #[inline]
    fn from_pairs(raw: &'q [u8], pairs: impl Iterator<Item = Pair<'q>>) -> Self {
        let mut query = Self {
            raw,
            split: ArrayVec::new(),
            long: false,
        };
        for pair in pairs {
            if query.split.try_push(pair).is_err() {
                query.split.clear();
                query.long = true;
                break;
            }
        }
        query
    }

    /// The query as sent.
    pub fn raw(&self) -> &'q [u8] {
        self.raw
    }

    /// The parameters in order, as [`pairs`] yields them (empty parameters skipped).
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = Pair<'_>> {
        // One enum, one branch per step (an `Option`s-and-`chain` iterator tests every layer
        // on every step: a poll walks its query twice).
        if self.long {
            Walk::Again(pairs(self.raw))
        } else {
            Walk::Split(self.split.iter())
        }
    }

    /// The first parameter whose decoded name is `name`, its value decoded strictly
    /// ([`query_param`](super::query_param)'s rule).
    ///
    /// # Errors
    /// [`Error::QueryInvalid`] when that parameter's value is not strictly encoded.
    pub fn get(&self, name: &str) -> Result<Option<Cow<'_, str>>, Error> {
        param_in(self.iter(), name)
    }

    /// The selector of every `topic` parameter
    /// ([`selector_from_query`](super::selector_from_query)'s rule, limits and errors).
    ///
    /// # Errors
    /// As [`selector_from_query`](super::selector_from_query).
    pub fn selector(&self) -> Result<Selector, Error> {
        selector_from_pairs(self.iter())
    }

    /// Whether the query was split and kept (at most [`SPLIT_PARAMS`] parameters).
    pub fn is_split(&self) -> bool {
        !self.long
    }
}

impl<'q> From<&'q http::Uri> for Query<'q> {
    fn from(uri: &'q http::Uri) -> Self {
        Self::of(uri)
    }
}

/// A walk over a [`Query`]'s parameters: the kept split, or the raw text split again.
enum Walk<'a, I> {
    Split(core::slice::Iter<'a, Pair<'a>>),
    Again(I),
}

impl<'a, I: Iterator<Item = Pair<'a>>> Iterator for Walk<'a, I> {
    type Item = Pair<'a>;

    #[inline]
    fn next(&mut self) -> Option<Pair<'a>> {
        match self {
            Self::Split(split) => split.next().map(Pair::reborrow),
            Self::Again(again) => again.next(),
        }
    }
}

impl Pair<'_> {
    /// The same parameter, its name borrowed from this one.
    fn reborrow(&self) -> Pair<'_> {
        Pair {
            name: self.name.as_deref().map(Cow::Borrowed),
            value: self.value,
            raw: self.raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(query: &Query<'_>) -> Vec<(Option<String>, Vec<u8>, Vec<u8>)> {
        query
            .iter()
            .map(|p| {
                (
                    p.name.map(Cow::into_owned),
                    p.value.to_vec(),
                    p.raw.to_vec(),
                )
            })
            .collect()
    }

    #[test]
    fn a_split_query_reads_as_the_raw_one() {
        for raw in [
            &b""[..],
            b"topic=a&&since=1-2&wait",
            b"%74opic=a%2Fb&b%ff=1&topic=*&x=%zz",
            b"a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8",
            b"a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&topic=late",
        ] {
            let query = Query::new(raw);
            let again: Vec<_> = pairs(raw)
                .map(|p| {
                    (
                        p.name.map(Cow::into_owned),
                        p.value.to_vec(),
                        p.raw.to_vec(),
                    )
                })
                .collect();
            assert_eq!(owned(&query), again, "{raw:?}");
            assert_eq!(query.raw(), raw);
            assert_eq!(query.selector(), super::super::selector_from_query(raw));
            for name in ["topic", "since", "wait", "x", "h"] {
                assert_eq!(
                    query.get(name),
                    super::super::query_param(raw, name),
                    "{raw:?} {name}"
                );
            }
        }
    }

    #[test]
    fn a_uris_query_reads_as_its_bytes() {
        for query in [
            "",
            "topic=a&&since=1-2&wait",
            "%74opic=a%2Fb&b%ff=1&topic=*&x=%zz&a+b=c",
            "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&topic=late",
        ] {
            let uri: http::Uri = format!("/poll?{query}").parse().unwrap();
            let of = Query::of(&uri);
            let new = Query::new(query.as_bytes());
            assert_eq!(owned(&of), owned(&new), "{query}");
            assert_eq!(of.is_split(), new.is_split());
        }
    }

    #[test]
    fn only_short_queries_are_kept_split() {
        let eight = "p=1&".repeat(SPLIT_PARAMS);
        assert!(Query::new(eight.as_bytes()).is_split());
        let nine = format!("{eight}topic=a");
        let query = Query::new(nine.as_bytes());
        assert!(
            !query.is_split(),
            "past the bound the query is walked again"
        );
        assert_eq!(query.iter().count(), SPLIT_PARAMS + 1);
        assert_eq!(query.selector().unwrap().topics()[0].as_str(), "a");
        let uri: http::Uri = "/x".parse().unwrap();
        assert_eq!(Query::from(&uri).iter().count(), 0);
    }
}
