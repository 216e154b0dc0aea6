//! Hooks for the fuzz targets, the seed-replay test and the property tests; not part of the API.

use bytes::{Bytes, BytesMut};
use push_core::Event;

use crate::{Config, Decoded, Decoder, Error, EventRef, SharedEvent, encode_event};

#[cfg(feature = "client")]
#[path = "fuzzing_client.rs"]
mod client;
#[cfg(feature = "client")]
pub use client::client;

/// What the decoder yields, owned: what every path is compared as.
pub type Item = Decoded<Event>;

/// Decodes `chunks` in order, then finishes: every item, and the error that stopped it, if any.
pub fn decode_chunks<'a>(
    config: Config,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Item>, Option<Error>) {
    decode_by(config, chunks, Path::Feed)
}

/// `input` cut at the given points, each a fraction of its length out of `u16::MAX` (the shape
/// the property tests draw split points in); empty pieces are kept.
pub fn split_at_fractions<'a>(input: &'a [u8], cuts: &[u16]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|&c| usize::from(c) * input.len() / usize::from(u16::MAX))
        .collect();
    points.push(0);
    points.push(input.len());
    points.sort_unstable();
    points.windows(2).map(|w| &input[w[0]..w[1]]).collect()
}

/// How [`decode_by`] feeds and polls the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// `feed` and `poll_owned`.
    Feed,
    /// `feed_bytes` and `poll_owned`.
    FeedBytes,
    /// `feed` and `poll_shared` (its items converted with `into_owned`).
    FeedRaw,
    /// `feed_bytes` and `poll_shared`: the zero-copy path.
    FeedBytesRaw,
    /// `feed` and `poll_ref` (its items converted with `to_owned`).
    FeedRef,
    /// `feed_bytes` and `poll_ref`: the borrowing path.
    FeedBytesRef,
}

impl Path {
    /// Every path.
    pub const ALL: [Self; 6] = [
        Self::Feed,
        Self::FeedBytes,
        Self::FeedRaw,
        Self::FeedBytesRaw,
        Self::FeedRef,
        Self::FeedBytesRef,
    ];
}

