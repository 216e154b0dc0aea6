//! The fuzz target `http_grammar` and its stable seed-replay test; compiled only with the
//! private feature `__fuzz`, not part of the API.

use std::cell::Cell;

use crate::grammar::{
    EntityTag, EntityTagCondition, Link, cookies, entity_tags, links, preferences, tokens,
};

thread_local! {
    static SPLITS: Cell<usize> = const { Cell::new(0) };
}

/// Counts one walk of [`crate::query::pairs`] on this thread.
pub(crate) fn count_split() {
    SPLITS.with(|n| n.set(n.get().saturating_add(1)));
}

/// How many times a query string was split on this thread so far: a transport's tests check
/// that one request's query is split once, however many readers it has.
pub fn query_splits() -> usize {
    SPLITS.with(Cell::get)
}

/// Reads `data` as every header grammar and checks what each promises: no panic, at most one
/// element per byte, every element written back (its `Display`) reads back the same, every
/// cookie named, and a malformed link-value never hiding a well-formed one after it.
pub fn grammar(data: &[u8]) {
    let bound = data.len() + 1;

    let mut count = 0;
    for link in links(data) {
        count += 1;
        let written = link.to_string();
        let again: Vec<Link<'_>> = links(written.as_bytes()).collect();
        assert_eq!(again.len(), 1, "{written:?}");
        assert_eq!(again[0].target(), link.target());
        // Display is lossy only where a quoted-string carries bytes that are not UTF-8.
        if !written.contains('\u{fffd}') {
            assert!(again[0].params().eq(link.params()), "{written:?}");
        }
        let _ = link.has_rel("preload");
    }
    assert!(count <= bound);

    assert!(preferences(data).count() <= bound);
    for preference in preferences(data) {
        let words = preference.params().filter_map(|p| p.value());
        for word in preference.value().into_iter().chain(words) {
            assert!(word.unescape().len() <= word.as_written().len());
            if let Some(text) = word.to_str() {
                assert!(word.eq_ignore_ascii_case(&text));
            }
        }
    }

    for condition in entity_tags(data) {
        if let EntityTagCondition::Tag(tag) = condition {
            let written = tag.to_string();
            if let Ok(text) = core::str::from_utf8(tag.tag()) {
                assert_eq!(
                    written.len(),
                    text.len() + 2 + if tag.is_weak() { 2 } else { 0 }
                );
                assert_eq!(EntityTag::parse(written.as_bytes()), Some(tag));
            }
        }
    }

    for cookie in cookies(data) {
        assert!(!cookie.name().is_empty());
        assert!(!cookie.name().contains(['=', ';']) && !cookie.value().contains(';'));
    }

    assert!(tokens(data).all(|t| crate::grammar::is_token(t.as_bytes())));

    // A link-value after any text without quotes or brackets is found.
    if !data.iter().any(|b| matches!(b, b'"' | b'<' | b'\\')) {
        let mut header = data.to_vec();
        header.extend_from_slice(b", </after>; rel=next");
        let last = links(&header).last().map(|l| l.target().to_owned());
        assert_eq!(
            last.as_deref(),
            Some("/after"),
            "{:?}",
            String::from_utf8_lossy(&header)
        );
    }
}
