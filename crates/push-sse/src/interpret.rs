//! Interpreting lines (split by [`crate::field`]): the event being assembled and the state that
//! outlives events, exactly as the WHATWG event stream interpretation says. The last event id's
//! rules are [`crate::last_id`]'s.
//!
//! | field   | effect                                                                  |
//! |---------|-------------------------------------------------------------------------|
//! | `data`  | append the value and an LF to the data buffer                           |
//! | `event` | set the event type buffer                                               |
//! | `id`    | set the last event id, unless the value contains U+0000                 |
//! | `retry` | if the value is ASCII digits only: [`Decoded::Retry`](crate::Decoded::Retry) at once |
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
//! copied, nothing counted); [`Interpreter::shared`] makes an [`SharedEvent`] whose data is, when
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
use crate::frame::{EventRef, SharedEvent};
use crate::last_id::{LastEventId, has_nul};
use crate::types::{EventTypes, TypeAt};
use crate::utf8::{text, text_in};

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
    /// The last event id buffer and the event source's last event id.
    id: LastEventId,
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
            id: LastEventId::new(),
            ready: (DataAt::Buffer, None),
            lossy: String::new(),
            max_event,
        }
    }

    /// The event source's last event id: the last event id buffer as it was at the last blank
    /// line (the specification sets it at every dispatch, also when no event is fired because
    /// the data buffer is empty; an `id` with no blank line after it yet does not count).
    pub(crate) fn last_id(&self) -> &str {
        self.id.current()
    }

    /// Sets the last event id (a reconnecting client's).
    pub(crate) fn set_last_id(&mut self, id: String) {
        self.id.replace(id);
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
            Name::Id if !has_nul(value) => self.set_id(value, chunk, in_chunk),
            Name::Retry => {
                if let Some(ms) = parse_retry(value) {
                    return Ok(Step::Retry(ms));
                }
            }
            Name::Id | Name::Other => {}
        }
        Ok(Step::Continue)
    }

    /// Sets the last event id buffer. Out of line and called with the interpreter itself: the
    /// hot loop then keeps no pointer to the id across lines (measured: 2 instructions an event).
    #[inline(never)]
    fn set_id(&mut self, value: &[u8], chunk: &Bytes, in_chunk: bool) {
        self.id.set(value, chunk, in_chunk);
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
        self.id.commit();
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
        EventRef::new(kind, data, self.id.buffer())
    }

    /// The event just dispatched, sharing `chunk` (the chunk being read) when its data lies there.
    pub(crate) fn shared(&mut self, chunk: &Bytes) -> SharedEvent {
        let data = match self.ready.0 {
            DataAt::Chunk(from, to) if text_in(chunk, from, to).is_some() => chunk.slice(from..to),
            _ => self.owned_data(chunk),
        };
        let event = self.types.get(self.ready.1).1.clone();
        SharedEvent::new(event, data, self.id.text())
    }

    /// The event just dispatched, copied.
    pub(crate) fn owned(&mut self, chunk: &[u8]) -> Event {
        Event {
            event: Some(self.types.get(self.ready.1).0.clone()),
            data: self.owned_data(chunk),
            id: Some(self.id.buffer().to_owned()),
            retry: None,
            audience: push_core::Audience::Public,
            replace: None,
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
        self.id.discard_pending();
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
#[inline]
pub(crate) fn offset_in(chunk: &[u8], value: &[u8]) -> usize {
    value.as_ptr() as usize - chunk.as_ptr() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_the_events_at_once_and_the_sources_at_the_blank_line() {
        let mut it = Interpreter::new(64);
        let chunk = Bytes::from_static(b"id: 7\ndata: x\nid: a\0\n\n");
        let mut lines = chunk.split(|&b| b == b'\n');
        for _ in 0..3 {
            let line = lines.next().unwrap();
            assert_eq!(it.handle_line(line, &chunk, true), Ok(Step::Continue));
        }
        assert_eq!(it.last_id(), "");
        assert_eq!(it.handle_line(b"", &chunk, true), Ok(Step::Dispatch));
        assert!(it.dispatch());
        assert_eq!(it.last_id(), "7");
        assert_eq!(it.view(&chunk).last_event_id(), "7");
        assert_eq!(it.shared(&chunk).into_event().id.as_deref(), Some("7"));
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
