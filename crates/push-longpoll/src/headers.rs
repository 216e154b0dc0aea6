//! The request headers a poll reads, through push-http's grammar: `Prefer: wait=N` (RFC 7240
//! §4.3) and `If-None-Match` (RFC 9110 §13.1.2); how the request uses them is in
//! [`crate::request`].

use core::time::Duration;

use push_core::Cursor;
use push_http::grammar::{EntityTagCondition, entity_tags, find_preference};

use crate::request::{MAX_ETAGS, parse_seconds};

/// The first `wait` preference of the `Prefer` header values. RFC 7240 §2: a preference the
/// server cannot parse is ignored (no error), and only the first instance of a preference is
/// considered, so a first `wait` whose value is not whole seconds means no preference at all.
pub(crate) fn prefer_wait(values: &[&[u8]]) -> Option<Duration> {
    let wait = find_preference(values.iter().copied(), "wait")?;
    parse_seconds(&wait.value()?.unescape())
}

/// Collects the entity tags that are cursors (at most [`MAX_ETAGS`]) and whether `*` is named;
/// the list ends at its first malformed element (push-http's rule for entity-tag lists).
pub(crate) fn parse_if_none_match(value: &[u8], etags: &mut Vec<Cursor>, any: &mut bool) {
    for condition in entity_tags(value) {
        match condition {
            EntityTagCondition::Any => *any = true,
            EntityTagCondition::Tag(tag) => {
                if let Ok(cursor) = Cursor::parse_bytes(tag.tag())
                    && etags.len() < MAX_ETAGS
                {
                    etags.push(cursor);
                }
            }
        }
    }
}

/// A header's values as byte slices, without allocating for the usual zero or one.
pub(crate) enum HeaderValues<'a> {
    Few([&'a [u8]; 1], usize),
    Many(Vec<&'a [u8]>),
}

impl<'a> HeaderValues<'a> {
    pub(crate) fn of(all: http::header::GetAll<'a, http::HeaderValue>) -> Self {
        let mut iter = all.iter();
        let Some(first) = iter.next() else {
            return Self::Few([&[]], 0);
        };
        let Some(second) = iter.next() else {
            return Self::Few([first.as_bytes()], 1);
        };
        let mut many = vec![first.as_bytes(), second.as_bytes()];
        many.extend(iter.map(http::HeaderValue::as_bytes));
        Self::Many(many)
    }

    pub(crate) fn as_slice(&self) -> &[&'a [u8]] {
        match self {
            Self::Few(one, n) => &one[..*n],
            Self::Many(many) => many,
        }
    }
}
