//! Interpreting lines: the event being assembled and the state that outlives events, exactly as
//! the WHATWG event stream interpretation says.
//!
//! ```text
//! line    = empty / comment / field
//! empty   = ""                                  ; dispatch the event
//! comment = ":" *any-char                       ; ignored
//! field   = name [ ":" [ " " ] value ]          ; one leading space is stripped
//! name    = 1*name-char                         ; anything but ":"  (case-sensitive)
//! ```
//!
//! | field   | effect                                                                  |
//! |---------|-------------------------------------------------------------------------|
//! | `data`  | append the value and an LF to the data buffer                           |
//! | `event` | set the event type buffer                                               |
//! | `id`    | set the last event id, unless the value contains U+0000                 |
//! | `retry` | if the value is ASCII digits only: [`Item::Retry`](crate::Item::Retry) at once |
//! | other   | ignored                                                                 |
//!
//! Performance: UTF-8 is validated once per event's data, with an ASCII fast path; decoded event
//! types are remembered, so a dispatch clones the type instead of validating it again.

use bytes::Bytes;
use push_core::Event;

use crate::Error;

/// What a line asks the decoder to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing to report: read the next line.
    Continue,
    /// A blank line: dispatch the event (if it has data).
    Dispatch,
    /// A valid `retry` field.
    Retry(u64),
}

/// How many decoded event types are remembered, and up to what length.
const MAX_KNOWN_TYPES: usize = 8;
const MAX_KNOWN_TYPE_LEN: usize = 64;

/// The longest field name the decoder acts on (`event`, `retry`).
const MAX_NAME: usize = 5;

/// The event being assembled and the state that outlives events.
#[derive(Debug)]
pub(crate) struct Interpreter {
    /// Joined `data` values, separated by LF (raw bytes: UTF-8 is decoded at dispatch, which
    /// gives the same result as decoding each line, since LF is ASCII).
    data: Vec<u8>,
    /// The data buffer is not empty in the specification's sense: a `data` field was seen
    /// (`data` above lacks the specification's trailing LF, so it may be empty even then).
    has_data: bool,
    /// The event type buffer (raw bytes).
    event_type: Vec<u8>,
    /// Types already decoded as text, most streams use a handful: cloning one skips UTF-8
    /// validation at each dispatch.
    known_types: Vec<String>,
    /// The last event id buffer.
    last_id: String,
    max_event: usize,
}

impl Interpreter {
    pub(crate) fn new(max_event: usize) -> Self {
        Self {
            data: Vec::new(),
            has_data: false,
            event_type: Vec::new(),
            known_types: Vec::new(),
            last_id: String::new(),
            max_event,
        }
    }

    /// The last event id so far.
    pub(crate) fn last_id(&self) -> &str {
        &self.last_id
    }

    /// Sets the last event id (a reconnecting client's).
    pub(crate) fn set_last_id(&mut self, id: String) {
        self.last_id = id;
    }

    /// Bytes of memory the pending event's data holds.
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }

    /// Interprets one line (without its line ending).
    #[inline]
    pub(crate) fn handle_line(&mut self, line: &[u8]) -> Result<Step, Error> {
        let (name, value) = match split_field(line) {
            Field::Blank => return Ok(Step::Dispatch),
            Field::Ignored => return Ok(Step::Continue),
            Field::Named(name, value) => (name, value),
        };
        match name {
            Name::Data => self.push_data(value)?,
            Name::Event => {
                self.event_type.clear();
                self.event_type.extend_from_slice(value);
            }
            // (A plain loop: ids are short, and `contains` calls `memchr`.)
            Name::Id if value.iter().all(|&b| b != 0) => {
                // Reuses the buffer: most streams send an id with every event.
                self.last_id.clear();
                push_lossy(&mut self.last_id, value);
            }
            Name::Retry => {
                if let Some(ms) = parse_retry(value) {
                    return Ok(Step::Retry(ms));
                }
            }
            Name::Id | Name::Other => {}
        }
        Ok(Step::Continue)
    }

    fn push_data(&mut self, value: &[u8]) -> Result<(), Error> {
        // The limit is on the data as dispatched: the values and the LFs between them.
        let need = usize::from(self.has_data) + value.len();
        if self.data.len().saturating_add(need) > self.max_event {
            return Err(Error::EventTooLarge);
        }
        if self.has_data {
            self.data.push(b'\n');
        }
        self.data.extend_from_slice(value);
        self.has_data = true;
        Ok(())
    }

    /// The event assembled so far, if it has data; then starts the next one.
    pub(crate) fn dispatch(&mut self) -> Option<Event> {
        if !self.has_data {
            self.event_type.clear();
            return None;
        }
        self.has_data = false;
        let data = if self.data.is_empty() {
            Bytes::new()
        } else if is_utf8(&self.data) {
            Bytes::copy_from_slice(&self.data)
        } else {
            Bytes::from(String::from_utf8_lossy(&self.data).into_owned())
        };
        self.data.clear();
        let event = self.event_type();
        Some(Event {
            event: Some(event),
            data,
            id: Some(self.last_id.clone()),
            retry: None,
        })
    }

    /// The event type as text, `message` if none was given; clears the type buffer.
    fn event_type(&mut self) -> String {
        if self.event_type.is_empty() {
            return "message".to_owned();
        }
        let raw = &self.event_type[..];
        let text = match self.known_types.iter().find(|t| t.as_bytes() == raw) {
            Some(known) => known.clone(),
            None => {
                let mut text = String::with_capacity(raw.len());
                push_lossy(&mut text, raw);
                if raw.len() <= MAX_KNOWN_TYPE_LEN {
                    if self.known_types.len() == MAX_KNOWN_TYPES {
                        self.known_types.remove(0);
                    }
                    self.known_types.push(text.clone());
                }
                text
            }
        };
        self.event_type.clear();
        text
    }

    /// Discards the event being assembled (the stream ended before its blank line).
    pub(crate) fn reset_event(&mut self) {
        self.data.clear();
        self.has_data = false;
        self.event_type.clear();
    }

    /// Drops the pending event and its memory (after an error).
    pub(crate) fn release(&mut self) {
        self.reset_event();
        self.data = Vec::new();
    }
}

