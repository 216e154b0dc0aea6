//! The grammar of one line: a field name and its value.
//!
//! ```text
//! line    = empty / comment / field
//! empty   = ""                                  ; dispatch the event
//! comment = ":" *any-char                       ; ignored
//! field   = name [ ":" [ " " ] value ]          ; one leading space is stripped
//! name    = 1*name-char                         ; anything but ":"  (case-sensitive)
//! ```

/// The longest field name the decoder acts on (`event`, `retry`).
const MAX_NAME: usize = 5;

/// A line, parsed.
pub(crate) enum Field<'a> {
    /// The empty line.
    Blank,
    /// A comment, or a field this decoder does not act on.
    Ignored,
    /// A field and its value.
    Named(Name, &'a [u8]),
}

/// A field name.
#[derive(Clone, Copy)]
pub(crate) enum Name {
    Data,
    Event,
    Id,
    Retry,
    Other,
}

/// Splits a line into name and value (one leading space stripped from the value). The value is
/// always a part of `line`.
#[inline]
pub(crate) fn split_field(line: &[u8]) -> Field<'_> {
    // The usual fields, recognised from their first word at once.
    if let Some(head) = line.first_chunk::<8>() {
        let word = u64::from_le_bytes(*head);
        let (name, colon) = if word & prefix_mask(5) == prefix(b"data:") {
            (Name::Data, 4)
        } else if word & prefix_mask(3) == prefix(b"id:") {
            (Name::Id, 2)
        } else if word & prefix_mask(6) == prefix(b"event:") {
            (Name::Event, 5)
        } else {
            return split_any_field(line);
        };
        let value = &line[colon + 1..];
        return Field::Named(name, value.strip_prefix(b" ").unwrap_or(value));
    }
    split_any_field(line)
}

/// [`split_field`] for any line.
fn split_any_field(line: &[u8]) -> Field<'_> {
    // Every field this decoder acts on has a name of at most 5 bytes, so the colon is looked for
    // in the first 6 bytes only: a longer name is an unknown field either way.
    let head = &line[..line.len().min(MAX_NAME + 1)];
    match head.iter().position(|&b| b == b':') {
        None if line.is_empty() => Field::Blank,
        Some(0) => Field::Ignored,
        Some(colon) => {
            let value = &line[colon + 1..];
            Field::Named(
                name(&line[..colon]),
                value.strip_prefix(b" ").unwrap_or(value),
            )
        }
        // The empty value at the line's end (not a constant): values always lie in their line,
        // so a caller can locate them in the input.
        None if line.len() <= MAX_NAME => Field::Named(name(line), &line[line.len()..]),
        None => Field::Ignored,
    }
}

/// How the decoder must hold a line that is not complete yet, from its first bytes (up to
/// [`HEAD`] of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Partial {
    /// Too short to tell (fewer than [`HEAD`] bytes and no colon): kept.
    Undecided,
    /// A comment or a field the decoder ignores: whatever follows up to the line ending can be
    /// dropped unread.
    Skip,
    /// A `data` field: kept, as long as the event's data may grow.
    Data,
    /// `event`, `id` or `retry`: kept up to the line limit.
    Limited,
}

/// How many first bytes of a line tell its [`Partial`] kind: a colon within them ends a name of
/// at most [`MAX_NAME`] bytes; without one the name is longer, so unknown.
pub(crate) const HEAD: usize = MAX_NAME + 1;

/// The [`Partial`] kind of a line that starts with `head` (its first bytes, at most [`HEAD`],
/// with no line ending among them).
pub(crate) fn partial(head: &[u8]) -> Partial {
    let head = &head[..head.len().min(HEAD)];
    match head.iter().position(|&b| b == b':') {
        Some(0) => Partial::Skip,
        Some(colon) => match name(&head[..colon]) {
            Name::Data => Partial::Data,
            Name::Event | Name::Id | Name::Retry => Partial::Limited,
            Name::Other => Partial::Skip,
        },
        None if head.len() < HEAD => Partial::Undecided,
        None => Partial::Skip,
    }
}

/// Whether a complete line (or its first [`HEAD`] bytes) is an `event`, `id` or `retry` field:
/// one the line limit applies to.
pub(crate) fn is_limited(line: &[u8]) -> bool {
    matches!(
        split_any_field(&line[..line.len().min(HEAD)]),
        Field::Named(Name::Event | Name::Id | Name::Retry, _)
    )
}

/// The length of the value of a partial `data` line of `len` bytes starting with `head`: what
/// follows `data:` and the one space stripped (taken as absent while unseen).
pub(crate) fn data_value_len(head: &[u8], len: usize) -> usize {
    const PREFIX: usize = b"data:".len();
    len.saturating_sub(PREFIX + usize::from(head.get(PREFIX) == Some(&b' ')))
}

fn name(name: &[u8]) -> Name {
    match name {
        b"data" => Name::Data,
        b"event" => Name::Event,
        b"id" => Name::Id,
        b"retry" => Name::Retry,
        _ => Name::Other,
    }
}

/// The first bytes of a word, as read little-endian.
const fn prefix(bytes: &[u8]) -> u64 {
    let mut word = 0;
    let mut i = bytes.len();
    while i > 0 {
        i -= 1;
        word = (word << 8) | bytes[i] as u64;
    }
    word
}

/// The mask of the first `len` bytes of a word read little-endian.
const fn prefix_mask(len: u32) -> u64 {
    (1u64 << (8 * len)) - 1
}

/// ASCII digits only (no sign, no space, not empty); a value that overflows `u64` is ignored.
pub(crate) fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_kinds() {
        for (head, want) in [
            (&b""[..], Partial::Undecided),
            (b"dat", Partial::Undecided),
            (b"data", Partial::Undecided),
            (b"retry", Partial::Undecided),
            (b":", Partial::Skip),
            (b": data", Partial::Skip),
            (b"data:", Partial::Data),
            (b"data: x", Partial::Data),
            (b"id:", Partial::Limited),
            (b"event:", Partial::Limited),
            (b"retry:", Partial::Limited),
            (b"Data:", Partial::Skip),
            (b"datax:", Partial::Skip),
            (b"retryx", Partial::Skip),
            (b"abcdefghij:", Partial::Skip),
        ] {
            assert_eq!(partial(head), want, "{head:?}");
        }
        for (line, want) in [
            (&b"retry"[..], true),
            (b"id", true),
            (b"event: x", true),
            (b"id:", true),
            (b"data: x", false),
            (b": id", false),
            (b"idx: 1", false),
            (b"retryx", false),
        ] {
            assert_eq!(is_limited(line), want, "{line:?}");
        }
        assert_eq!(data_value_len(b"data:", 5), 0);
        assert_eq!(data_value_len(b"data: ", 6), 0);
        assert_eq!(data_value_len(b"data: x", 9), 3);
        assert_eq!(data_value_len(b"data:xy", 9), 4);
    }

    #[test]
    fn retry_values() {
        assert_eq!(parse_retry(b"3000"), Some(3000));
        assert_eq!(parse_retry(b""), None);
        assert_eq!(parse_retry(b"+5"), None);
        assert_eq!(parse_retry(b" 5"), None);
        assert_eq!(parse_retry(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_retry(b"18446744073709551616"), None);
    }
}
