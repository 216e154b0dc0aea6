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
//! Limits: a `data` line makes [`Error::EventTooLarge`] when the joined data would pass the event
//! limit. The line limit (`event`, `id` and `retry` lines; comments and other fields have none)
//! is the line splitter's ([`crate::line`]), which also holds partial lines to the same rules,
//! so where the chunks end never changes the outcome.
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
use crate::types::{EventTypes, TypeAt};
use crate::utf8::{push_lossy, text, text_in};

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

/// Where the data of the event being assembled, or just dispatched, is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataAt {
    /// In the chunk being read, from and to these offsets (`data` is empty).
    Chunk(usize, usize),
    /// In `data`.
    Buffer,
}

/// The event being assembled and the state that outlives events.
#[derive(Debug)]
pub(crate) struct Interpreter {
    /// Joined `data` values, separated by LF (raw bytes: UTF-8 is decoded at dispatch, which
    /// gives the same result as decoding each line, since LF is ASCII).
    data: Vec<u8>,
    /// Where the data is so far; `None` until a `data` field is seen (the specification's data
    /// buffer is empty then; `data` above lacks its trailing LF, so may be empty even after).
    data_at: Option<DataAt>,
    /// The event type buffer and the types decoded so far.
    types: EventTypes,
    /// The last event id buffer.
    #[allow(clippy::box_collection)] // Swapped with `committed` once per event: two pointers.
    last_id: Box<String>,
    /// An `id` field has set `last_id` since the last blank line: the event source's last event
    /// id is then `committed` (the value at that blank line), else `last_id` itself.
    id_pending: bool,
    /// The last event id at the last blank line, while an `id` field is pending: a swap with
    /// `last_id` on the first `id` after a blank line, so neither allocates once warm (boxed,
    /// so that the swap, once per event, moves two pointers rather than two `String`s).
    #[allow(clippy::box_collection)] // Swapped with `last_id` once per event: two pointers.
    committed: Box<String>,
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
            data_at: None,
            types: EventTypes::new(),
            last_id: Box::default(),
            id_pending: false,
            committed: Box::default(),
            long_id: None,
            ready: (DataAt::Buffer, None),
            lossy: String::new(),
            max_event,
        }
    }

    /// The event source's last event id: the last event id buffer as it was at the last blank
    /// line (the specification sets it at every dispatch, also when no event is fired because
    /// the data buffer is empty; an `id` with no blank line after it yet does not count).
    pub(crate) fn last_id(&self) -> &str {
        if self.id_pending {
            &self.committed
        } else {
            &self.last_id
        }
    }

    /// Sets the last event id (a reconnecting client's).
    pub(crate) fn set_last_id(&mut self, id: String) {
        *self.last_id = id;
        self.id_pending = false;
        self.long_id = None;
    }

    /// How long the value of a further `data` line may be: the event limit less the data so far
    /// and the line feed that would join it.
    pub(crate) fn data_room(&self) -> usize {
        let len = match self.data_at {
            None => return self.max_event,
            Some(DataAt::Chunk(from, to)) => to - from,
            Some(DataAt::Buffer) => self.data.len(),
        };
        self.max_event.saturating_sub(len.saturating_add(1))
    }

    /// Bytes of memory the pending event's data holds.
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity() + self.lossy.capacity()
    }

    /// Interprets one line (without its line ending). `chunk` is the chunk being read, and
    /// `in_chunk` tells whether the line lies in it.
    #[inline(always)]
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
                self.types.set(value);
            }
            Name::Id if !has_nul(value) => {
                self.set_id(value, chunk, in_chunk);
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
    /// A value lying in the chunk is validated there, in one SIMD block with what follows it.
    fn set_id(&mut self, value: &[u8], chunk: &Bytes, in_chunk: bool) {
        if !self.id_pending {
            core::mem::swap(&mut self.last_id, &mut self.committed);
            self.id_pending = true;
        }
        self.last_id.clear();
        self.long_id = None;
        if in_chunk {
            let from = offset_in(chunk, value);
            if let Some(text) = text_in(chunk, from, from + value.len()) {
                self.last_id.push_str(text);
                return;
            }
        }
        push_lossy(&mut self.last_id, value);
    }

    #[inline]
    fn push_data(&mut self, value: &[u8], chunk: &Bytes, in_chunk: bool) -> Result<(), Error> {
        // The limit is on the data as dispatched: the values and the LFs between them.
        let len = match self.data_at {
            None => 0,
            Some(DataAt::Chunk(from, to)) => to - from,
            Some(DataAt::Buffer) => self.data.len(),
        };
        let need = usize::from(self.data_at.is_some()) + value.len();
        if len.saturating_add(need) > self.max_event {
            return Err(Error::EventTooLarge);
        }
        if self.data_at.is_none() {
            self.data.clear();
            if in_chunk {
                let from = offset_in(chunk, value);
                self.data_at = Some(DataAt::Chunk(from, from + value.len()));
                return Ok(());
            }
            self.data_at = Some(DataAt::Buffer);
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
        if let Some(DataAt::Chunk(from, to)) = self.data_at {
            self.data.extend_from_slice(&chunk[from..to]);
            self.data_at = Some(DataAt::Buffer);
        }
    }

    /// Ends the event being assembled: `true` if it has data, and is then ready for
    /// [`Self::view`], [`Self::shared`] or [`Self::owned`] (until the next line is handled).
    pub(crate) fn dispatch(&mut self) -> bool {
        self.id_pending = false;
        let Some(data) = self.data_at.take() else {
            self.types.clear();
            return false;
        };
        self.ready = (data, self.types.take());
        true
    }

    /// The event just dispatched, borrowed: its data validated (or repaired) here.
    pub(crate) fn view<'a>(&'a mut self, chunk: &'a [u8]) -> EventRef<'a> {
        let (raw, valid) = ready_data(self.ready.0, &self.data, chunk);
        let data = match valid {
            Some(text) => text,
            None => {
                self.lossy.clear();
                self.lossy.push_str(&String::from_utf8_lossy(raw));
                &self.lossy
            }
        };
        let kind = &self.types.get(self.ready.1).0;
        EventRef::new(kind, data, &self.last_id)
    }

    /// The event just dispatched, sharing `chunk` (the chunk being read) when its data lies there.
    pub(crate) fn shared(&mut self, chunk: &Bytes) -> SseEvent {
        let data = match self.ready.0 {
            DataAt::Chunk(from, to) if text_in(chunk, from, to).is_some() => chunk.slice(from..to),
            _ => self.owned_data(chunk),
        };
        let event = self.types.get(self.ready.1).1.clone();
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
            event: Some(self.types.get(self.ready.1).0.clone()),
            data: self.owned_data(chunk),
            id: Some(String::clone(&self.last_id)),
            retry: None,
        }
    }

    /// The data of the event just dispatched, validated, in a new buffer.
    fn owned_data(&self, chunk: &[u8]) -> Bytes {
        let (raw, valid) = ready_data(self.ready.0, &self.data, chunk);
        match valid {
            Some(text) => Bytes::copy_from_slice(text.as_bytes()),
            None => Bytes::from(String::from_utf8_lossy(raw).into_owned()),
        }
    }

    /// Discards the event being assembled (the stream ended before its blank line).
    pub(crate) fn reset_event(&mut self) {
        if self.id_pending {
            // The id was never dispatched: the buffer goes back to the event source's id.
            core::mem::swap(&mut self.last_id, &mut self.committed);
            self.id_pending = false;
            self.long_id = None;
        }
        self.data.clear();
        self.data_at = None;
        self.types.clear();
    }

    /// Drops the pending event and its memory (after an error).
    pub(crate) fn release(&mut self) {
        self.reset_event();
        self.data = Vec::new();
        self.lossy = String::new();
    }
}

