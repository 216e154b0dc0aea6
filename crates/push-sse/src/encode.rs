//! The encoder: events, comments and retry frames to `text/event-stream` bytes.
//!
//! Every value is written after `name: ` (with the space), so a value that itself starts with a
//! space survives the decoder's stripping of one. Data is split at CRLF, CR and LF into `data`
//! lines; the decoder joins them with LF, so line breaks come back normalised to LF. Validation
//! happens before anything is written: on error the output buffer is unchanged.

use core::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};
use memchr::{memchr2, memchr3};
use push_core::{Event, Published};

/// The key of this crate's `text/event-stream` frames in [`Published::encoded`]'s cache.
struct SseEncoding;

/// The key of the frames whose `id` is the event's own id ([`encode_published_with_event_id`]).
struct SseEventIdEncoding;

use crate::Error;

/// Appends `event` as one `text/event-stream` frame to `dst`.
///
/// Writes `event: <type>` (when set), `id: <id>` (when set), `retry: <ms>` (when set), one
/// `data:` line per line of the data (an empty data is one empty `data:` line, so the event is
/// still dispatched) and the blank line that ends the frame.
///
/// # Errors
/// - [`Error::InvalidEventType`] / [`Error::InvalidId`]: the type or id contains CR, LF or NUL
///   (a line break would inject a field; the decoder ignores an id with NUL).
/// - [`Error::DataNotUtf8`]: the data is not UTF-8, which `text/event-stream` cannot carry
///   (a decoder would replace the invalid bytes with U+FFFD).
///
/// ```
/// use bytes::BytesMut;
/// use push_core::Event;
///
/// let mut out = BytesMut::new();
/// push_sse::encode_event(&Event::new("a\r\nb").with_event("tick").with_id("7"), &mut out).unwrap();
/// assert_eq!(&out[..], b"event: tick\nid: 7\ndata: a\ndata: b\n\n");
/// assert!(push_sse::encode_event(&Event::new("x").with_id("1\n2"), &mut out).is_err());
/// ```
pub fn encode_event(event: &Event, dst: &mut BytesMut) -> Result<(), Error> {
    encode_parts(
        event.event.as_deref(),
        event.id.as_deref(),
        event.retry,
        &event.data,
        dst,
    )
}

/// Checks that `event` can be sent over SSE, with the reason when it cannot: the test a publish
/// path runs before accepting an event (answering 400 with the error's text), so that an event
/// SSE cannot carry is refused when it is published rather than delivered later as an
/// `unencodable` gap.
///
/// It refuses exactly what [`encode_published`] refuses, the form every SSE subscriber gets: the
/// SSE `id` is then the broker's cursor, so the publisher's [`Event::id`] is never sent and any
/// value of it is accepted (unlike [`encode_event`], which sends it).
///
/// # Errors
/// [`Error::InvalidEventType`]: CR, LF or NUL in the type; [`Error::DataNotUtf8`]: data that is
/// not UTF-8.
///
/// ```
/// use push_core::Event;
///
/// assert!(push_sse::check_encodable(&Event::new("fine").with_event("tick")).is_ok());
/// // The publisher's id is not what SSE sends: it may hold anything.
/// assert!(push_sse::check_encodable(&Event::new("fine").with_id("a\nb")).is_ok());
/// let refused = push_sse::check_encodable(&Event::new("x").with_event("a\nb")).unwrap_err();
/// assert_eq!(refused, push_sse::Error::InvalidEventType);
/// ```
pub fn check_encodable(event: &Event) -> Result<(), Error> {
    // The cursor, sent as the id, is always valid: only the type and data can fail.
    validate(event.event.as_deref(), None, &event.data)
}

/// Encodes a broker's event for SSE, with its **cursor** as the SSE `id`, and caches the bytes in
/// the [`Published`] (so fan-out to many subscribers encodes once).
///
/// The publisher-supplied [`Event::id`] is not sent: the cursor is what a client must send back
/// as `Last-Event-ID` to resume.
///
/// # Errors
/// As [`encode_event`]: an event type with CR, LF or NUL, or data that is not UTF-8. Such an
/// event cannot be sent over SSE; the transport decides whether to skip it or end the stream.
///
/// ```
/// use push_core::{Cursor, Event, Published, Topic};
///
/// let p = Published::new(Topic::new("t").unwrap(), Cursor::new(1, 2), Event::new("hi").with_id("pub-9"));
/// let bytes = push_sse::encode_published(&p).unwrap();
/// assert_eq!(&bytes[..], b"id: 1-2\ndata: hi\n\n");
/// ```
pub fn encode_published(published: &Published) -> Result<Bytes, Error> {
    let bytes = published.encoded::<SseEncoding>(|p| {
        let mut dst = BytesMut::new();
        match encode_published_into(p, &mut dst) {
            Ok(()) => dst.freeze(),
            // A valid frame is never empty, so empty marks an event that cannot be encoded.
            Err(_) => Bytes::new(),
        }
    });
    if bytes.is_empty() {
        // Rare path: recompute which rule the event breaks.
        let mut scratch = BytesMut::new();
        encode_published_into(published, &mut scratch)?;
        return Ok(scratch.freeze());
    }
    Ok(bytes)
}

