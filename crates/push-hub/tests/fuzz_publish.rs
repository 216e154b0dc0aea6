//! Replays the committed seeds of the `mercure_publish` fuzz target on stable, and runs the same
//! checks on random hostile forms and queries.

use proptest::collection::vec;
use proptest::prelude::*;
use push_test_support::replay_seeds;

#[test]
fn mercure_publish_seeds() {
    replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "mercure_publish",
        10,
        push_hub::mercure::__fuzz::mercure_publish,
    );
}

/// Field names and the bytes that matter to the rules, so the parsers meet their edge cases.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            &b"topic="[..], b"data=", b"id=", b"type=", b"retry=", b"private", b"match=",
            b"match_urlpattern=", b"match_x=", b"lastEventID=", b"&", b"=", b"%", b"%0A", b"%23",
            b"%2F", b".well-known", b"/mercure", b"..", b"*", b"earliest", b"mercure", b"{id}",
            b":id", b"%E2%80%8B", b"+", b"9",
        ]).prop_map(<[u8]>::to_vec),
        1 => vec(any::<u8>(), 1..4),
    ]
}

proptest! {
    #[test]
    fn hostile_forms_and_queries(mode in any::<u8>(), pieces in vec(piece(), 0..24)) {
        let mut data = vec![mode];
        data.extend(pieces.concat());
        push_hub::mercure::__fuzz::mercure_publish(&data);
    }
}
