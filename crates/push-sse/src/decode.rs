//! The incremental decoder: bytes in, [`Decoded`] items out. Lines are split by [`crate::line`] and
//! interpreted by [`crate::interpret`].

use core::ops::ControlFlow;

use bytes::Bytes;
use push_core::Event;

use crate::interpret::{Interpreter, Step};
use crate::line::LineBuffer;
use crate::{Config, Error, EventRef, SharedEvent};

/// What the decoder yields: an event, in one of three forms, or a `retry`.
///
/// The form of the event is the method's: [`Decoder::poll_owned`] gives a
/// [`push_core::Event`] (`Decoded<Event>`), [`Decoder::poll_shared`] a [`SharedEvent`] that
/// shares the input chunk, [`Decoder::poll_ref`] an [`EventRef`] borrowed from the decoder. All
/// three give the same values, and the three methods may be mixed.
///
/// (What a reconnecting client yields is another thing, `client::Item`.)
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decoded<E> {
    /// A dispatched event.
    ///
    /// Its type is `message` when the stream gave none or an empty one; its data is UTF-8
    /// (invalid input replaced with U+FFFD) with lines joined by LF; its id is the last event id
    /// at dispatch: it persists across events, `""` until a stream sets one. As an [`Event`],
    /// `event` and `id` are always `Some` and `retry` is `None` (see [`Decoded::Retry`]).
    Event(E),
    /// A valid `retry` field: the reconnection time in milliseconds, reported when the line is
    /// read, whether or not an event follows.
    Retry(u64),
}

impl<E> Decoded<E> {
    /// The same item with its event converted by `f`.
    pub fn map<F>(self, f: impl FnOnce(E) -> F) -> Decoded<F> {
        match self {
            Self::Event(e) => Decoded::Event(f(e)),
            Self::Retry(ms) => Decoded::Retry(ms),
        }
    }
}

impl Decoded<SharedEvent> {
    /// The same item as [`Decoder::poll_owned`] gives (the data stays shared).
    pub fn into_owned(self) -> Decoded<Event> {
        self.map(SharedEvent::into_event)
    }
}

impl Decoded<EventRef<'_>> {
    /// The same item as [`Decoder::poll_owned`] gives (a copy).
    pub fn to_owned(&self) -> Decoded<Event> {
        self.map(|e| e.to_event())
    }
}

/// An incremental, sans-IO `text/event-stream` decoder.
///
/// Feed it chunks as they arrive with [`feed`](Self::feed) (or, for [`Bytes`] chunks, without a
/// copy, [`feed_bytes`](Self::feed_bytes)), drain it with
/// [`poll_owned`](Self::poll_owned) until `Ok(None)`, and call [`finish`](Self::finish) at the end
/// of the stream. Chunk boundaries never change what it yields.
///
/// Memory: the decoder holds the bytes fed since the last drain plus one event's data
/// ([`Config::max_event_len`], which bounds a partial `data` line too) or one partial `event`,
/// `id` or `retry` line ([`Config::max_line_len`]); a comment or an ignored field that spans
/// chunks is dropped as it arrives, whatever its length. Call [`poll_owned`](Self::poll_owned)
/// until `Ok(None)` before each [`feed`](Self::feed) to keep it bounded. Every value [`poll_owned`](Self::poll_owned) dispatches is its own allocation: keeping
/// an event keeps no input alive (unlike [`poll_shared`](Self::poll_shared)'s zero-copy events).
#[derive(Debug)]
pub struct Decoder {
    lines: LineBuffer,
    state: Interpreter,
    failed: Option<Error>,
    finished: bool,
}

impl Decoder {
    /// A decoder with the default [`Config`].
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    /// A decoder with these limits.
    pub fn with_config(config: Config) -> Self {
        Self {
            lines: LineBuffer::new(config.max_line_len()),
            state: Interpreter::new(config.max_event_len()),
            failed: None,
            finished: false,
        }
    }