/// [`decode_chunks`] along one [`Path`]; the zero-copy items are checked to be valid UTF-8.
pub fn decode_by<'a>(
    config: Config,
    chunks: impl IntoIterator<Item = &'a [u8]>,
    path: Path,
) -> (Vec<Item>, Option<Error>) {
    let mut d = Decoder::with_config(config);
    let mut items = Vec::new();
    let drain = |d: &mut Decoder, items: &mut Vec<Item>| loop {
        let next = match path {
            Path::FeedRaw | Path::FeedBytesRaw => d.poll_shared().map(|item| item.map(checked)),
            Path::FeedRef | Path::FeedBytesRef => d.poll_ref().map(|item| item.map(checked_ref)),
            Path::Feed | Path::FeedBytes => d.poll_owned(),
        };
        match next {
            Ok(Some(item)) => items.push(item),
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    };
    for chunk in chunks {
        match path {
            Path::Feed | Path::FeedRaw | Path::FeedRef => d.feed(chunk),
            Path::FeedBytes | Path::FeedBytesRaw | Path::FeedBytesRef => {
                d.feed_bytes(Bytes::copy_from_slice(chunk));
            }
        }
        if let Some(e) = drain(&mut d, &mut items) {
            return (items, Some(e));
        }
    }
    d.finish();
    let err = drain(&mut d, &mut items);
    (items, err)
}

/// A zero-copy item as an [`Item`], after checking its fields.
fn checked(item: Decoded<SharedEvent>) -> Item {
    if let Decoded::Event(e) = &item {
        assert!(!e.event_type().is_empty());
        assert_eq!(core::str::from_utf8(e.data()), Ok(e.data_str()));
        assert_eq!(e.clone().detach(), *e);
    }
    item.into_owned()
}

/// A borrowed item as an [`Item`], after checking its fields.
fn checked_ref(item: Decoded<EventRef<'_>>) -> Item {
    if let Decoded::Event(e) = &item {
        assert!(!e.event_type().is_empty());
        assert!(!e.last_event_id().contains('\0'));
    }
    item.to_owned()
}

/// What decoding the encoding of `events` must give (the reference model): per event, its
/// `retry` first, then the event with the type defaulted to `message`, line breaks normalised to
/// LF and the id that persists across events. `last_id` carries the model's state.
pub fn expected_items(events: &[Event], last_id: &mut String) -> Vec<Item> {
    let mut items = Vec::new();
    for e in events {
        if let Some(r) = e.retry {
            items.push(Item::Retry(r));
        }
        if let Some(id) = &e.id {
            last_id.clone_from(id);
        }
        let kind = match e.event.as_deref() {
            None | Some("") => "message".to_owned(),
            Some(t) => t.to_owned(),
        };
        let text = String::from_utf8_lossy(&e.data)
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        items.push(Item::Event(Event {
            event: Some(kind),
            data: Bytes::from(text),
            id: Some(last_id.clone()),
            retry: None,
            audience: push_core::Audience::Public,
            replace: None,
        }));
    }
    items
}

/// Decodes arbitrary bytes whole, in chunks of a size taken from the input, and split in two at
/// a point taken from the input, with the default and with tiny limits: all must agree.
pub fn decode(data: &[u8]) {
    let Some((&first, _)) = data.split_first() else {
        return;
    };
    let size = usize::from(first % 31) + 1;
    let split = data.get(1).map_or(0, |&b| usize::from(b)) % (data.len() + 1);
    for config in [
        Config::default(),
        Config::new().with_max_line_len(16).with_max_event_len(32),
    ] {
        let whole = decode_chunks(config, [data]);
        let (a, b) = data.split_at(split);
        for path in Path::ALL {
            let chunks = decode_by(config, data.chunks(size), path);
            assert_eq!(chunks, whole, "chunks of {size}, {path:?}");
            let two = decode_by(config, [a, b], path);
            assert_eq!(two, whole, "split at {split}, {path:?}");
        }
        for item in &whole.0 {
            if let Item::Event(e) = item {
                assert!(core::str::from_utf8(&e.data).is_ok());
                assert!(e.event.as_deref().is_some_and(|t| !t.is_empty()));
                assert!(e.id.as_deref().is_some_and(|i| !i.contains('\0')));
            }
        }
    }
}

/// Builds events from arbitrary bytes, encodes them (checking the validation rules), decodes the
/// stream in chunks of a size taken from the input and compares with [`expected_items`].
///
/// Layout: events separated by `0xFE`; in each, a flags byte (bit 0: type, bit 1: id, bit 2:
/// retry) then data, type, id and retry parts separated by `0xFF`.
pub fn roundtrip(data: &[u8]) {
    let mut events = Vec::new();
    let mut stream = BytesMut::new();
    for segment in data.split(|&b| b == 0xFE) {
        let Some((&flags, rest)) = segment.split_first() else {
            continue;
        };
        let mut parts = rest.split(|&b| b == 0xFF);
        let mut e = Event::new(Bytes::copy_from_slice(parts.next().unwrap_or_default()));
        let kind = parts.next().unwrap_or_default();
        let id = parts.next().unwrap_or_default();
        let retry = parts.next().unwrap_or_default();
        if flags & 1 != 0 {
            e.event = Some(String::from_utf8_lossy(kind).into_owned());
        }
        if flags & 2 != 0 {
            e.id = Some(String::from_utf8_lossy(id).into_owned());
        }
        if flags & 4 != 0 {
            e.retry = Some(
                retry
                    .iter()
                    .fold(0u64, |acc, &b| acc.rotate_left(8) ^ u64::from(b)),
            );
        }
        let before = stream.len();
        match encode_event(&e, &mut stream) {
            Ok(()) => events.push(e),
            Err(err) => {
                assert_eq!(stream.len(), before, "a failed encode wrote bytes");
                let bad = |s: &Option<String>| {
                    s.as_deref().is_some_and(|s| s.contains(['\r', '\n', '\0']))
                };
                let expected = if bad(&e.event) {
                    Error::InvalidEventType
                } else if bad(&e.id) {
                    Error::InvalidId
                } else {
                    assert!(core::str::from_utf8(&e.data).is_err());
                    Error::DataNotUtf8
                };
                assert_eq!(err, expected);
            }
        }
    }
    let want = expected_items(&events, &mut String::new());
    let size = data.first().map_or(1, |&b| usize::from(b >> 3) + 1);
    assert_eq!(
        decode_chunks(Config::default(), [&stream[..]]),
        (want.clone(), None)
    );
    for path in Path::ALL {
        let got = decode_by(Config::default(), stream.chunks(size), path);
        assert_eq!(got, (want.clone(), None), "{path:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_accept_odd_input() {
        decode(b"");
        decode(b"\x05data: a\r\r\n\xff\n\n");
        roundtrip(b"");
        roundtrip(b"\x07a\r\nb\xffkind\xffid\xff\x01\x02\xfe\x00\xfe\x02x\xff\xffa\nb");
    }
}
