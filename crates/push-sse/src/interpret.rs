//! Interpreting lines (split by [`crate::field`]): the event being assembled and the state that
//! outlives events, exactly as the WHATWG event stream interpretation says.
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
//!
//! Three ways out, once [`Interpreter::dispatch`] has noted where the event is:
//! [`Interpreter::view`] borrows it (`&str`s into the chunk or the decoder's buffers: nothing
//! copied, nothing counted); [`Interpreter::shared`] makes an [`SseEvent`] whose data is, when
//! it is one line of a [`Bytes`] chunk, a slice of that chunk; [`Interpreter::owned`] copies into
//! a [`push_core::Event`] (nothing shared with the input).
//!
//! Single-line data in the chunk being read is kept as offsets into it until dispatch: the
//! decoder calls [`Interpreter::pin`] (a copy) before the chunk is dropped, which happens only
//! when an event spans chunks.

use bytes::Bytes;
use push_core::Event;

use crate::Error;
use crate::field::{Field, Name, parse_retry, split_field};
use crate::frame::{EventRef, SseEvent, Text};

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

/// Where the data of the event being assembled, or just dispatched, is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataAt {
    /// In the chunk being read, from and to these offsets (`data` is empty).
    Chunk(usize, usize),
    /// In `data`.
    Buffer,
}

/// The event type of the event just dispatched: an index into the known types, or `None` for
/// `other_type`.
type TypeAt = Option<usize>;

/// The event being assembled and the state that outlives events.
#[derive(Debug)]
pub(crate) struct Interpreter {
    /// Joined `data` values, separated by LF (raw bytes: UTF-8 is decoded at dispatch, which
    /// gives the same result as decoding each line, since LF is ASCII).
    data: Vec<u8>,
    /// Where the data is so far.
    data_at: DataAt,
    /// The data buffer is not empty in the specification's sense: a `data` field was seen
    /// (`data` above lacks the specification's trailing LF, so it may be empty even then).
    has_data: bool,
    /// The event type buffer (raw bytes).
    event_type: Vec<u8>,
    /// Types already decoded as text, most streams use a handful: cloning one skips UTF-8
    /// validation at each dispatch. Each as a `String` and as a [`Text`], for the two paths.
    known_types: Vec<(String, Text)>,
    /// The type of the event just dispatched, when too long to be remembered.
    other_type: (String, Text),
    /// The last event id buffer.
    last_id: String,
    /// `last_id` as a [`Text`], once made, if it is too long to be inline (so that every event
    /// shares it until it changes).
    long_id: Option<Text>,
    /// The event just dispatched: its data and type.
    ready: (DataAt, TypeAt),
    /// Its data with invalid UTF-8 replaced, when it had some.
    lossy: String,
    max_event: usize,
}

impl Interpreter {
    pub(crate) fn new(max_event: usize) -> Self {
        Self {
            data: Vec::new(),
            data_at: DataAt::Buffer,
            has_data: false,
            event_type: Vec::new(),
            known_types: Vec::new(),
            other_type: (String::new(), Text::new("")),
            last_id: String::new(),
            long_id: None,
            ready: (DataAt::Buffer, None),
            lossy: String::new(),
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
        self.long_id = None;
    }

    /// Bytes of memory the pending event's data holds.
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity() + self.lossy.capacity()
    }

