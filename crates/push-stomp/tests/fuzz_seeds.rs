//! Replays the committed fuzz seeds of the `stomp_decode` target on stable.

use push_test_support::replay_seeds;

#[test]
fn stomp_decode_seeds() {
    replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "stomp_decode",
        8,
        push_stomp::__fuzz::stomp_decode,
    );
}
