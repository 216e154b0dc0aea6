//! Replays the committed fuzz seeds of the `h2_link` and `h2_cookie_digest` targets on stable.

use push_test_support::replay_seeds;

#[test]
fn h2_link_seeds() {
    replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "h2_link",
        10,
        push_h2::__fuzz::link_policy,
    );
}

#[test]
fn h2_cookie_digest_seeds() {
    replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "h2_cookie_digest",
        10,
        push_h2::__fuzz::cookie_digest,
    );
}
