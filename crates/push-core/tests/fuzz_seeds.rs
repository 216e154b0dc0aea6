//! Replays the committed fuzz seeds of the `cursor` target on stable.

#[test]
fn cursor_seeds() {
    push_test_support::replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "cursor",
        5,
        push_core::__fuzz::cursor_roundtrip,
    );
}