    /// Interprets one line (without its line ending). `chunk` is the chunk being read, and
    /// `in_chunk` tells whether the line lies in it.
    #[inline]
    pub(crate) fn handle_line(
        &mut self,
        line: &[u8],
        chunk: &Bytes,
        in_chunk: bool,
    ) -> Result<Step, Error> {
        let (name, value) = match split_field(line) {
            Field::Blank => return Ok(Step::Dispatch),
            Field::Ignored => return Ok(Step::Continue),
            Field::Named(name, value) => (name, value),
        };
        match name {
            Name::Data => self.push_data(value, chunk, in_chunk)?,
            Name::Event => {
                self.event_type.clear();
                self.event_type.extend_from_slice(value);
            }
            // (A plain loop: ids are short, and `contains` calls `memchr`.)
            Name::Id if value.iter().all(|&b| b != 0) => {
                self.set_id(value);
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

    /// Sets the last event id buffer (reusing it: most streams send an id with every event).
    fn set_id(&mut self, value: &[u8]) {
        self.last_id.clear();
        self.long_id = None;
        let mut padded = [0; PADDED];
        match padded.get_mut(..value.len()) {
            Some(head) => {
                // Short: validated in a zero-padded copy, in one SIMD block.
                head.copy_from_slice(value);
                match simdutf8::basic::from_utf8(&padded).map(|text| text.get(..value.len())) {
                    Ok(Some(text)) => self.last_id.push_str(text),
                    _ => push_lossy(&mut self.last_id, value),
                }
            }
            None => push_lossy(&mut self.last_id, value),
        }
    }

    fn push_data(&mut self, value: &[u8], chunk: &Bytes, in_chunk: bool) -> Result<(), Error> {
        // The limit is on the data as dispatched: the values and the LFs between them.
        let len = match self.data_at {
            DataAt::Chunk(from, to) => to - from,
            DataAt::Buffer => self.data.len(),
        };
        let need = usize::from(self.has_data) + value.len();
        if len.saturating_add(need) > self.max_event {
            return Err(Error::EventTooLarge);
        }
        if !self.has_data {
            self.has_data = true;
            self.data.clear();
            if in_chunk {
                // `value` lies in `chunk` (unless empty, when it may be a constant): keep where,
                // as a safe address difference.
                let from = if value.is_empty() {
                    0
                } else {
                    value.as_ptr() as usize - chunk.as_ptr() as usize
                };
                self.data_at = DataAt::Chunk(from, from + value.len());
                return Ok(());
            }
        } else {
            // A second line: the data is joined in `data` after all.
            self.pin(chunk);
            self.data.push(b'\n');
        }
        self.data.extend_from_slice(value);
        Ok(())
    }

    /// Copies data kept as offsets into `chunk` (the chunk being read) into the buffer: before
    /// the chunk is dropped.
    pub(crate) fn pin(&mut self, chunk: &[u8]) {
        if let DataAt::Chunk(from, to) = self.data_at {
            self.data.extend_from_slice(&chunk[from..to]);
            self.data_at = DataAt::Buffer;
        }
    }

    /// Ends the event being assembled: `true` if it has data, and is then ready for
    /// [`Self::view`], [`Self::shared`] or [`Self::owned`] (until the next line is handled).
    pub(crate) fn dispatch(&mut self) -> bool {
        if !self.has_data {
            self.event_type.clear();
            return false;
        }
        self.has_data = false;
        let data = self.data_at;
        self.data_at = DataAt::Buffer;
        self.ready = (data, self.event_type());
        true
    }

    /// The raw data of the event just dispatched.
    fn ready_data<'a>(&'a self, chunk: &'a [u8]) -> &'a [u8] {
        match self.ready.0 {
            DataAt::Chunk(from, to) => &chunk[from..to],
            DataAt::Buffer => &self.data,
        }
    }

    /// The type of the event just dispatched, as `String` and [`Text`].
    fn ready_type(&self) -> &(String, Text) {
        match self.ready.1 {
            Some(i) => &self.known_types[i],
            None => &self.other_type,
        }
    }

    /// The event just dispatched, borrowed: its data validated (or repaired) here.
    pub(crate) fn view<'a>(&'a mut self, chunk: &'a [u8]) -> EventRef<'a> {
        let raw = match self.ready.0 {
            DataAt::Chunk(from, to) => &chunk[from..to],
            DataAt::Buffer => &self.data[..],
        };
        let data = match text(raw) {
            Some(text) => text,
            None => {
                self.lossy.clear();
                self.lossy.push_str(&String::from_utf8_lossy(raw));
                &self.lossy
            }
        };
        let kind = match self.ready.1 {
            Some(i) => &self.known_types[i].0,
            None => &self.other_type.0,
        };
        EventRef::new(kind, data, &self.last_id)
    }

    /// The event just dispatched, sharing `chunk` (the chunk being read) when its data lies there.
    pub(crate) fn shared(&mut self, chunk: &Bytes) -> SseEvent {
        let data = match self.ready.0 {
            DataAt::Chunk(from, to) if is_utf8(&chunk[from..to]) => chunk.slice(from..to),
            _ => self.owned_data(chunk),
        };
        let event = self.ready_type().1.clone();
        let id = if Text::fits(self.last_id.len()) {
            Text::new(&self.last_id)
        } else {
            let id = &self.last_id;
            self.long_id.get_or_insert_with(|| Text::new(id)).clone()
        };
        SseEvent::new(event, data, id)
    }

    /// The event just dispatched, copied.
    pub(crate) fn owned(&mut self, chunk: &[u8]) -> Event {
        Event {
            event: Some(self.ready_type().0.clone()),
            data: self.owned_data(chunk),
            id: Some(self.last_id.clone()),
            retry: None,
        }
    }

    /// The data of the event just dispatched, validated, in a new buffer.
    fn owned_data(&self, chunk: &[u8]) -> Bytes {
        let raw = self.ready_data(chunk);
        if raw.is_empty() {
            Bytes::new()
        } else if is_utf8(raw) {
            Bytes::copy_from_slice(raw)
        } else {
            Bytes::from(String::from_utf8_lossy(raw).into_owned())
        }
    }

    /// The index of the event type among the known ones, remembering it if it is new and short
    /// (`None`: it is in `other_type`); an empty type is `message`. Clears the type buffer.
    fn event_type(&mut self) -> TypeAt {
        if self.event_type.is_empty() {
            self.event_type.extend_from_slice(b"message");
        }
        let raw = &self.event_type[..];
        if let Some(i) = self.known_types.iter().position(|t| t.0.as_bytes() == raw) {
            self.event_type.clear();
            return Some(i);
        }
        let long = raw.len() > MAX_KNOWN_TYPE_LEN;
        let mut text = String::with_capacity(raw.len());
        push_lossy(&mut text, raw);
        self.event_type.clear();
        let shared = Text::new(&text);
        let decoded = (text, shared);
        if long {
            self.other_type = decoded;
            return None;
        }
        if self.known_types.len() == MAX_KNOWN_TYPES {
            self.known_types.remove(0);
        }
        self.known_types.push(decoded);
        Some(self.known_types.len() - 1)
    }

    /// Discards the event being assembled (the stream ended before its blank line).
    pub(crate) fn reset_event(&mut self) {
        self.data.clear();
        self.data_at = DataAt::Buffer;
        self.has_data = false;
        self.event_type.clear();
    }

    /// Drops the pending event and its memory (after an error).
    pub(crate) fn release(&mut self) {
        self.reset_event();
        self.data = Vec::new();
        self.lossy = String::new();
    }
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

/// The SIMD block of UTF-8 validation. A short text is validated as a block padded with zeros
/// (ASCII): valid text ends on a character boundary, and valid text padded is valid, so the
/// padded block is valid with the text's end on a boundary exactly when the text is valid. This
/// costs less than core's validation, which goes byte by byte until its input is aligned.
const PADDED: usize = 64;

/// `bytes` as text if it is UTF-8, validated with SIMD when long enough for it to pay.
fn text(bytes: &[u8]) -> Option<&str> {
    if bytes.len() >= PADDED {
        simdutf8::basic::from_utf8(bytes).ok()
    } else {
        core::str::from_utf8(bytes).ok()
    }
}

/// Appends `bytes` as UTF-8, invalid sequences replaced by U+FFFD; fast when already valid.
fn push_lossy(dst: &mut String, bytes: &[u8]) {
    match core::str::from_utf8(bytes) {
        Ok(s) => dst.push_str(s),
        Err(_) => dst.push_str(&String::from_utf8_lossy(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn ids_of_every_length_and_validity() {
        let mut it = Interpreter::new(1024);
        for len in [0, 1, 9, 62, 63, 64, 65, 100] {
            for tail in [
                &b""[..],
                "\u{e9}".as_bytes(),
                b"\xE2\x82",
                b"\xFF",
                b"\xC3",
                b"\x80",
            ] {
                let mut value = vec![b'x'; len];
                value.extend_from_slice(tail);
                let line = [&b"id:"[..], &value].concat();
                assert_eq!(
                    it.handle_line(&line, &Bytes::new(), false),
                    Ok(Step::Continue)
                );
                assert_eq!(
                    it.last_id(),
                    String::from_utf8_lossy(&value),
                    "{len} {tail:?}"
                );
            }
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
                it.handle_line(line, &Bytes::new(), false),
                Ok(Step::Continue | Step::Dispatch)
            ));
        }
        assert!(it.dispatch());
        let e = it.owned(&[]);
        assert_eq!(e.data, &b"ab\n\ncd"[..]);
        assert_eq!(e.event.as_deref(), Some("t\u{FFFD}"));
        assert_eq!(e.id.as_deref(), Some("7"));
        assert_eq!(
            it.handle_line(b"data:123456789", &Bytes::new(), false),
            Err(Error::EventTooLarge)
        );
        assert!(!it.dispatch());
    }
}
