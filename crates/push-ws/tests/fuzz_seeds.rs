//! Replays the committed fuzz seeds of the `ws_client_message` target on stable.

#[test]
fn ws_client_message_seeds() {
    push_test_support::replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "ws_client_message",
        10,
        push_ws::__fuzz::ws_client_message,
    );
}
