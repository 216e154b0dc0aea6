//! Replays the committed fuzz seeds of the `sse_decode`, `sse_roundtrip` and `sse_client` targets
//! on stable.

use push_test_support::replay_seeds;

#[test]
fn sse_decode_seeds() {
    replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "sse_decode",
        10,
        push_sse::__fuzz::decode,
    );
}

#[test]
fn sse_roundtrip_seeds() {
    replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "sse_roundtrip",
        10,
        push_sse::__fuzz::roundtrip,
    );
}

#[test]
fn sse_client_seeds() {
    replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "sse_client",
        6,
        push_sse::__fuzz::client,
    );
}
