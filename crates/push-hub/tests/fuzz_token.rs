//! Replays the committed seeds of the `mercure_token` fuzz target on stable, and runs the same
//! checks on random hostile tokens and claims.

use proptest::collection::vec;
use proptest::prelude::*;
use push_test_support::replay_seeds;

#[test]
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
    }
}
