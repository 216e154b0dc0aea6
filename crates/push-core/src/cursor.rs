//! The resume cursor: one token for every transport.

use core::fmt;
use core::str::FromStr;

use crate::Error;

/// The position of an event in a broker's history.
///
/// A cursor names its **epoch** (which history the offsets count in: a boot id for the in-memory
/// broker, a stream identity for a persistent one) and an **offset** in that history. Offsets are
/// broker-wide and strictly increasing, so a single cursor resumes a whole subscription, whether it
/// selects one topic or many: "everything after this offset, in the topics I selected".
///
/// The text form (its [`Display`](fmt::Display) and [`FromStr`]) is what clients see and send back,
/// unchanged, as the SSE `id` / `Last-Event-ID`, the long-poll `since` / `next` and the WebSocket
/// `from`. It is short, contains only `[0-9a-f-]` and is therefore safe in headers, URLs and JSON
/// without escaping. It is canonical: every cursor has exactly one text form, and parsing accepts
/// only that form, so `c.to_string().parse() == Ok(c)` and `s.parse()?.to_string() == s`.
///
/// Clients must treat it as opaque. Its layout is `EPOCH-OFFSET`, both in lowercase hexadecimal
/// without leading zeros, or `EPOCH-OFFSET-SEQUENCE` for a broker whose positions have two
/// numbers: a Redis stream entry id `MS-SEQ` is the offset `MS` and the sequence `SEQ`
/// ([`Cursor::with_sequence`]). The two forms are distinct cursors (`1-5` is not `1-5-0`), each
/// with its one text form; cursors order by epoch, offset, then sequence (none first).
///
/// ```
/// use push_core::Cursor;
///
/// let c = Cursor::new(0x5eed, 42);
/// assert_eq!(c.to_string(), "5eed-2a");
/// assert_eq!("5eed-2a".parse::<Cursor>(), Ok(c));
/// assert!("5eed-002a".parse::<Cursor>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cursor {
    epoch: u64,
    offset: u64,
    sequence: Option<u64>,
}

/// The longest text form of a cursor: three 16-digit numbers and two separators.
pub const MAX_CURSOR_LEN: usize = 50;

impl Cursor {
    /// A cursor at `offset` in the history named by `epoch`.
    pub const fn new(epoch: u64, offset: u64) -> Self {
        Self {
            epoch,
            offset,
            sequence: None,
        }
    }

    /// A cursor with a third number: a position of two numbers in the history named by
    /// `epoch`, such as a Redis stream entry id `offset-sequence`.
    ///
    /// ```
    /// use push_core::Cursor;
    ///
    /// // Redis stream entry 1700000000000-3 in the stream whose identity is 0x5eed.
    /// let c = Cursor::with_sequence(0x5eed, 1_700_000_000_000, 3);
    /// assert_eq!(c.to_string(), "5eed-18bcfe56800-3");
    /// assert_eq!(c.to_string().parse::<Cursor>(), Ok(c));
    /// assert_eq!((c.offset(), c.sequence()), (1_700_000_000_000, Some(3)));
    /// ```
    pub const fn with_sequence(epoch: u64, offset: u64, sequence: u64) -> Self {
        Self {
            epoch,
            offset,
            sequence: Some(sequence),
        }
    }

    /// The history this cursor counts in.
    pub const fn epoch(self) -> u64 {
        self.epoch
    }

    /// The offset of the last event this cursor has seen (0: none yet).
    pub const fn offset(self) -> u64 {
        self.offset
    }

    /// The third number, when the broker's positions have one (see
    /// [`with_sequence`](Self::with_sequence)).
    pub const fn sequence(self) -> Option<u64> {
        self.sequence
    }

    /// The text form on the stack (the same as `to_string()`, without allocating).
    pub fn text(self) -> CursorText {
        CursorText::new(self)
    }

    /// Parses the text form, saying what is wrong when it is not a cursor.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_bytes(text.as_bytes())
    }

    /// Parses the text form from raw bytes (a header value, a query parameter).
    pub fn parse_bytes(text: &[u8]) -> Result<Self, Error> {
        if text.is_empty() {
            return Err(Error::CursorEmpty);
        }
        if text.len() > MAX_CURSOR_LEN {
            return Err(Error::CursorTooLong);
        }
        let Some(dash) = text.iter().position(|&b| b == b'-') else {
            return Err(Error::CursorMissingSeparator);
        };
        let epoch = parse_hex(&text[..dash])?;
        let rest = &text[dash + 1..];
        match rest.iter().position(|&b| b == b'-') {
            None => Ok(Self::new(epoch, parse_hex(rest)?)),
            Some(dash) => Ok(Self::with_sequence(
                epoch,
                parse_hex(&rest[..dash])?,
                parse_hex(&rest[dash + 1..])?,
            )),
        }
    }
}

fn parse_hex(digits: &[u8]) -> Result<u64, Error> {
    if digits.is_empty() {
        return Err(Error::CursorMissingNumber);
    }
    if digits.len() > 16 {
        return Err(Error::CursorTooLong);
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(Error::CursorNotCanonical);
    }
    let mut value = 0u64;
    for &b in digits {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => return Err(Error::CursorNotCanonical),
            _ => return Err(Error::CursorInvalidCharacter),
        };
        // At most 16 digits, so this never overflows.
        value = (value << 4) | u64::from(d);
    }
    Ok(value)
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