fn encode_published_into(p: &Published, dst: &mut BytesMut) -> Result<(), Error> {
    let event = p.event();
    let id = p.cursor().text();
    encode_parts(
        event.event.as_deref(),
        Some(id.as_str()),
        event.retry,
        &event.data,
        dst,
    )
}

/// Encodes a broker's event for SSE with the event's **own id** ([`Event::id`], such as a
/// Mercure update id) as the SSE `id`, and caches the bytes in the [`Published`] beside (not
/// instead of) [`encode_published`]'s.
///
/// The id is the cursor when the event has none, or has one SSE cannot carry (CR, LF or NUL:
/// the frame is never refused for its id). A server that sends these ids must map them back to
/// positions when a client resumes with one (a broker's id index), since `Last-Event-ID` then
/// carries the event's id, not its cursor.
///
/// # Errors
/// As [`encode_published`]: an event type with CR, LF or NUL, or data that is not UTF-8.
///
/// ```
/// use push_core::{Cursor, Event, Published, Topic};
///
/// let t = Topic::new("t").unwrap();
/// let own = Published::new(t.clone(), Cursor::new(1, 2), Event::new("hi").with_id("urn:uuid:9"));
/// let bytes = push_sse::encode_published_with_event_id(&own).unwrap();
/// assert_eq!(&bytes[..], b"id: urn:uuid:9\ndata: hi\n\n");
/// let none = Published::new(t, Cursor::new(1, 3), Event::new("hi"));
/// let bytes = push_sse::encode_published_with_event_id(&none).unwrap();
/// assert_eq!(&bytes[..], b"id: 1-3\ndata: hi\n\n");
/// ```
pub fn encode_published_with_event_id(published: &Published) -> Result<Bytes, Error> {
    let bytes = published.encoded::<SseEventIdEncoding>(|p| {
        let mut dst = BytesMut::new();
        match encode_with_event_id_into(p, &mut dst) {
            Ok(()) => dst.freeze(),
            // As in `encode_published`: empty marks an event that cannot be encoded.
            Err(_) => Bytes::new(),
        }
    });
    if bytes.is_empty() {
        let mut scratch = BytesMut::new();
        encode_with_event_id_into(published, &mut scratch)?;
        return Ok(scratch.freeze());
    }
    Ok(bytes)
}

fn encode_with_event_id_into(p: &Published, dst: &mut BytesMut) -> Result<(), Error> {
    let event = p.event();
    match event.id.as_deref() {
        Some(id) if !id.is_empty() && !has_line_break_or_nul(id) => encode_parts(
            event.event.as_deref(),
            Some(id),
            event.retry,
            &event.data,
            dst,
        ),
        _ => encode_published_into(p, dst),
    }
}

/// Appends a comment frame, `: <text>` and a blank line, to `dst`: a keep-alive that every
/// client ignores (and that dispatches nothing).
///
/// # Errors
/// [`Error::InvalidComment`] if `text` contains CR or LF.
///
/// ```
/// let mut out = bytes::BytesMut::new();
/// push_sse::encode_comment("keep-alive", &mut out).unwrap();
/// assert_eq!(&out[..], b": keep-alive\n\n");
/// ```
pub fn encode_comment(text: &str, dst: &mut BytesMut) -> Result<(), Error> {
    if memchr2(b'\r', b'\n', text.as_bytes()).is_some() {
        return Err(Error::InvalidComment);
    }
    dst.reserve(text.len() + 4);
    if text.is_empty() {
        dst.put_slice(b":\n\n");
    } else {
        dst.put_slice(b": ");
        dst.put_slice(text.as_bytes());
        dst.put_slice(b"\n\n");
    }
    Ok(())
}

/// Appends a frame that only sets the client's reconnection time: `retry: <ms>` and a blank line.
///
/// ```
/// let mut out = bytes::BytesMut::new();
/// push_sse::encode_retry(3000, &mut out);
/// assert_eq!(&out[..], b"retry: 3000\n\n");
/// ```
pub fn encode_retry(retry_ms: u64, dst: &mut BytesMut) {
    dst.reserve(28);
    put_retry(retry_ms, dst);
    dst.put_u8(b'\n');
}

