//! push-ws's integration tests, linked as one binary: each file beside this one is a
//! module of it (one link and one executable instead of one per file; the test binaries
//! of a workspace this size filled a CI machine's disk). The modules without a test
//! (`support` and the like) are what several files share.

mod support;

mod accept;
mod adapters;
mod budget;
mod client;
mod drive;
mod endpoint;
mod errors;
mod fuzz_seeds;
mod handshake_timeout;
mod interop_python;
mod push;
mod runner;
mod split;
