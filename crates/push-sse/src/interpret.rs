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
//! Two ways out: [`Interpreter::dispatch`] copies into a [`push_core::Event`] (owned strings,
//! nothing shared with the input); [`Interpreter::dispatch_shared`] gives an [`SseEvent`] whose
//! data and id are, when their line lay in a [`Bytes`] chunk, slices of that chunk. A line comes
//! with its chunk (`Some`) only on the shared path, so the owned path never keeps input alive.

use bytes::Bytes;
use push_core::Event;

use crate::Error;
use crate::field::{Field, Name, parse_retry, split_field};
use crate::frame::{SseEvent, Text};

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

/// The event being assembled and the state that outlives events.
#[derive(Debug)]
pub(crate) struct Interpreter {
    /// Joined `data` values, separated by LF (raw bytes: UTF-8 is decoded at dispatch, which
    /// gives the same result as decoding each line, since LF is ASCII).
    data: Vec<u8>,
    /// The data so far when it is a single value read in place (then `data` is empty).
    shared_data: Option<Bytes>,
    /// The data buffer is not empty in the specification's sense: a `data` field was seen
    /// (`data` above lacks the specification's trailing LF, so it may be empty even then).
    has_data: bool,
    /// The event type buffer (raw bytes).
    event_type: Vec<u8>,
    /// Types already decoded as text, most streams use a handful: cloning one skips UTF-8
    /// validation at each dispatch. Each as a `String` and as a [`Text`], for the two paths.
    known_types: Vec<(String, Text)>,
    /// The last event id buffer.
    last_id: String,
    /// `last_id` as a [`Text`], once made, if it is too long to be inline (so that every event
    /// shares it until it changes).
    long_id: Option<Text>,
    max_event: usize,
}

