//! The encoder and the decoder as a pair: frames encoded in a stream with heart-beats between
//! them decode back to exactly themselves, whatever the chunking (every split point of a small
//! stream; random chunkings of larger ones).

use proptest::prelude::*;
use push_stomp::{
    Command, Decoder, Error, Frame, Item, Limits, Version, encode, encode_head, encode_tail,
};

fn version() -> impl Strategy<Value = Version> {
    prop_oneof![
        Just(Version::V1_0),
        Just(Version::V1_1),
        Just(Version::V1_2)
    ]
}

/// Header text over an alphabet rich in what escaping touches.
fn text(min: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('Z'),
            Just(':'),
            Just('\\'),
            Just('\n'),
            Just('\r'),
            Just(' '),
            Just('é'),
            Just('c'),
            Just('n'),
        ],
        min..8,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn frame() -> impl Strategy<Value = Frame> {
    let command = proptest::sample::select(Command::ALL.to_vec());
    let headers = proptest::collection::vec((text(1), text(0)), 0..5);
    let body = proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..40);
    (command, headers, body, any::<bool>()).prop_map(|(command, headers, body, length)| {
        let mut frame = Frame::new(command);
        for (name, value) in headers {
            frame.push_header(name, value);
        }
        if length || body.contains(&0) {
            frame.with_body_and_length(body)
        } else {
            frame.with_body(body)
        }
    })
}

/// The frames that `version` can carry, encoded with 0–2 heart-beats before each.
fn stream(version: Version, frames: &[(Frame, u8)]) -> (Vec<u8>, Vec<Item>) {
    let (mut wire, mut items) = (Vec::new(), Vec::new());
    for (frame, beats) in frames {
        let mut one = Vec::new();
        if encode(frame, version, &mut one).is_err() {
            continue;
        }
        for beat in 0..beats % 3 {
            wire.extend_from_slice(if beat % 2 == 0 { b"\n" } else { b"\r\n" });
            items.push(Item::Heartbeat);
        }
        wire.extend_from_slice(&one);
        items.push(Item::Frame(frame.clone()));
    }
    (wire, items)
}

fn decode_chunks(version: Version, chunks: &[&[u8]]) -> Vec<Item> {
    let mut decoder = Decoder::new(Limits::default());
    decoder.set_version(version);
    let mut items = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        while let Some(item) = decoder.poll().expect("our own encoding decodes") {
            items.push(item);
        }
    }
    assert_eq!(decoder.buffered(), 0);
    items
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_split_point_gives_the_same_frames(
        version in version(),
        frames in proptest::collection::vec((frame(), any::<u8>()), 1..3),
    ) {
        let (wire, expected) = stream(version, &frames);
        prop_assert_eq!(&decode_chunks(version, &[&wire]), &expected);
        for at in 0..=wire.len() {
            let (a, b) = wire.split_at(at);
            prop_assert_eq!(&decode_chunks(version, &[a, b]), &expected, "split at {}", at);
        }
    }

    #[test]
    fn random_chunkings_give_the_same_frames(
        version in version(),
        frames in proptest::collection::vec((frame(), any::<u8>()), 1..12),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let (wire, expected) = stream(version, &frames);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for p in points {
            chunks.push(&wire[start..p]);
            start = p;
        }
        chunks.push(&wire[start..]);
        prop_assert_eq!(decode_chunks(version, &chunks), expected);
    }

    /// 1.2 can carry every header of every non-connection frame: nothing is dropped.
    #[test]
    fn version_1_2_encodes_every_escaped_frame(frame in frame()) {
        let mut out = Vec::new();
        let result = encode(&frame, Version::V1_2, &mut out);
        if !frame.command().is_unescaped() {
            prop_assert!(result.is_ok(), "{:?}", result);
        }
    }

    /// A frame written in two parts (a head of per-recipient headers, then a shared tail) is
    /// byte for byte the frame `encode` writes, wherever the headers are split, and fails where
    /// `encode` fails; a `content-length` in the head, away from its body, is refused.
    #[test]
    fn a_frame_split_in_two_is_the_whole_frame(
        version in version(),
        frame in frame(),
        at in any::<prop::sample::Index>(),
    ) {
        let headers: Vec<(&str, &str)> = frame.headers().collect();
        let (head, tail) = headers.split_at(at.index(headers.len() + 1));
        let mut whole = Vec::new();
        let whole_result = encode(&frame, version, &mut whole);
        let mut split = Vec::new();
        let command = frame.command();
        let result = encode_head(command, head.iter().copied(), version, &mut split)
            .and_then(|()| {
                encode_tail(command, tail.iter().copied(), frame.body(), version, &mut split)
            });
        if head.iter().any(|(name, _)| *name == "content-length") {
            prop_assert!(
                matches!(result, Err(Error::BodyLength) | Err(Error::Unencodable)),
                "{:?}", result
            );
        } else {
            prop_assert_eq!(result.is_ok(), whole_result.is_ok(), "{:?} {:?}", result, whole_result);
            if result.is_ok() {
                prop_assert_eq!(&split, &whole);
            }
        }
    }

    /// A byte stream no encoder made never panics the decoder, and chunking never changes the
    /// items it yields.
    #[test]
    fn arbitrary_bytes_decode_the_same_in_any_chunking(
        data in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(0u8), Just(b':'), any::<u8>()], 0..200),
        prefix in proptest::sample::select(vec![&b""[..], b"SEND\n", b"MESSAGE\na:b\n\n"]),
    ) {
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(&data);
        let mut seed = vec![7u8];
        seed.extend_from_slice(&bytes);
        push_stomp::__fuzz::stomp_decode(&seed);
    }
}