/// A line, parsed.
enum Field<'a> {
    /// The empty line.
    Blank,
    /// A comment, or a field this decoder does not act on.
    Ignored,
    /// A field and its value.
    Named(Name, &'a [u8]),
}

/// A field name.
#[derive(Clone, Copy)]
enum Name {
    Data,
    Event,
    Id,
    Retry,
    Other,
}

/// Splits a line into name and value (one leading space stripped from the value).
#[inline]
fn split_field(line: &[u8]) -> Field<'_> {
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
        None if line.len() <= MAX_NAME => Field::Named(name(line), b""),
        None => Field::Ignored,
    }
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

/// Whether `bytes` is UTF-8: an ASCII check that compiles to a few vector instructions per 32
/// bytes (no early exit: it is cheaper than the branches), then the full check only if needed.
fn is_utf8(bytes: &[u8]) -> bool {
    let mut acc = [0u8; 32];
    let (blocks, rest) = bytes.as_chunks::<32>();
    for block in blocks {
        for (a, &b) in acc.iter_mut().zip(block) {
            *a |= b;
        }
    }
    // The tail: as the last 32 bytes when there are that many (overlapping the blocks does not
    // matter to OR), else byte by byte.
    let high = match bytes.last_chunk::<32>() {
        Some(last) => {
            for (a, &b) in acc.iter_mut().zip(last) {
                *a |= b;
            }
            0
        }
        None => rest.iter().fold(0, |x, &b| x | b),
    };
    acc.iter().fold(high, |x, &a| x | a) < 0x80 || core::str::from_utf8(bytes).is_ok()
}

/// Appends `bytes` as UTF-8, invalid sequences replaced by U+FFFD; fast when already valid.
fn push_lossy(dst: &mut String, bytes: &[u8]) {
    match core::str::from_utf8(bytes) {
        Ok(s) => dst.push_str(s),
        Err(_) => dst.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// ASCII digits only (no sign, no space, not empty); a value that overflows `u64` is ignored.
fn parse_retry(value: &[u8]) -> Option<u64> {
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
    fn retry_values() {
        assert_eq!(parse_retry(b"3000"), Some(3000));
        assert_eq!(parse_retry(b""), None);
        assert_eq!(parse_retry(b"+5"), None);
        assert_eq!(parse_retry(b" 5"), None);
        assert_eq!(parse_retry(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_retry(b"18446744073709551616"), None);
    }

    #[test]
    fn utf8_check() {
        let ascii = b"x".repeat(100);
        assert!(is_utf8(&ascii));
        assert!(is_utf8("é".repeat(40).as_bytes()));
        for at in [0, 31, 32, 63, 99] {
            let mut bad = ascii.clone();
            bad[at] = 0xFF;
            assert!(!is_utf8(&bad), "invalid byte at {at}");
        }
    }

    #[test]
    fn data_lines_join_with_lf() {
        let mut it = Interpreter::new(8);
        for line in [
            &b"data: ab"[..],
            b"data",
            b"data:cd",
            b"event: t\xFF",
            b"id: 7",
            b"",
        ] {
            assert!(matches!(
                it.handle_line(line),
                Ok(Step::Continue | Step::Dispatch)
            ));
        }
        let e = it.dispatch().expect("an event");
        assert_eq!(e.data, &b"ab\n\ncd"[..]);
        assert_eq!(e.event.as_deref(), Some("t\u{FFFD}"));
        assert_eq!(e.id.as_deref(), Some("7"));
        assert_eq!(it.handle_line(b"data:123456789"), Err(Error::EventTooLarge));
        assert_eq!(it.dispatch(), None);
    }
}