/// A cursor's text form written on the stack, without `core::fmt` or an allocation: what
/// transports copy into headers and JSON on their hot paths. It is exactly the cursor's
/// [`Display`](fmt::Display).
///
/// ```
/// use push_core::Cursor;
///
/// let c = Cursor::new(0x5eed, 42);
/// assert_eq!(c.text().as_str(), "5eed-2a");
/// assert_eq!(c.text().as_bytes(), c.to_string().as_bytes());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CursorText {
    buf: [u8; MAX_CURSOR_LEN],
    len: usize,
}

impl CursorText {
    fn new(cursor: Cursor) -> Self {
        let mut text = Self {
            buf: [0; MAX_CURSOR_LEN],
            len: 0,
        };
        text.push_hex(cursor.epoch);
        text.buf[text.len] = b'-';
        text.len += 1;
        text.push_hex(cursor.offset);
        if let Some(sequence) = cursor.sequence {
            text.buf[text.len] = b'-';
            text.len += 1;
            text.push_hex(sequence);
        }
        text
    }

    /// Lowercase hexadecimal without leading zeros (at least one digit).
    fn push_hex(&mut self, value: u64) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0; 16];
        let mut start = digits.len();
        let mut rest = value;
        loop {
            start -= 1;
            // The mask keeps the index below 16.
            digits[start] = HEX[(rest & 0xf) as usize];
            rest >>= 4;
            if rest == 0 {
                break;
            }
        }
        let digits = &digits[start..];
        self.buf[self.len..self.len + digits.len()].copy_from_slice(digits);
        self.len += digits.len();
    }

    /// The text as bytes (ASCII: `[0-9a-f-]`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits and '-' are ever written, so this never falls back.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl AsRef<[u8]> for CursorText {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl FromStr for Cursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_extremes() {
        for c in [
            Cursor::new(0, 0),
            Cursor::new(u64::MAX, u64::MAX),
            Cursor::new(1, u64::MAX),
            Cursor::with_sequence(u64::MAX, u64::MAX, u64::MAX),
            Cursor::with_sequence(0, 0, 0),
        ] {
            let text = c.to_string();
            assert!(text.len() <= MAX_CURSOR_LEN);
            assert_eq!(text.parse::<Cursor>(), Ok(c));
        }
        assert_eq!(Cursor::new(0, 0).to_string(), "0-0");
        assert_eq!(Cursor::new(u64::MAX, 1).to_string(), "ffffffffffffffff-1");
        assert_eq!(Cursor::with_sequence(0, 0, 0).to_string(), "0-0-0");
        let longest = Cursor::with_sequence(u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(longest.to_string().len(), MAX_CURSOR_LEN);
    }

    #[test]
    fn the_third_number_is_a_distinct_ordered_position() {
        let two = Cursor::new(1, 5);
        let three = Cursor::with_sequence(1, 5, 0);
        assert_ne!(two, three);
        assert_ne!(two.to_string(), three.to_string());
        assert!(two < three && three < Cursor::with_sequence(1, 5, 1));
        assert!(Cursor::with_sequence(1, 5, u64::MAX) < Cursor::new(1, 6));
        assert_eq!("1-5-0".parse::<Cursor>(), Ok(three));
        assert_eq!(two.sequence(), None);
    }

    #[test]
    fn the_stack_text_is_the_display_form() {
        for (epoch, offset) in [
            (0, 0),
            (1, 9),
            (10, 15),
            (16, 255),
            (0x5eed, 256),
            (u64::MAX / 3, u64::MAX),
        ] {
            let c = Cursor::new(epoch, offset);
            assert_eq!(c.text().as_str(), format!("{epoch:x}-{offset:x}"));
        }
    }

    #[test]
    fn malformed_cursors_say_what_is_wrong() {
        let cases: &[(&str, Error)] = &[
            ("", Error::CursorEmpty),
            ("abc", Error::CursorMissingSeparator),
            ("-1", Error::CursorMissingNumber),
            ("1-", Error::CursorMissingNumber),
            ("1-2-3-4", Error::CursorInvalidCharacter),
            ("1-2-", Error::CursorMissingNumber),
            ("1--3", Error::CursorMissingNumber),
            ("1-2-03", Error::CursorNotCanonical),
            ("1-2-A", Error::CursorNotCanonical),
            ("01-2", Error::CursorNotCanonical),
            ("1-A", Error::CursorNotCanonical),
            ("1-g", Error::CursorInvalidCharacter),
            ("1 -2", Error::CursorInvalidCharacter),
            ("+1-2", Error::CursorInvalidCharacter),
            ("11111111111111111-2", Error::CursorTooLong),
            ("1-11111111111111111", Error::CursorTooLong),
            ("1-2-11111111111111111", Error::CursorTooLong),
            (
                "123456789012345678901234567890123456789012345678901",
                Error::CursorTooLong,
            ),
        ];
        for (text, err) in cases {
            assert_eq!(text.parse::<Cursor>(), Err(*err), "{text:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[cfg(feature = "__fuzz")]
    #[test]
    fn fuzz_hook_accepts_arbitrary_input() {
        crate::__fuzz::cursor_roundtrip(b"\xff\x00-\x01");
        crate::__fuzz::cursor_roundtrip(b"0123456789abcdef0123");
        crate::__fuzz::cursor_roundtrip(b"1f-0");
        crate::__fuzz::cursor_roundtrip(b"1f-0-9");
        crate::__fuzz::cursor_roundtrip(&[0xff; 24]);
    }
}
