//! How one journalled event is laid out in the store: a small versioned binary record.
//!
//! ```text
//! version u8 (1) | published_at_ms u64 | flags u8 (private, type, id, retry, replace)
//! | topic count u16 | (len u32, topic)* | [len u32, type] | [len u32, id] | [retry u64]
//! | [len u32, replace] | len u32, data
//! ```
//!
//! The `replace` flag (the publisher's replacement key, `push_replace`) came later: a record
//! without it reads as before, so a journal written before it still loads. (A hub older than
//! the flag refuses a record that has it as damaged: a downgrade drops those records.)
//!
//! Integers are little-endian. Decoding checks every length against what is left and every
//! topic against [`Topic::new`]: a damaged record is a [`Corrupt`] error naming its offset,
//! never a panic or an allocation larger than the record.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use push_core::{Audience, Event, Topic};

const VERSION: u8 = 1;
const PRIVATE: u8 = 1;
const TYPE: u8 = 1 << 1;
const ID: u8 = 1 << 2;
const RETRY: u8 = 1 << 3;
const REPLACE: u8 = 1 << 4;

/// A record that does not decode: the file was damaged or written by something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt {
    /// The record's offset.
    pub offset: u64,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the record at offset {} is damaged: {}",
            self.offset, self.reason
        )
    }
}

impl std::error::Error for Corrupt {}

/// One decoded record: the event, its topics and when it was published.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) topics: Vec<Topic>,
    pub(crate) event: Event,
    pub(crate) published_at: SystemTime,
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Every field is bounded well below 4 GiB (topics by `MAX_TOPIC_LEN`, bodies by the
    // hub's publish limit); a longer one would not have been accepted for publishing.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&bytes[..len as usize]);
}

/// Encodes an event published on `topics` at `at`, appending to `out`.
pub(crate) fn encode(topics: &[Topic], event: &Event, at: SystemTime, out: &mut Vec<u8>) {
    let ms = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut flags = 0;
    // An audience this store does not know is kept private: the safe side.
    if event.audience != Audience::Public {
        flags |= PRIVATE;
    }
    flags |= if event.event.is_some() { TYPE } else { 0 };
    flags |= if event.id.is_some() { ID } else { 0 };
    flags |= if event.retry.is_some() { RETRY } else { 0 };
    flags |= if event.replace.is_some() { REPLACE } else { 0 };
    out.reserve(16 + event.weight() + topics.iter().map(|t| 4 + t.as_str().len()).sum::<usize>());
    out.push(VERSION);
    out.extend_from_slice(&ms.to_le_bytes());
    out.push(flags);
    // A broker event has at most `MAX_SELECTOR_TOPICS` topics.
    let count = u16::try_from(topics.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&count.to_le_bytes());
    for topic in topics.iter().take(usize::from(count)) {
        put_bytes(out, topic.as_str().as_bytes());
    }
    if let Some(kind) = &event.event {
        put_bytes(out, kind.as_bytes());
    }
    if let Some(id) = &event.id {
        put_bytes(out, id.as_bytes());
    }
    if let Some(retry) = event.retry {
        out.extend_from_slice(&retry.to_le_bytes());
    }
    if let Some(key) = &event.replace {
        put_bytes(out, key.as_bytes());
    }
    put_bytes(out, &event.data);
}

/// Reads a record, checking every length against what is left.
struct Reader<'a> {
    rest: &'a [u8],
    offset: u64,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, reason: &'static str) -> Result<T, Corrupt> {
        Err(Corrupt {
            offset: self.offset,
            reason,
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        if self.rest.len() < n {
            return self.fail("it ends early");
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Corrupt> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn bytes(&mut self) -> Result<&'a [u8], Corrupt> {
        let len = u32::from_le_bytes(self.array()?);
        self.take(usize::try_from(len).unwrap_or(usize::MAX))
    }

    fn text(&mut self) -> Result<String, Corrupt> {
        match std::str::from_utf8(self.bytes()?) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => self.fail("a text field is not UTF-8"),
        }
    }
}

