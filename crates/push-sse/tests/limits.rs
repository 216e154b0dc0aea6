//! Memory stays bounded whatever the input.

use bytes::Bytes;
use push_core::Event;
use push_sse::{Config, Decoded, Decoder, Error};

type Item = Decoded<Event>;

const CHUNK: usize = 16 * 1024;

/// Feeds `line` (its head, then `len` bytes of `fill`, then a line ending) and an event after
/// it in 16 KiB chunks, the copying and the in-place way, draining after each; the largest buffer
/// capacity seen, and the items (or the error).
fn feed_long_line(
    config: Config,
    head: &[u8],
    fill: u8,
    len: usize,
) -> Vec<(usize, Result<Vec<Item>, Error>)> {
    let mut out = Vec::new();
    for in_place in [false, true] {
        let mut d = Decoder::with_config(config);
        let mut peak = 0;
        let mut items = Vec::new();
        let feed = |d: &mut Decoder, chunk: &[u8]| {
            if in_place {
                d.feed_bytes(Bytes::copy_from_slice(chunk));
            } else {
                d.feed(chunk);
            }
        };
        let mut result = Ok(());
        feed(&mut d, head);
        let block = vec![fill; CHUNK];
        let mut left = len;
        let tail = b"\r\n\r\nid: 1\ndata: after\n\n";
        while result.is_ok() {
            let chunk: &[u8] = if left == 0 {
                tail
            } else {
                &block[..left.min(CHUNK)]
            };
            left -= chunk.len().min(left);
            feed(&mut d, chunk);
            result = loop {
                match d.poll_owned() {
                    Ok(Some(item)) => items.push(item),
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            peak = peak.max(d.buffer_capacity());
            if chunk.as_ptr() == tail.as_ptr() {
                break;
            }
        }
        out.push((peak, result.map(|()| items)));
    }
    out
}

fn after() -> Vec<Item> {
    vec![Item::Event(Event {
        event: Some("message".to_owned()),
        data: Bytes::from_static(b"after"),
        id: Some("1".to_owned()),
        retry: None,
        audience: push_core::Audience::Public,
        replace: None,
    })]
}

#[test]
fn a_64_mb_comment_is_skipped_in_constant_memory() {
    for (peak, items) in feed_long_line(Config::default(), b": ", b'c', 64 * 1000 * 1000) {
        assert_eq!(items, Ok(after()));
        // The chunk being read and one more: nothing of the comment is kept.
        assert!(peak <= 4 * CHUNK, "the decoder held {peak} bytes");
    }
}

#[test]
fn long_ignored_fields_are_skipped_in_constant_memory() {
    // An unknown field, a field name longer than any known one, a line with no colon at all,
    // and a known name in the wrong case.
    for head in [&b"x-trace: "[..], b"identifier: ", b"aaaaaa", b"Data: "] {
        for (peak, items) in feed_long_line(Config::default(), head, b'z', 4 * 1000 * 1000) {
            assert_eq!(items, Ok(after()), "{head:?}");
            assert!(peak <= 4 * CHUNK, "{head:?}: the decoder held {peak} bytes");
        }
    }
}

#[test]
fn a_data_line_may_be_as_long_as_the_event_limit() {
    let config = Config::default();
    // 70,000 bytes (past the line limit) and the whole event limit in one line.
    for len in [70_000, config.max_event_len()] {
        for (peak, items) in feed_long_line(config, b"data: ", b'd', len) {
            let items = items.unwrap();
            let [Item::Event(e), _] = &items[..] else {
                panic!("{} items instead of two events", items.len());
            };
            assert_eq!(e.data.len(), len);
            assert!(e.data.iter().all(|&b| b == b'd'));
            // The line while it arrives and the event's copy of it, no more.
            assert!(peak <= 3 * len + 4 * CHUNK, "{len}: {peak}");
        }
    }
    // One byte more is refused as soon as it is buffered, whatever the chunking.
    for (_, items) in feed_long_line(config, b"data: ", b'd', config.max_event_len() + 1) {
        assert_eq!(items, Err(Error::EventTooLarge));
    }
}

#[test]
fn ten_megabytes_of_an_id_fail_early_with_bounded_memory() {
    let config = Config::default();
    let mut d = Decoder::with_config(config);
    d.feed(b"id: ");
    let chunk = vec![b'a'; CHUNK];
    let mut fed = 0;
    let mut error = None;
    while fed < 10 * 1024 * 1024 {
        d.feed(&chunk);
        fed += CHUNK;
        match d.poll_owned() {
            Ok(None) => {}
            Ok(Some(item)) => panic!("unexpected {item:?}"),
            Err(e) => {
                error = Some((e, fed));
                break;
            }
        }
        assert!(d.buffered_len() <= config.max_line_len());
        assert!(d.buffer_capacity() <= 4 * (config.max_line_len() + CHUNK));
    }
    let (e, at) = error.expect("the long line is an error");
    assert_eq!(e, Error::LineTooLong);
    assert!(
        at <= config.max_line_len() + CHUNK,
        "reported late, after {at} bytes"
    );
    // Failed for good, holding nothing.
    d.feed(&chunk);
    assert_eq!(d.poll_owned(), Err(Error::LineTooLong));
    assert_eq!(d.buffered_len(), 0);
    assert_eq!(d.buffer_capacity(), 0);
}

#[test]
fn many_short_data_lines_hit_the_event_limit() {
    let config = Config::new().with_max_event_len(1024 * 1024);
    let mut d = Decoder::with_config(config);
    let chunk = b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".repeat(300);
    let mut fed = 0;
    let err = loop {
        d.feed(&chunk);
        fed += chunk.len();
        assert!(fed < 4 * 1024 * 1024, "no error after {fed} bytes");
        match d.poll_owned() {
            Ok(None) => assert!(d.buffer_capacity() <= 4 * 1024 * 1024),
            Ok(Some(item)) => panic!("unexpected {item:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(err, Error::EventTooLarge);
}

#[test]
fn a_huge_chunk_of_small_events_does_not_keep_a_huge_buffer() {
    let mut d = Decoder::new();
    d.feed(&b"data: x\n\n".repeat(1024 * 1024));
    let mut n = 0;
    while let Some(item) = d.poll_owned().unwrap() {
        assert!(matches!(item, Item::Event(_)));
        n += 1;
    }
    assert_eq!(n, 1024 * 1024);
    d.feed(b"data: y\n\n");
    assert!(d.buffer_capacity() <= 2 * (Config::default().max_line_len() + 64 * 1024));
}
