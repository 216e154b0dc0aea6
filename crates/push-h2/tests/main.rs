//! push-h2's integration tests, linked as one binary: each file beside this one is a
//! module of it (one link and one executable instead of one per file; the test binaries
//! of a workspace this size filled a CI machine's disk). The modules without a test
//! (`support` and the like) are what several files share.

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../examples/push_server.rs"]
mod push_server;
mod support;

mod connect;
mod driver;
mod fuzz_seeds;
mod idle;
mod nghttp;
mod push;
mod server_limits;
mod stall;
mod streams;
