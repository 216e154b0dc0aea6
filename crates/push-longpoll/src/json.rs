//! The JSON body, written by hand: one cached object per event, one envelope per answer.
//!
//! ```text
//! body  = {"events":[EVENT, ...],"next":"CURSOR","gap":true|false}
//! EVENT = {"id":"CURSOR","event":"TYPE","data":"DATA"}
//! ```
//!
//! `TYPE` is the event type, `"message"` when the publisher gave none (as in SSE). `DATA` is the
//! payload as a JSON string: UTF-8 is kept, invalid UTF-8 is replaced by U+FFFD, and `"`, `\` and
//! the control characters are escaped.

use bytes::Bytes;
use push_core::MAX_CURSOR_LEN;
use push_core::{Cursor, Published};
use push_http::json::push_string;

/// The key of this crate's event objects in [`Published::encoded`]'s cache.
struct JsonEncoding;

/// The JSON object of one event, encoded once per event and cached in the [`Published`] event,
/// shared by every poll that answers with it.
///
/// It is cached under a key private to this crate: `push-ws` caches its own, different JSON
/// message under its own key, and one broker may serve both transports.
///
/// ```
/// use push_core::{Cursor, Event, Published, Topic};
///
/// let p = Published::new(
///     Topic::new("t").unwrap(),
///     Cursor::new(1, 2),
///     Event::new("say \"hi\"\n").with_event("greet"),
/// );
/// assert_eq!(
///     push_longpoll::event_json(&p),
///     r#"{"id":"1-2","event":"greet","data":"say \"hi\"\n"}"#
/// );
/// ```
pub fn event_json(published: &Published) -> Bytes {
    published.encoded::<JsonEncoding>(encode_event)
}

fn encode_event(p: &Published) -> Bytes {
    let event = p.event();
    let data = String::from_utf8_lossy(&event.data);
    let kind = event.event.as_deref().unwrap_or("message");
    let mut out = Vec::with_capacity(40 + kind.len() + data.len() + data.len() / 8);
    out.extend_from_slice(b"{\"id\":\"");
    push_cursor(&mut out, p.cursor());
    out.extend_from_slice(b"\",\"event\":");
    push_string(&mut out, kind);
    out.extend_from_slice(b",\"data\":");
    push_string(&mut out, &data);
    out.push(b'}');
    Bytes::from(out)
}

/// Appends a cursor's text form (it needs no escaping: only `[0-9a-f-]`).
pub(crate) fn push_cursor(out: &mut Vec<u8>, cursor: Cursor) {
    out.extend_from_slice(cursor.text().as_bytes());
}

/// The entity tag for `cursor`: its text in double quotes, on the stack.
pub(crate) fn quoted(cursor: Cursor) -> QuotedCursor {
    let text = cursor.text();
    let len = text.as_bytes().len();
    let mut buf = [b'"'; MAX_CURSOR_LEN + 2];
    buf[1..=len].copy_from_slice(text.as_bytes());
    QuotedCursor { buf, len: len + 2 }
}

/// `"CURSOR"`, an owner for `Bytes::from_owner`.
pub(crate) struct QuotedCursor {
    buf: [u8; MAX_CURSOR_LEN + 2],
    len: usize,
}

impl AsRef<[u8]> for QuotedCursor {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The answer body under construction: the (cached, shared) encoded events are collected as
/// they arrive and written once, into a buffer of the exact size, when the answer is decided.
#[derive(Debug, Default)]
pub(crate) struct Body {
    /// The first event: most answers carry one, and it needs no allocation here.
    first: Option<Bytes>,
    rest: Vec<Bytes>,
}

const OPEN: &[u8] = b"{\"events\":[";
const NEXT: &[u8] = b"],\"next\":\"";
const GAP_TRUE: &[u8] = b"\",\"gap\":true}";
const GAP_FALSE: &[u8] = b"\",\"gap\":false}";

impl Body {
    /// Appends one encoded event.
    pub(crate) fn push_event(&mut self, event: Bytes) {
        if self.first.is_none() {
            self.first = Some(event);
        } else {
            self.rest.push(event);
        }
    }

    /// Closes the envelope.
    pub(crate) fn finish(self, next: Cursor, gap: bool) -> Bytes {
        let next = next.text();
        let tail = if gap { GAP_TRUE } else { GAP_FALSE };
        let events = self.first.iter().chain(&self.rest);
        let count = usize::from(self.first.is_some()) + self.rest.len();
        let size = OPEN.len()
            + events.clone().map(Bytes::len).sum::<usize>()
            + count.saturating_sub(1)
            + NEXT.len()
            + next.as_bytes().len()
            + tail.len();
        // Exactly `size`: a full `Vec` becomes `Bytes` without another allocation.
        let mut buf = Vec::with_capacity(size);
        buf.extend_from_slice(OPEN);
        for (i, event) in events.enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(event);
        }
        buf.extend_from_slice(NEXT);
        buf.extend_from_slice(next.as_bytes());
        buf.extend_from_slice(tail);
        debug_assert_eq!(buf.len(), size);
        Bytes::from(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use push_core::{Event, Topic};

    fn published(data: &[u8], kind: Option<&str>) -> Published {
        let mut e = Event::new(Bytes::copy_from_slice(data));
        e.event = kind.map(str::to_owned);
        Published::new(Topic::new("t").unwrap(), Cursor::new(0xab, 7), e)
    }

    #[test]
    fn every_string_round_trips_through_serde_json() {
        let mut all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        all.push_str("é😀\u{2028}\u{fffd}");
        for s in [all.as_str(), "", "plain", "\"\\", "\u{7f}\u{1f}"] {
            let p = published(s.as_bytes(), Some(s));
            let v: serde_json::Value = serde_json::from_slice(&event_json(&p)).unwrap();
            assert_eq!(v["data"], s);
            assert_eq!(v["event"], s);
            assert_eq!(v["id"], "ab-7");
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_and_type_defaults_to_message() {
        let p = published(b"a\xffb", None);
        let v: serde_json::Value = serde_json::from_slice(&event_json(&p)).unwrap();
        assert_eq!(v["data"], "a\u{fffd}b");
        assert_eq!(v["event"], "message");
    }

    #[test]
    fn another_transports_json_does_not_leak_in() {
        let p = published(b"x", None);
        struct OtherTransport;
        let _ = p.encoded::<OtherTransport>(|_| Bytes::from_static(b"{\"type\":\"event\"}"));
        assert!(event_json(&p).starts_with(b"{\"id\":"));
    }

    #[test]
    fn envelope() {
        let p = published(b"x", None);
        let mut body = Body::default();
        body.push_event(event_json(&p));
        body.push_event(event_json(&p));
        let v: serde_json::Value =
            serde_json::from_slice(&body.finish(Cursor::new(1, 2), true)).unwrap();
        assert_eq!(v["events"].as_array().unwrap().len(), 2);
        assert_eq!(v["next"], "1-2");
        assert_eq!(v["gap"], true);
        let empty = Body::default().finish(Cursor::new(0, 0), false);
        assert_eq!(empty, r#"{"events":[],"next":"0-0","gap":false}"#);
    }

    #[test]
    fn cursor_text_is_display() {
        for (e, o) in [
            (0, 0),
            (1, 0xf),
            (0x10, 0xabc),
            (u64::MAX, u64::MAX),
            (0x5eed, 42),
        ] {
            let c = Cursor::new(e, o);
            assert_eq!(c.text().as_bytes(), c.to_string().as_bytes());
        }
    }
}