/// The encoder's rules, in the order it applies them: what [`encode_parts`] refuses.
#[inline]
fn validate(event_type: Option<&str>, id: Option<&str>, data: &[u8]) -> Result<(), Error> {
    if event_type.is_some_and(has_line_break_or_nul) {
        return Err(Error::InvalidEventType);
    }
    if id.is_some_and(has_line_break_or_nul) {
        return Err(Error::InvalidId);
    }
    if crate::utf8::text(data).is_none() {
        return Err(Error::DataNotUtf8);
    }
    Ok(())
}

fn encode_parts(
    event_type: Option<&str>,
    id: Option<&str>,
    retry: Option<u64>,
    data: &[u8],
    dst: &mut BytesMut,
) -> Result<(), Error> {
    validate(event_type, id, data)?;
    let type_len = event_type.map_or(0, |t| t.len() + 8);
    let id_len = id.map_or(0, |i| i.len() + 5);
    if retry.is_none() && memchr2(b'\r', b'\n', data).is_none() {
        // The usual frame: every length known, written in one piece (no per-part capacity
        // checks, as `put_slice` makes).
        let data_len = if data.is_empty() { 6 } else { data.len() + 7 };
        let start = dst.len();
        dst.resize(start + type_len + id_len + data_len + 1, 0);
        let mut out = &mut dst[start..];
        if let Some(t) = event_type {
            put(&mut out, b"event: ");
            put(&mut out, t.as_bytes());
            put(&mut out, b"\n");
        }
        if let Some(i) = id {
            put(&mut out, b"id: ");
            put(&mut out, i.as_bytes());
            put(&mut out, b"\n");
        }
        if data.is_empty() {
            put(&mut out, b"data:\n\n");
        } else {
            put(&mut out, b"data: ");
            put(&mut out, data);
            put(&mut out, b"\n\n");
        }
        return Ok(());
    }
    // Exact for single-line data; multi-line data may grow the buffer once more.
    dst.reserve(type_len + id_len + if retry.is_some() { 28 } else { 0 } + data.len() + 8);
    if let Some(t) = event_type {
        dst.put_slice(b"event: ");
        dst.put_slice(t.as_bytes());
        dst.put_u8(b'\n');
    }
    if let Some(i) = id {
        dst.put_slice(b"id: ");
        dst.put_slice(i.as_bytes());
        dst.put_u8(b'\n');
    }
    if let Some(ms) = retry {
        put_retry(ms, dst);
    }
    put_data(data, dst);
    dst.put_u8(b'\n');
    Ok(())
}

/// Writes `bytes` at the start of `out` and moves `out` past them.
#[inline]
fn put(out: &mut &mut [u8], bytes: &[u8]) {
    let (head, rest) = core::mem::take(out).split_at_mut(bytes.len());
    head.copy_from_slice(bytes);
    *out = rest;
}

/// Whether `s` contains CR, LF or NUL. Types and ids are short: a word at a time (a byte below
/// 0x0E flags the word, then its bytes are checked) beats `memchr3`'s set-up there, so that is
/// used only for long values.
fn has_line_break_or_nul(s: &str) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    let bytes = s.as_bytes();
    if bytes.len() >= 64 {
        return memchr3(b'\r', b'\n', 0, bytes).is_some();
    }
    let exact = |part: &[u8]| part.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0));
    let (words, rest) = bytes.as_chunks::<8>();
    words.iter().any(|w| {
        let x = u64::from_le_bytes(*w);
        x.wrapping_sub(ONES * 0x0E) & !x & (ONES << 7) != 0 && exact(w)
    }) || exact(rest)
}

/// One `data:` line per line of `data`, split at CRLF, CR and LF.
fn put_data(mut data: &[u8], dst: &mut BytesMut) {
    loop {
        let (line, rest) = match memchr2(b'\r', b'\n', data) {
            Some(i) => {
                let skip = if data[i] == b'\r' && data.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                (&data[..i], Some(&data[i + skip..]))
            }
            None => (data, None),
        };
        if line.is_empty() {
            dst.put_slice(b"data:\n");
        } else {
            dst.put_slice(b"data: ");
            dst.put_slice(line);
            dst.put_u8(b'\n');
        }
        match rest {
            Some(rest) => data = rest,
            None => return,
        }
    }
}

fn put_retry(ms: u64, dst: &mut BytesMut) {
    // Writing to a `BytesMut` cannot fail.
    let _ = writeln!(dst, "retry: {ms}");
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
