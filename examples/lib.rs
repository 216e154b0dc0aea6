//! Examples that combine the push crates; the code is in `one_app.rs` (run it with
//! `cargo run -p push-examples --example one_app`) and its test in `tests/one_app.rs`.
#![forbid(unsafe_code)]

/// The Rust snippets of the workspace's README, compiled and run as doctests so that they follow
/// the API (`rust,ignore` ones excepted).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