    /// Adds a chunk of the stream.
    ///
    /// Ignored after [`finish`](Self::finish) or after an error.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed.is_none() && !self.finished {
            self.state.pin(self.lines.chunk());
            self.lines.feed(chunk);
        }
    }

    /// Adds a chunk of the stream without copying it, when it can: what an HTTP body yields.
    ///
    /// The decoder reads the chunk in place and keeps it (a reference count, not a copy) until
    /// [`poll_owned`](Self::poll_owned) has consumed it; only a line that continues into the next
    /// chunk is copied. If bytes of an earlier chunk are still buffered, it is copied like
    /// [`feed`](Self::feed). The items are the same either way, at any chunking.
    ///
    /// Ignored after [`finish`](Self::finish) or after an error.
    pub fn feed_bytes(&mut self, chunk: Bytes) {
        if self.failed.is_none() && !self.finished {
            // The chunk being read may be dropped: data kept as offsets into it is copied.
            self.state.pin(self.lines.chunk());
            self.lines.feed_bytes(chunk);
        }
    }

    /// Marks the end of the stream.
    ///
    /// Items from complete lines still come out of [`poll_owned`](Self::poll_owned); then the
    /// partial line and the undispatched event (no blank line yet) are discarded, as the
    /// specification says.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// The next item, if the buffered bytes complete one.
    ///
    /// - `Ok(Some(item))`: call again, more may be buffered.
    /// - `Ok(None)`: everything buffered is consumed; [`feed`](Self::feed) more before polling
    ///   again (after [`finish`](Self::finish): the stream is over).
    /// - `Err(e)`: a limit was exceeded ([`Error::LineTooLong`], [`Error::EventTooLarge`]). The
    ///   decoder is then failed for good: it drops its buffers and every later call returns the
    ///   same error.
    #[must_use = "the item or error is lost if not used"]
    pub fn poll_owned(&mut self) -> Result<Option<Decoded<Event>>, Error> {
        Ok(match self.advance()? {
            None => None,
            Some(Found::Retry(ms)) => Some(Decoded::Retry(ms)),
            Some(Found::Event) => Some(Decoded::Event(self.state.owned(self.lines.chunk()))),
        })
    }

    /// The next item, like [`poll_owned`](Self::poll_owned), with the event in its zero-copy form.
    ///
    /// The same items, values and errors as [`poll_owned`](Self::poll_owned) (the two may be
    /// mixed), but the event's data and id are, when their line lies wholly in a chunk given to
    /// [`feed_bytes`](Self::feed_bytes), slices of that chunk: no allocation per event, only
    /// reference counts. See [`SharedEvent`](crate::SharedEvent) for what is copied and for the memory a kept event
    /// holds.
    #[must_use = "the item or error is lost if not used"]
    pub fn poll_shared(&mut self) -> Result<Option<Decoded<SharedEvent>>, Error> {
        Ok(match self.advance()? {
            None => None,
            Some(Found::Retry(ms)) => Some(Decoded::Retry(ms)),
            Some(Found::Event) => Some(Decoded::Event(self.state.shared(self.lines.chunk()))),
        })
    }

    /// The next item, like [`poll_owned`](Self::poll_owned), with the event borrowed from the
    /// decoder: the fastest path, with no allocation, copy or reference count per event.
    ///
    /// The same items, values and errors as [`poll_owned`](Self::poll_owned) (the three may be
    /// mixed). The event's fields are `&str`s into the input chunk and the decoder's buffers,
    /// valid until the next call on the decoder; see [`EventRef`](crate::EventRef).
    #[must_use = "the item or error is lost if not used"]
    pub fn poll_ref(&mut self) -> Result<Option<Decoded<EventRef<'_>>>, Error> {
        Ok(match self.advance()? {
            None => None,
            Some(Found::Retry(ms)) => Some(Decoded::Retry(ms)),
            Some(Found::Event) => Some(Decoded::Event(self.state.view(self.lines.chunk()))),
        })
    }

    /// Reads lines up to the next item; an event is then ready in the interpreter.
    #[inline]
    fn advance(&mut self) -> Result<Option<Found>, Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        loop {
            // Lines lying in the chunk, in a tight loop; then any other line, one at a time.
            let state = &mut self.state;
            let fast = self.lines.scan_in_place(|line, chunk| {
                match state.handle_line(line, chunk, true) {
                    Ok(Step::Continue) => ControlFlow::Continue(()),
                    Ok(Step::Dispatch) if !state.dispatch() => ControlFlow::Continue(()),
                    Ok(Step::Dispatch) => ControlFlow::Break(Ok(Found::Event)),
                    Ok(Step::Retry(ms)) => ControlFlow::Break(Ok(Found::Retry(ms))),
                    Err(e) => ControlFlow::Break(Err(e)),
                }
            });
            match fast {
                Some(Ok(found)) => return Ok(Some(found)),
                Some(Err(e)) => return Err(self.fail(e)),
                None => {}
            }
            let room = self.state.data_room();
            let (line, chunk, in_chunk) = match self.lines.next_line_in(room) {
                Ok(Some(line)) => line,
                Ok(None) => {
                    if self.finished {
                        self.lines.release();
                        self.state.reset_event();
                    }
                    return Ok(None);
                }
                Err(e) => return Err(self.fail(e)),
            };
            match self.state.handle_line(line, chunk, in_chunk) {
                Ok(Step::Continue) => {}
                Ok(Step::Dispatch) => {
                    if self.state.dispatch() {
                        return Ok(Some(Found::Event));
                    }
                }
                Ok(Step::Retry(ms)) => return Ok(Some(Found::Retry(ms))),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Bytes fed but not consumed yet (unparsed lines and the current partial line).
    pub fn buffered_len(&self) -> usize {
        self.lines.buffered_len()
    }

    /// Bytes of memory the decoder's buffers hold (input and pending event), for monitoring.
    pub fn buffer_capacity(&self) -> usize {
        self.lines.capacity() + self.state.capacity()
    }

    /// The event source's last event id: what a client sends as `Last-Event-ID` on reconnect.
    ///
    /// As the specification says, it is set at every blank line (dispatch) to the last event id
    /// buffer, also when the block had no data and so dispatched no event: after `id: 7\n\n`
    /// it is `"7"` although [`poll_owned`](Self::poll_owned) yielded nothing. An `id` field with
    /// no blank line after it yet does not count (an event cut off by the end of the stream is
    /// discarded with its id).
    pub fn last_event_id(&self) -> &str {
        self.state.last_id()
    }

    /// Starts with this last event id, as a reconnecting client does: the id belongs to the
    /// event source, not to one connection, so events of the new stream that set no id carry it.
    #[must_use]
    pub fn with_last_event_id(mut self, id: impl Into<String>) -> Self {
        self.state.set_last_id(id.into());
        self
    }

    fn fail(&mut self, e: Error) -> Error {
        self.failed = Some(e);
        self.lines.release();
        self.state.release();
        e
    }
}

/// What [`Decoder::advance`] found.
enum Found {
    /// An event, ready in the interpreter.
    Event,
    Retry(u64),
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &[u8]) -> Vec<Decoded<Event>> {
        let mut d = Decoder::new();
        d.feed(input);
        d.finish();
        let mut out = Vec::new();
        while let Some(item) = d.poll_owned().unwrap() {
            out.push(item);
        }
        out
    }

    fn event(kind: &str, data: &str, id: &str) -> Decoded<Event> {
        Decoded::Event(Event {
            event: Some(kind.to_owned()),
            data: Bytes::from(data.to_owned()),
            id: Some(id.to_owned()),
            retry: None,
            audience: push_core::Audience::Public,
            replace: None,
        })
    }

    #[test]
    fn fields_and_dispatch() {
        assert_eq!(
            decode(b"event: a\nid: 1\ndata: x\ndata:  y\n\ndata:z\n\n"),
            vec![event("a", "x\n y", "1"), event("message", "z", "1")]
        );
    }

    #[test]
    fn retry_values() {
        assert_eq!(decode(b"retry: 3000\n\n"), vec![Decoded::Retry(3000)]);
        assert_eq!(decode(b"retry: +5\nretry\n\n"), vec![]);
    }

    #[test]
    fn unfinished_event_is_discarded_at_end() {
        let mut d = Decoder::new();
        d.feed(b"data: a\n\ndata: b\n");
        d.finish();
        assert_eq!(d.poll_owned(), Ok(Some(event("message", "a", ""))));
        assert_eq!(d.poll_owned(), Ok(None));
        assert_eq!(d.buffered_len(), 0);
        d.feed(b"\n");
        assert_eq!(d.poll_owned(), Ok(None));
    }

    #[test]
    fn an_id_only_block_dispatches_no_event_but_sets_the_last_event_id() {
        for chunks in [
            &[&b"id: 7\n\nid: 8\n"[..]][..],
            &[b"id: 7\n", b"\n", b"id: 8\n"],
        ] {
            let mut d = Decoder::new();
            for chunk in chunks {
                d.feed(chunk);
                assert_eq!(d.poll_owned(), Ok(None));
            }
            // `id: 8` has no blank line after it yet: not the event source's id.
            assert_eq!(d.last_event_id(), "7");
            d.feed(b"data: x\n\n");
            assert_eq!(d.poll_owned(), Ok(Some(event("message", "x", "8"))));
            assert_eq!(d.last_event_id(), "8");
        }
        // Cut off by the end of the stream: the id goes with the event.
        let mut d = Decoder::new().with_last_event_id("1");
        d.feed(b"id: 2\ndata: lost");
        d.finish();
        assert_eq!(d.poll_owned(), Ok(None));
        assert_eq!(d.last_event_id(), "1");
    }

    #[test]
    fn errors_are_sticky() {
        let mut d = Decoder::with_config(Config::new().with_max_event_len(3));
        d.feed(b"data: abcd\n");
        assert_eq!(d.poll_owned(), Err(Error::EventTooLarge));
        d.feed(b"data: a\n\n");
        assert_eq!(d.poll_owned(), Err(Error::EventTooLarge));
        assert_eq!(d.buffer_capacity(), 0);
    }
}
