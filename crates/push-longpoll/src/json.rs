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
use push_core::{Cursor, Published, WireFormat};

/// The JSON object of one event, encoded once per event and cached in the [`Published`] event,
/// shared by every poll that answers with it.
///
/// It is cached under [`WireFormat::JsonAlt`]: `push-ws` caches its own, different JSON message
/// under [`WireFormat::Json`], and one broker may serve both transports.
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
    published.encoded(WireFormat::JsonAlt, encode_event)
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
    use std::io::Write as _;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{cursor}");
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The answer body under construction: events are appended as they arrive.
#[derive(Debug, Default)]
pub(crate) struct Body {
    buf: Vec<u8>,
}

impl Body {
    /// Appends one encoded event.
    pub(crate) fn push_event(&mut self, event: &[u8]) {
        if self.buf.is_empty() {
            self.buf.reserve(event.len() + 64);
            self.buf.extend_from_slice(b"{\"events\":[");
        } else {
            self.buf.push(b',');
        }
        self.buf.extend_from_slice(event);
    }

    /// Closes the envelope.
    pub(crate) fn finish(mut self, next: Cursor, gap: bool) -> Bytes {
        if self.buf.is_empty() {
            self.buf.extend_from_slice(b"{\"events\":[");
        }
        self.buf.extend_from_slice(b"],\"next\":\"");
        push_cursor(&mut self.buf, next);
        self.buf.extend_from_slice(if gap {
            b"\",\"gap\":true}"
        } else {
            b"\",\"gap\":false}"
        });
        Bytes::from(self.buf)
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
        let _ = p.encoded(WireFormat::Json, |_| {
            Bytes::from_static(b"{\"type\":\"event\"}")
        });
        assert!(event_json(&p).starts_with(b"{\"id\":"));
    }

    #[test]
    fn envelope() {
        let p = published(b"x", None);
        let mut body = Body::default();
        body.push_event(&event_json(&p));
        body.push_event(&event_json(&p));
        let v: serde_json::Value =
            serde_json::from_slice(&body.finish(Cursor::new(1, 2), true)).unwrap();
        assert_eq!(v["events"].as_array().unwrap().len(), 2);
        assert_eq!(v["next"], "1-2");
        assert_eq!(v["gap"], true);
        let empty = Body::default().finish(Cursor::new(0, 0), false);
        assert_eq!(empty, r#"{"events":[],"next":"0-0","gap":false}"#);
    }
}
