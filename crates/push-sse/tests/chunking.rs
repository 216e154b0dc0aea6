//! Property tests: chunk boundaries never change what the decoder yields, and
//! decode(encode(events)) matches the reference model at every chunking.

use bytes::BytesMut;
use proptest::prelude::*;
use push_core::Event;
use push_sse::__fuzz::{decode_chunks, expected_items, split_at_fractions as chunked};
use push_sse::{Config, encode_event};

/// Bytes rich in the characters that matter to the grammar.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(b"data".to_vec()),
        Just(b"event".to_vec()),
        Just(b"id".to_vec()),
        Just(b"retry".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xE2\x82".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"123".to_vec()),
        Just(b"+".to_vec()),
        prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
}

/// Split points, as fractions of the input length.
fn splits() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(any::<u16>(), 0..12)
}

fn small() -> Config {
    Config::new().with_max_line_len(12).with_max_event_len(20)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_chunking_gives_the_same_items(input in stream_bytes(), cuts in splits()) {
        for config in [Config::default(), small()] {
            let whole = decode_chunks(config, [&input[..]]);
            prop_assert_eq!(&decode_chunks(config, chunked(&input, &cuts)), &whole);
            prop_assert_eq!(&decode_chunks(config, input.chunks(1)), &whole);
        }
    }

    #[test]
    fn decode_of_encode_is_the_model(events in prop::collection::vec(event(), 0..6), cuts in splits()) {
        let mut wire = BytesMut::new();
        for e in &events {
            encode_event(e, &mut wire).unwrap();
        }
        let want = (expected_items(&events, &mut String::new()), None);
        prop_assert_eq!(&decode_chunks(Config::default(), [&wire[..]]), &want);
        prop_assert_eq!(&decode_chunks(Config::default(), chunked(&wire, &cuts)), &want);
        prop_assert_eq!(&decode_chunks(Config::default(), wire.chunks(1)), &want);
    }
}

/// A valid event: type and id without CR, LF, NUL; data any UTF-8 text rich in line breaks and
/// leading spaces.
fn event() -> impl Strategy<Value = Event> {
    let field = "[ a-z:\u{FEFF}é\t]{0,6}";
    let data = prop::collection::vec(
        prop_oneof![
            Just("\r".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just(" ".to_owned()),
            "[a-z:\0\u{FFFD}é]{0,5}"
        ],
        0..8,
    )
    .prop_map(|v| v.concat());
    (
        prop::option::of(field),
        prop::option::of(field),
        prop::option::of(any::<u64>()),
        data,
    )
        .prop_map(|(event, id, retry, data)| Event {
            event,
            id,
            retry,
            audience: push_core::Audience::Public,
            replace: None,
            data: data.into(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The fuzz hooks hold on arbitrary bytes (a cheap stand-in for running the fuzzer).
    #[test]
    fn fuzz_hooks_hold(input in prop::collection::vec(any::<u8>(), 0..300), grammar in stream_bytes()) {
        push_sse::__fuzz::decode(&input);
        push_sse::__fuzz::decode(&grammar);
        push_sse::__fuzz::roundtrip(&input);
        push_sse::__fuzz::roundtrip(&grammar);
    }
}
