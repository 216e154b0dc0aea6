//! The grammar of one line: a field name and its value, written with `nom` on the general path.
//!
//! The WHATWG grammar (HTML, "9.2.5 Parsing an event stream"), for one line without its line
//! ending (the line splitter, [`crate::line`], has the rest):
//!
//! ```text
//! line       = blank / comment / field
//! blank      = ""                                  ; dispatch the event
//! comment    = colon *any-char                     ; ignored
//! field      = 1*name-char [ colon [ space ] *any-char ]
//!                                                  ; one leading space is stripped from the value
//! any-char   = %x0000-0009 / %x000B-000C / %x000E-10FFFF   ; anything but CR and LF
//! name-char  = %x0000-0009 / %x000B-000C / %x000E-0039 / %x003B-10FFFF
//!                                                  ; anything but CR, LF and ":"
//! colon      = %x003A                              ; ":"
//! space      = %x0020                              ; " "
//! retry      = 1*digit                             ; the value of a `retry` field, else ignored
//! digit      = %x0030-0039                         ; ASCII digits only: no sign, no space
//! ```
//!
//! Names are case-sensitive; the decoder acts on `data`, `event`, `id` and `retry` only, so a
//! name longer than five bytes is read no further. The usual lines (`data:`, `id:`, `event:`,
//! eight bytes or more) and the blank line are recognised before the parser is called: the
//! parser is the general path, for comments, `retry` and short or unknown fields.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::character::complete::u64 as decimal_u64;
use nom::combinator::{all_consuming, eof, map, opt, rest};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

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
#[derive(Clone, Copy, Debug)]
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
    // The blank line ending every event, at once too.
    if line.is_empty() {
        return Field::Blank;
    }
    split_any_field(line)
}

/// [`split_field`] for any line: the [`line`] parser.
#[inline]
fn split_any_field(line: &[u8]) -> Field<'_> {
    match parse_line(line) {
        Ok((_, field)) => field,
        // `parse_line` ends with `rest`, which cannot fail: no line is refused.
        Err(_) => Field::Ignored,
    }
}

/// `line`, parsed: `blank / field / comment` (a comment, or a name longer than the longest one
/// the decoder acts on, is [`Field::Ignored`]). The value is always a part of `line` (the empty
/// value of a field without a colon is the empty slice at the line's end, not a constant), so a
/// caller can locate it in the input.
fn parse_line(line: &[u8]) -> IResult<&[u8], Field<'_>, ()> {
    alt((
        map(eof, |_| Field::Blank),
        map((short_name, alt((field_value, eof))), |(n, v)| {
            Field::Named(name(n), v)
        }),
        map(rest, |_| Field::Ignored),
    ))
    .parse(line)
}

/// `1*name-char`, at most [`MAX_NAME`] of them: every name the decoder acts on fits, so a longer
/// one (the byte after these is neither a colon nor the line's end) is an unknown field.
fn short_name(input: &[u8]) -> IResult<&[u8], &[u8], ()> {
    take_while_m_n(1, MAX_NAME, |b| b != b':').parse(input)
}

/// `colon [ space ] *any-char`: the value, after one optional leading space.
fn field_value(input: &[u8]) -> IResult<&[u8], &[u8], ()> {
    preceded((tag(&b":"[..]), opt(tag(&b" "[..]))), rest).parse(input)
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
    let named = terminated(short_name, tag::<_, _, ()>(&b":"[..])).parse(head);
    match named {
        Ok((_, n)) => match name(n) {
            Name::Data => Partial::Data,
            Name::Event | Name::Id | Name::Retry => Partial::Limited,
            Name::Other => Partial::Skip,
        },
        // A comment; or a name longer than any the decoder acts on.
        Err(_) if head.first() == Some(&b':') || head.len() == HEAD => Partial::Skip,
        Err(_) => Partial::Undecided,
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

/// The value of a `retry` field: `1*digit`, ASCII digits only (no sign, no space, not empty);
/// a value that overflows `u64` is ignored, as one that is not digits.
pub(crate) fn parse_retry(value: &[u8]) -> Option<u64> {
    all_consuming(decimal_u64::<_, ()>)
        .parse(value)
        .ok()
        .map(|(_, ms)| ms)
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

    /// The grammar by hand, byte by byte: what the parser must agree with.
    fn by_hand(line: &[u8]) -> Option<(&[u8], &[u8])> {
        let colon = line.iter().position(|&b| b == b':');
        let (name, value) = match colon {
            Some(0) => return None,
            Some(c) => (&line[..c], &line[c + 1..]),
            None if line.is_empty() => return None,
            None => (line, &line[line.len()..]),
        };
        Some((name, value.strip_prefix(b" ").unwrap_or(value)))
    }

    #[test]
    fn the_parser_follows_the_grammar() {
        let alphabet = [b'a', b'd', b':', b' ', b'\xFF', b'0', b'i'];
        let names: [&[u8]; 5] = [b"data", b"event", b"id", b"retry", b"dat"];
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for name in names {
            for tail in [
                &b""[..],
                b":",
                b": ",
                b":  x",
                b":x",
                b"x:",
                b": a:b",
                b"\xFF",
            ] {
                lines.push([name, tail].concat());
            }
        }
        for len in 0..=4 {
            for n in 0..alphabet.len().pow(len) {
                let mut n = n;
                lines.push(
                    (0..len)
                        .map(|_| {
                            let b = alphabet[n % alphabet.len()];
                            n /= alphabet.len();
                            b
                        })
                        .collect(),
                );
            }
        }
        for line in &lines {
            let want = by_hand(line);
            match (split_field(line), want) {
                (Field::Blank, None) => assert!(line.is_empty()),
                (Field::Ignored, None) => {}
                (Field::Ignored, Some((name_of, _))) => {
                    assert!(matches!(name(name_of), Name::Other), "{line:?}");
                }
                (Field::Named(got, value), Some((name_of, want_value))) => {
                    assert_eq!(value, want_value, "{line:?}");
                    assert_eq!(
                        core::mem::discriminant(&got),
                        core::mem::discriminant(&name(name_of))
                    );
                    // The value lies in the line, at its end.
                    let end = line.as_ptr() as usize + line.len();
                    assert_eq!(value.as_ptr() as usize + value.len(), end, "{line:?}");
                }
                (_, want) => panic!("{line:?}: expected {want:?}"),
            }
        }
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
