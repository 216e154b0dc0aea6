//! Examples that combine the push crates; the code is in `one_app.rs` (run it with
//! `cargo run -p push-examples --example one_app`) and its test in `tests/one_app.rs`.
#![forbid(unsafe_code)]