impl Interpreter {
    pub(crate) fn new(max_event: usize) -> Self {
        Self {
            data: Vec::new(),
            shared_data: None,
            has_data: false,
            event_type: Vec::new(),
            known_types: Vec::new(),
            last_id: String::new(),
            long_id: None,
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
        self.data.capacity()
    }

    /// Interprets one line (without its line ending); `chunk` is the `Bytes` the line lies in,
    /// if it may be sliced.
    #[inline]
    pub(crate) fn handle_line(
        &mut self,
        line: &[u8],
        chunk: Option<&Bytes>,
    ) -> Result<Step, Error> {
        let (name, value) = match split_field(line) {
            Field::Blank => return Ok(Step::Dispatch),
            Field::Ignored => return Ok(Step::Continue),
            Field::Named(name, value) => (name, value),
        };
        match name {
            Name::Data => self.push_data(value, chunk)?,
            Name::Event => {
                self.event_type.clear();
                self.event_type.extend_from_slice(value);
            }
            // (A plain loop: ids are short, and `contains` calls `memchr`.)
            Name::Id if value.iter().all(|&b| b != 0) => {
                // Reuses the buffer: most streams send an id with every event.
                self.last_id.clear();
                push_lossy(&mut self.last_id, value);
                self.long_id = None;
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

    fn push_data(&mut self, value: &[u8], chunk: Option<&Bytes>) -> Result<(), Error> {
        // The limit is on the data as dispatched: the values and the LFs between them.
        let len = self
            .shared_data
            .as_ref()
            .map_or(self.data.len(), Bytes::len);
        let need = usize::from(self.has_data) + value.len();
        if len.saturating_add(need) > self.max_event {
            return Err(Error::EventTooLarge);
        }
        if !self.has_data {
            self.has_data = true;
            if let Some(chunk) = chunk {
                self.shared_data = Some(chunk.slice_ref(value));
                return Ok(());
            }
        } else {
            // A second line: the data is joined in `data` after all.
            if let Some(first) = self.shared_data.take() {
                self.data.extend_from_slice(&first);
            }
            self.data.push(b'\n');
        }
        self.data.extend_from_slice(value);
        Ok(())
    }

    /// The event assembled so far, if it has data, as owned values; then starts the next one.
    pub(crate) fn dispatch(&mut self) -> Option<Event> {
        if !self.has_data {
            self.event_type.clear();
            return None;
        }
        let data = self.take_data(false);
        let index = self.event_type();
        Some(Event {
            event: Some(match index {
                Some(i) => self.known_types[i].0.clone(),
                None => self.uncached_type().0,
            }),
            data,
            id: Some(self.last_id.clone()),
            retry: None,
        })
    }

    /// The event assembled so far, if it has data, sharing the input's memory; then starts the
    /// next one.
    pub(crate) fn dispatch_shared(&mut self) -> Option<SseEvent> {
        if !self.has_data {
            self.event_type.clear();
            return None;
        }
        let data = self.take_data(true);
        let event = match self.event_type() {
            Some(i) => self.known_types[i].1.clone(),
            None => self.uncached_type().1,
        };
        let id = if Text::fits(self.last_id.len()) {
            Text::new(&self.last_id)
        } else {
            let id = &self.last_id;
            self.long_id.get_or_insert_with(|| Text::new(id)).clone()
        };
        Some(SseEvent::new(event, data, id))
    }

    /// The data, validated (a copy unless `shared`); clears it.
    fn take_data(&mut self, shared: bool) -> Bytes {
        self.has_data = false;
        if let Some(data) = self.shared_data.take() {
            return match (is_utf8(&data), shared) {
                (true, true) => data,
                (true, false) => Bytes::copy_from_slice(&data),
                (false, _) => Bytes::from(String::from_utf8_lossy(&data).into_owned()),
            };
        }
        let data = if self.data.is_empty() {
            Bytes::new()
        } else if is_utf8(&self.data) {
            Bytes::copy_from_slice(&self.data)
        } else {
            Bytes::from(String::from_utf8_lossy(&self.data).into_owned())
        };
        self.data.clear();
        data
    }

    /// The index of the event type among the known ones, remembering it if it is new and short
    /// (`None`: see [`Self::uncached_type`]); an empty type is `message`.
    fn event_type(&mut self) -> Option<usize> {
        if self.event_type.is_empty() {
            self.event_type.extend_from_slice(b"message");
        }
        let raw = &self.event_type[..];
        if let Some(i) = self.known_types.iter().position(|t| t.0.as_bytes() == raw) {
            self.event_type.clear();
            return Some(i);
        }
        if raw.len() > MAX_KNOWN_TYPE_LEN {
            return None;
        }
        if self.known_types.len() == MAX_KNOWN_TYPES {
            self.known_types.remove(0);
        }
        let known = self.uncached_type();
        self.known_types.push(known);
        Some(self.known_types.len() - 1)
    }

    /// The event type buffer as text, decoded; clears it.
    fn uncached_type(&mut self) -> (String, Text) {
        let mut text = String::with_capacity(self.event_type.len());
        push_lossy(&mut text, &self.event_type);
        self.event_type.clear();
        let shared = Text::new(&text);
        (text, shared)
    }

    /// Discards the event being assembled (the stream ended before its blank line).
    pub(crate) fn reset_event(&mut self) {
        self.data.clear();
        self.shared_data = None;
        self.has_data = false;
        self.event_type.clear();
    }

    /// Drops the pending event and its memory (after an error).
    pub(crate) fn release(&mut self) {
        self.reset_event();
        self.data = Vec::new();
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
                it.handle_line(line, None),
                Ok(Step::Continue | Step::Dispatch)
            ));
        }
        let e = it.dispatch().expect("an event");
        assert_eq!(e.data, &b"ab\n\ncd"[..]);
        assert_eq!(e.event.as_deref(), Some("t\u{FFFD}"));
        assert_eq!(e.id.as_deref(), Some("7"));
        assert_eq!(
            it.handle_line(b"data:123456789", None),
            Err(Error::EventTooLarge)
        );
        assert_eq!(it.dispatch(), None);
    }
}