/// The dispatched event's data at `at` (in `chunk` or in the `data` buffer): raw, and as text
/// if it is UTF-8.
fn ready_data<'a>(at: DataAt, data: &'a [u8], chunk: &'a [u8]) -> (&'a [u8], Option<&'a str>) {
    match at {
        DataAt::Chunk(from, to) => (&chunk[from..to], text_in(chunk, from, to)),
        DataAt::Buffer => (data, text(data)),
    }
}

/// Where `value`, a part of `chunk`, starts in it: a safe address difference.
fn offset_in(chunk: &[u8], value: &[u8]) -> usize {
    value.as_ptr() as usize - chunk.as_ptr() as usize
}

/// Whether `value` holds a NUL byte: a word at a time (ids are short, and `contains` would
/// call `memchr`).
#[inline]
fn has_nul(value: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    let (words, rest) = value.as_chunks::<8>();
    words.iter().any(|w| {
        let w = u64::from_le_bytes(*w);
        w.wrapping_sub(ONES) & !w & (ONES << 7) != 0
    }) || rest.contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_anywhere() {
        for len in 0..40 {
            let mut v = vec![0x80u8; len];
            assert!(!has_nul(&v));
            for at in 0..len {
                v[at] = 0;
                assert!(has_nul(&v), "{len} {at}");
                v[at] = 0x01;
                assert!(!has_nul(&v), "{len} {at}");
            }
        }
    }

    #[test]
    fn ids_are_decoded_with_replacement_and_ids_with_nul_ignored() {
        let mut it = Interpreter::new(1024);
        let long = "x".repeat(100);
        let mut previous = String::new();
        for (value, want) in [
            (&b"5eed-1"[..], "5eed-1"),
            (b"a\xFF", "a\u{FFFD}"),
            (long.as_bytes(), long.as_str()),
            (b"a\0b", long.as_str()),
            (b"", ""),
        ] {
            let line = [&b"id: "[..], value].concat();
            let step = it.handle_line(&line, &Bytes::new(), false);
            assert_eq!(step, Ok(Step::Continue));
            // The same line lying in a chunk: validated in place.
            let chunk = Bytes::from([&line[..], b"\n"].concat());
            let step = it.handle_line(&chunk[..line.len()], &chunk, true);
            assert_eq!(step, Ok(Step::Continue));
            // Not the event source's id before a blank line dispatches it.
            assert_eq!(it.last_id(), previous, "{value:?}");
            assert!(!it.dispatch());
            assert_eq!(it.last_id(), want, "{value:?}");
            previous = it.last_id().to_owned();
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
