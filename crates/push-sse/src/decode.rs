//! The incremental decoder: lines in, [`Item`]s out, exactly as the WHATWG event stream
//! interpretation says.
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
//! | `retry` | if the value is ASCII digits only: [`Item::Retry`] at once               |
//! | other   | ignored                                                                 |

use bytes::Bytes;
use push_core::Event;

use crate::line::{LineBuffer, TooLong};
use crate::{Config, Error};

/// What the decoder yields.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A dispatched event.
    ///
    /// `event` is the type (`Some("message")` when the stream gave none or an empty one); `data`
    /// is UTF-8 (invalid input replaced with U+FFFD) with lines joined by LF; `id` is the last
    /// event id at dispatch — it persists across events, so it is always `Some`, `""` until a
    /// stream sets one; `retry` is always `None` (see [`Item::Retry`]).
    Event(Event),
    /// A valid `retry` field: the reconnection time in milliseconds, reported when the line is
    /// read, whether or not an event follows.
    Retry(u64),
}

/// An incremental, sans-IO `text/event-stream` decoder.
///
/// Feed it chunks as they arrive with [`feed`](Self::feed), drain it with
/// [`poll_item`](Self::poll_item) until `Ok(None)`, and call [`finish`](Self::finish) at the end
/// of the stream. Chunk boundaries never change what it yields.
///
/// Memory: the decoder holds the bytes fed since the last drain plus at most one partial line
/// ([`Config::max_line_len`]) and one event's data ([`Config::max_event_len`]); call
/// [`poll_item`](Self::poll_item) until `Ok(None)` before each [`feed`](Self::feed) to keep it
/// bounded.
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
            lines: LineBuffer::new(config.line_limit()),
            state: Interpreter::new(config.event_limit()),
            failed: None,
            finished: false,
        }
    }

    /// Adds a chunk of the stream.
    ///
    /// Ignored after [`finish`](Self::finish) or after an error.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed.is_none() && !self.finished {
            self.lines.feed(chunk);
        }
    }

    /// Marks the end of the stream.
    ///
    /// Items from complete lines still come out of [`poll_item`](Self::poll_item); then the
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
    pub fn poll_item(&mut self) -> Result<Option<Item>, Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        loop {
            let state = &mut self.state;
            match self.lines.next_line(|line| state.handle_line(line)) {
                Ok(Some(Ok(Some(item)))) => return Ok(Some(item)),
                Ok(Some(Ok(None))) => {}
                Ok(None) => {
                    if self.finished {
                        self.lines.release();
                        self.state.reset_event();
                    }
                    return Ok(None);
                }
                Ok(Some(Err(e))) => return Err(self.fail(e)),
                Err(TooLong) => return Err(self.fail(Error::LineTooLong)),
            }
        }
    }

    /// Bytes fed but not consumed yet (unparsed lines and the current partial line).
    pub fn buffered_len(&self) -> usize {
        self.lines.buffered_len()
    }

    /// Bytes of memory the decoder's buffers hold (input and pending event), for monitoring.
    pub fn buffer_capacity(&self) -> usize {
        self.lines.capacity() + self.state.data.capacity()
    }

    /// The last event id seen so far (what a client sends as `Last-Event-ID` on reconnect).
    pub fn last_event_id(&self) -> &str {
        &self.state.last_id
    }

    /// Starts with this last event id, as a reconnecting client does: the id belongs to the
    /// event source, not to one connection, so events of the new stream that set no id carry it.
    #[must_use]
    pub fn with_last_event_id(mut self, id: impl Into<String>) -> Self {
        self.state.last_id = id.into();
        self
    }

    fn fail(&mut self, e: Error) -> Error {
        self.failed = Some(e);
        self.lines.release();
        self.state.data = Vec::new();
        e
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

/// The event being assembled and the state that outlives events.
#[derive(Debug)]
struct Interpreter {
    /// Joined `data` values, each followed by LF (raw bytes: UTF-8 is decoded at dispatch, which
    /// gives the same result as decoding each line, since LF is ASCII).
    data: Vec<u8>,
    /// The event type buffer (raw bytes).
    event_type: Vec<u8>,
    /// The last event id buffer.
    last_id: String,
    max_event: usize,
}

impl Interpreter {
    fn new(max_event: usize) -> Self {
        Self {
            data: Vec::new(),
            event_type: Vec::new(),
            last_id: String::new(),
            max_event,
        }
    }

    fn handle_line(&mut self, line: &[u8]) -> Result<Option<Item>, Error> {
        // Every field this decoder acts on has a name of at most 5 bytes, so the colon is looked
        // for in the first 6 bytes only: a longer name is an unknown field either way.
        let head = &line[..line.len().min(MAX_NAME + 1)];
        let (name, value) = match head.iter().position(|&b| b == b':') {
            None if line.is_empty() => return Ok(self.dispatch()),
            Some(0) => return Ok(None),
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None if line.len() <= MAX_NAME => (line, &b""[..]),
            None => return Ok(None),
        };
        match name {
            b"data" => {
                // The data buffer holds a trailing LF that dispatch removes; the limit is on the
                // data as dispatched.
                if self.data.len() + value.len() > self.max_event {
                    return Err(Error::EventTooLarge);
                }
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => {
                self.event_type.clear();
                self.event_type.extend_from_slice(value);
            }
            b"id" if !value.contains(&0) => {
                // Reuses the buffer: most streams send an id with every event.
                self.last_id.clear();
                push_lossy(&mut self.last_id, value);
            }
            b"retry" => return Ok(parse_retry(value).map(Item::Retry)),
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<Item> {
        if self.data.is_empty() {
            self.event_type.clear();
            return None;
        }
        self.data.pop();
        let data = if core::str::from_utf8(&self.data).is_ok() {
            Bytes::copy_from_slice(&self.data)
        } else {
            Bytes::from(String::from_utf8_lossy(&self.data).into_owned())
        };
        let event = if self.event_type.is_empty() {
            "message".to_owned()
        } else {
            let mut s = String::with_capacity(self.event_type.len());
            push_lossy(&mut s, &self.event_type);
            s
        };
        self.reset_event();
        Some(Item::Event(Event {
            event: Some(event),
            data,
            id: Some(self.last_id.clone()),
            retry: None,
        }))
    }

    fn reset_event(&mut self) {
        self.data.clear();
        self.event_type.clear();
    }
}

/// The longest field name the decoder acts on (`event`, `retry`).
const MAX_NAME: usize = 5;

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

    fn decode(input: &[u8]) -> Vec<Item> {
        let mut d = Decoder::new();
        d.feed(input);
        d.finish();
        let mut out = Vec::new();
        while let Some(item) = d.poll_item().unwrap() {
            out.push(item);
        }
        out
    }

    fn event(kind: &str, data: &str, id: &str) -> Item {
        Item::Event(Event {
            event: Some(kind.to_owned()),
            data: Bytes::from(data.to_owned()),
            id: Some(id.to_owned()),
            retry: None,
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
        assert_eq!(parse_retry(b"3000"), Some(3000));
        assert_eq!(parse_retry(b""), None);
        assert_eq!(parse_retry(b"+5"), None);
        assert_eq!(parse_retry(b" 5"), None);
        assert_eq!(parse_retry(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_retry(b"18446744073709551616"), None);
        assert_eq!(decode(b"retry: 3000\n\n"), vec![Item::Retry(3000)]);
    }

    #[test]
    fn unfinished_event_is_discarded_at_end() {
        let mut d = Decoder::new();
        d.feed(b"data: a\n\ndata: b\n");
        d.finish();
        assert_eq!(d.poll_item(), Ok(Some(event("message", "a", ""))));
        assert_eq!(d.poll_item(), Ok(None));
        assert_eq!(d.buffered_len(), 0);
        d.feed(b"\n");
        assert_eq!(d.poll_item(), Ok(None));
    }

    #[test]
    fn errors_are_sticky() {
        let mut d = Decoder::with_config(Config::new().max_event_len(3));
        d.feed(b"data: abcd\n");
        assert_eq!(d.poll_item(), Err(Error::EventTooLarge));
        d.feed(b"data: a\n\n");
        assert_eq!(d.poll_item(), Err(Error::EventTooLarge));
        assert_eq!(d.buffer_capacity(), 0);
    }
}