/// Decodes the record stored at `offset`.
pub(crate) fn decode(offset: u64, record: &[u8]) -> Result<Decoded, Corrupt> {
    let mut r = Reader {
        rest: record,
        offset,
    };
    if r.array::<1>()?[0] != VERSION {
        return r.fail("unknown record version");
    }
    let ms = u64::from_le_bytes(r.array()?);
    let [flags] = r.array()?;
    if flags & !(PRIVATE | TYPE | ID | RETRY | REPLACE) != 0 {
        return r.fail("unknown flags");
    }
    let count = u16::from_le_bytes(r.array()?);
    if count == 0 {
        return r.fail("no topic");
    }
    let mut topics = Vec::with_capacity(usize::from(count).min(16));
    for _ in 0..count {
        let text = r.text()?;
        match Topic::new(&text) {
            Ok(topic) => topics.push(topic),
            Err(_) => return r.fail("a topic is not valid"),
        }
    }
    let mut event = Event::default();
    if flags & PRIVATE != 0 {
        event.audience = Audience::Private;
    }
    if flags & TYPE != 0 {
        event.event = Some(r.text()?);
    }
    if flags & ID != 0 {
        event.id = Some(r.text()?);
    }
    if flags & RETRY != 0 {
        event.retry = Some(u64::from_le_bytes(r.array()?));
    }
    if flags & REPLACE != 0 {
        event.replace = Some(r.text()?);
    }
    event.data = Bytes::copy_from_slice(r.bytes()?);
    if !r.rest.is_empty() {
        return r.fail("bytes after its end");
    }
    Ok(Decoded {
        topics,
        event,
        published_at: UNIX_EPOCH + Duration::from_millis(ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<Topic>, Event) {
        let topics = vec![Topic::new("a").unwrap(), Topic::new("b/{x}").unwrap()];
        let event = Event::new("line1\nline2")
            .with_event("update")
            .with_id("urn:uuid:1")
            .with_retry(1500)
            .with_replace("orders/1")
            .with_audience(Audience::Private);
        (topics, event)
    }

    /// A record written before the replacement key existed (flags without it) still reads.
    #[test]
    fn a_record_from_before_the_replace_flag_still_reads() {
        // Version 1, at 5 ms, flags = type, one topic "a", type "t", data "hi".
        let mut old = vec![1];
        old.extend_from_slice(&5u64.to_le_bytes());
        old.push(TYPE);
        old.extend_from_slice(&1u16.to_le_bytes());
        for field in [&b"a"[..], b"t", b"hi"] {
            old.extend_from_slice(&u32::try_from(field.len()).unwrap().to_le_bytes());
            old.extend_from_slice(field);
        }
        let decoded = decode(0, &old).unwrap();
        assert_eq!(decoded.event, Event::new("hi").with_event("t"));
        assert_eq!(decoded.event.replace, None);
    }

    #[test]
    fn a_record_round_trips_every_field() {
        let (topics, event) = sample();
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let mut out = Vec::new();
        encode(&topics, &event, at, &mut out);
        let decoded = decode(9, &out).unwrap();
        assert_eq!((decoded.topics, decoded.event), (topics.clone(), event));
        assert_eq!(decoded.published_at, at);
        // The minimal event too.
        out.clear();
        encode(&topics[..1], &Event::new(""), at, &mut out);
        let decoded = decode(9, &out).unwrap();
        assert_eq!(decoded.event, Event::new(""));
    }

    /// Every truncation and every single-byte change decodes to an error or an event, never a
    /// panic; truncations are always errors.
    #[test]
    fn damaged_records_are_errors_not_panics() {
        let (topics, event) = sample();
        let mut out = Vec::new();
        encode(&topics, &event, SystemTime::now(), &mut out);
        for len in 0..out.len() {
            let err = decode(3, &out[..len]).unwrap_err();
            assert_eq!(err.offset, 3);
        }
        for at in 0..out.len() {
            for byte in [0u8, 0x7f, 0xff] {
                let mut damaged = out.clone();
                damaged[at] = byte;
                let _ = decode(3, &damaged);
            }
        }
        let mut longer = out.clone();
        longer.push(0);
        assert_eq!(
            decode(3, &longer).unwrap_err().reason,
            "bytes after its end"
        );
        let mut version = out;
        version[0] = 2;
        assert_eq!(
            decode(3, &version).unwrap_err().reason,
            "unknown record version"
        );
    }
}
