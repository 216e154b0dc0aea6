//! The request headers a poll reads: `Prefer: wait=N` (RFC 7240 §4.3) and `If-None-Match`
//! (RFC 9110 §13.1.2); the grammar is in [`crate::request`].

use core::time::Duration;

use push_core::Cursor;

use crate::request::{MAX_ETAGS, parse_seconds};

/// The first `wait` preference of the `Prefer` header values. RFC 7240 §2: a preference the
/// server cannot parse is ignored (no error), and only the first instance of a preference is
/// considered, so a malformed first `wait` means no preference at all.
pub(crate) fn prefer_wait(values: &[&[u8]]) -> Option<Duration> {
    for value in values {
        for preference in split_unquoted(value, b',') {
            let head = split_unquoted(preference, b';').next().unwrap_or_default();
            let (name, word) = match head.iter().position(|&b| b == b'=') {
                Some(i) => (trim(&head[..i]), Some(trim(&head[i + 1..]))),
                None => (trim(head), None),
            };
            if !name.eq_ignore_ascii_case(b"wait") {
                continue;
            }
            let word = match word? {
                [b'"', inner @ .., b'"'] => inner,
                other => other,
            };
            return parse_seconds(word);
        }
    }
    None
}

/// Splits on `sep` outside double-quoted strings (a backslash escapes inside them).
fn split_unquoted(input: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(input);
    core::iter::from_fn(move || {
        let s = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, &b) in s.iter().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                _ if b == sep && !quoted => {
                    rest = Some(&s[i + 1..]);
                    return Some(&s[..i]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(s)
    })
}

fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

/// Collects the entity tags that are cursors; stops at the first malformed element.
pub(crate) fn parse_if_none_match(value: &[u8], etags: &mut Vec<Cursor>, any: &mut bool) {
    let mut s = value;
    loop {
        s = s.trim_ascii_start();
        while let [b',', rest @ ..] = s {
            s = rest.trim_ascii_start();
        }
        match s {
            [] => return,
            [b'*', rest @ ..] => {
                *any = true;
                s = rest;
            }
            _ => {
                let t = s.strip_prefix(b"W/").unwrap_or(s);
                let Some(t) = t.strip_prefix(b"\"") else {
                    return;
                };
                let Some(end) = t.iter().position(|&b| b == b'"') else {
                    return;
                };
                if let Ok(c) = Cursor::parse_bytes(&t[..end])
                    && etags.len() < MAX_ETAGS
                {
                    etags.push(c);
                }
                s = &t[end + 1..];
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
