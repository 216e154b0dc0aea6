//! The zero-copy path (`poll_shared`) gives exactly what `poll_owned` gives, fed either way, at
//! every chunking, and shares the chunk's memory when it can.

use bytes::Bytes;
use proptest::prelude::*;
use push_sse::__fuzz::{Path, decode_by, decode_chunks, split_at_fractions as chunked};
use push_sse::{Config, Decoded, Decoder, Error};

/// Bytes rich in what matters to the grammar and to the zero-copy path: invalid UTF-8, BOMs,
/// NUL in ids, CR / CRLF, repeated types and ids, multi-line data.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"data:".to_vec()),
        Just(b"event: t".to_vec()),
        Just(b"event".to_vec()),
        Just(b"id: ".to_vec()),
        Just(b"id".to_vec()),
        Just(b"retry: 12".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xE2\x82".to_vec()),
        Just(b"\xFF".to_vec()),
        Just("é".as_bytes().to_vec()),
        Just(b"\0".to_vec()),
        Just(b"abcdefghijklmnop".to_vec()),
        prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_path_gives_the_same_items(
        input in stream_bytes(),
        cuts in prop::collection::vec(any::<u16>(), 0..12),
    ) {
        for config in [Config::default(), Config::new().with_max_line_len(12).with_max_event_len(20)] {
            let whole = decode_chunks(config, [&input[..]]);
            for path in Path::ALL {
                prop_assert_eq!(&decode_by(config, [&input[..]], path), &whole);
                prop_assert_eq!(&decode_by(config, chunked(&input, &cuts), path), &whole);
                prop_assert_eq!(&decode_by(config, input.chunks(1), path), &whole);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Long comments, long ignored fields and long `data` and `id` lines split across many
    /// chunks: every path at every chunking gives what the whole input gives, with limits the
    /// lines fit and limits they break.
    #[test]
    fn long_lines_at_every_chunking(
        parts in prop::collection::vec((0..6usize, 0..3000usize, any::<bool>()), 1..6),
        cuts in prop::collection::vec(any::<u16>(), 0..40),
        size in 1..80usize,
    ) {
        const HEADS: [&[u8]; 6] = [b": ", b":", b"x-long: ", b"abcdefgh", b"data: ", b"id: "];
        let mut input = Vec::new();
        for (kind, len, crlf) in parts {
            input.extend_from_slice(HEADS[kind]);
            input.extend((0..len).map(|i| b"v\xC3\xA9:x"[i % 5]));
            input.extend_from_slice(if crlf { b"\r\ndata: end\r\n\r\n" } else { b"\rdata: end\n\n" });
        }
        let small = Config::new().with_max_line_len(64).with_max_event_len(1024);
        for config in [Config::default(), small] {
            let whole = decode_chunks(config, [&input[..]]);
            if config == Config::default() {
                prop_assert_eq!(whole.1, None);
            }
            for path in Path::ALL {
                prop_assert_eq!(&decode_by(config, chunked(&input, &cuts), path), &whole);
                prop_assert_eq!(&decode_by(config, input.chunks(size), path), &whole);
            }
        }
    }
}

#[test]
fn every_split_of_a_tricky_stream() {
    let input: &[u8] =
        b"\xEF\xBB\xBFevent: a\xFF\r\nid: 1\rdata: x\xE2\x82\n\ndata\r\ndata:  y\r\r\
        id: \0\nretry: 5\nevent: a\xFF\ndata: z\n\nid\ndata: \n\n:c\nevent:\ndata:w\r";
    for config in [
        Config::default(),
        Config::new().with_max_line_len(8).with_max_event_len(6),
    ] {
        let whole = decode_chunks(config, [input]);
        assert!(whole.0.len() >= 4 || whole.1.is_some());
        for a in 0..=input.len() {
            for b in a..=input.len() {
                let parts = [&input[..a], &input[a..b], &input[b..]];
                for path in Path::ALL {
                    assert_eq!(decode_by(config, parts, path), whole, "{a}, {b}, {path:?}");
                }
            }
        }
    }
}

fn shares(chunk: &Bytes, part: &Bytes) -> bool {
    let range = chunk.as_ptr_range();
    part.is_empty() || range.contains(&part.as_ptr())
}

#[test]
fn single_line_fields_are_slices_of_the_chunk() {
    let mut d = Decoder::new();
    d.feed_bytes(Bytes::from_static(b"\n"));
    assert_eq!(d.poll_shared(), Ok(None));
    let chunk = Bytes::from(b"event: t\nid: 7\ndata: hello\n\ndata: a\ndata: b\n\n".to_vec());
    d.feed_bytes(chunk.clone());
    let Ok(Some(Decoded::Event(first))) = d.poll_shared() else {
        panic!("an event");
    };
    assert_eq!(
        (first.event_type(), first.data_str(), first.last_event_id()),
        ("t", "hello", "7")
    );
    assert!(shares(&chunk, first.data()));
    let detached = first.clone().detach();
    assert_eq!(detached, first);
    assert!(!shares(&chunk, detached.data()));
    let Ok(Some(Decoded::Event(joined))) = d.poll_shared() else {
        panic!("an event");
    };
    assert_eq!(
        (joined.event_type(), joined.data_str()),
        ("message", "a\nb")
    );
    assert!(!shares(&chunk, joined.data()));
    assert_eq!(joined.last_event_id(), "7");
    assert_eq!(d.poll_shared(), Ok(None));
}

#[test]
fn long_types_and_ids_round_trip() {
    let long = "y".repeat(40);
    let input = format!("\nevent: {long}\nid: {long}\ndata: 1\n\nevent: {long}\ndata: 2\n\n");
    let mut d = Decoder::new();
    d.feed_bytes(Bytes::from(input));
    for data in ["1", "2"] {
        let Ok(Some(Decoded::Event(e))) = d.poll_shared() else {
            panic!("an event");
        };
        assert_eq!(
            (e.event_type(), e.last_event_id(), e.data_str()),
            (&long[..], &long[..], data)
        );
    }
}

#[test]
fn the_two_polls_mix() {
    let mut d = Decoder::new().with_last_event_id("start");
    d.feed_bytes(Bytes::from_static(
        b"data: 1\n\nid: 2\ndata: 2\n\ndata: 3\n\nretry: 9\n",
    ));
    let Ok(Some(Decoded::Event(e))) = d.poll_shared() else {
        panic!("an event");
    };
    assert_eq!(e.last_event_id(), "start");
    let Ok(Some(Decoded::Event(e))) = d.poll_owned() else {
        panic!("an event");
    };
    assert_eq!((e.id.as_deref(), &e.data[..]), (Some("2"), &b"2"[..]));
    assert_eq!(d.last_event_id(), "2");
    let Ok(Some(Decoded::Event(e))) = d.poll_shared() else {
        panic!("an event");
    };
    assert_eq!((e.last_event_id(), e.data_str()), ("2", "3"));
    assert_eq!(d.poll_owned(), Ok(Some(Decoded::Retry(9))));
}

#[test]
fn limits_hold_on_the_zero_copy_path() {
    let mut d = Decoder::with_config(Config::new().with_max_event_len(3));
    d.feed_bytes(Bytes::from_static(b"\ndata: abc\n\ndata: ab\ndata: c\n"));
    let Ok(Some(Decoded::Event(e))) = d.poll_shared() else {
        panic!("an event");
    };
    assert_eq!(e.data_str(), "abc");
    assert_eq!(d.poll_shared(), Err(Error::EventTooLarge));
    assert_eq!(d.poll_owned(), Err(Error::EventTooLarge));
    // The line limit bounds `event`, `id` and `retry` lines; `data` lines have the event limit.
    let mut d = Decoder::with_config(Config::new().with_max_line_len(4));
    d.feed_bytes(Bytes::from_static(b"\ndata: abc\n\nid: abc\n"));
    let Ok(Some(Decoded::Event(e))) = d.poll_shared() else {
        panic!("an event");
    };
    assert_eq!(e.data_str(), "abc");
    assert_eq!(d.poll_shared(), Err(Error::LineTooLong));
}
