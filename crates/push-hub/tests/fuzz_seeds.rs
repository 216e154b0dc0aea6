<<<<<<< HEAD
//! Replays the committed seeds of the `mercure_token` fuzz target on stable, and runs the same
//! checks on random hostile tokens and claims.
=======
//! Replays the committed seeds of the `mercure_publish` fuzz target on stable, and runs the same
//! checks on random hostile forms and queries.
>>>>>>> mercure

use proptest::collection::vec;
use proptest::prelude::*;
use push_test_support::replay_seeds;

#[test]
<<<<<<< HEAD
fn mercure_token_seeds() {
    replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "mercure_token",
        10,
        push_hub::__fuzz::mercure_token,
    );
}

proptest! {
    /// Claims drawn mostly from the JSON and selector alphabet, signed by the target (mode bit
    /// 0), so the claim readers meet their edge cases past the signature check.
    #[test]
    fn hostile_claims(mode in any::<u8>(), body in vec(prop_oneof![
        4 => proptest::sample::select(&b"{}[]\":,\n*/ {}abmerucstpilhxdy0123456789.-_"[..]),
        1 => any::<u8>(),
    ], 0..160)) {
        let mut data = vec![mode | 1];
        data.extend_from_slice(br#"{"alg":"HS256"}"#);
        data.push(b'\n');
        data.extend_from_slice(&body);
        push_hub::__fuzz::mercure_token(&data);
=======
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
>>>>>>> mercure
    }
}
