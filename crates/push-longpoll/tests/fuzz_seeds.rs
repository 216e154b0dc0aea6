//! Replays the committed fuzz seeds of the `longpoll_request` and `longpoll_headers` targets on
//! stable (the crate's `__fuzz` feature, turned on by its own dev-dependency).

#[test]
fn longpoll_request_seeds() {
    push_test_support::replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "longpoll_request",
        10,
        push_longpoll::__fuzz::longpoll_request,
    );
}

#[test]
fn longpoll_headers_seeds() {
    push_test_support::replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "longpoll_headers",
        10,
        push_longpoll::__fuzz::longpoll_headers,
    );
}
