//! Replays the committed seeds of the `http_grammar` fuzz target on stable, and runs the same
//! checks on random hostile header values.

use proptest::collection::vec;
use proptest::prelude::*;
use push_test_support::replay_seeds;

#[test]
fn http_grammar_seeds() {
    replay_seeds(
        env!("CARGO_MANIFEST_DIR"),
        "http_grammar",
        10,
        push_http::__fuzz::grammar,
    );
}

proptest! {
    /// Bytes drawn mostly from the grammars' delimiters, so the parsers meet their edge cases.
    #[test]
    fn hostile_header_values(data in vec(prop_oneof![
        3 => proptest::sample::select(&b"<>\";,=\\ \tW/*aZ0-%\xff"[..]),
        1 => any::<u8>(),
    ], 0..96)) {
        push_http::__fuzz::grammar(&data);
    }
}
