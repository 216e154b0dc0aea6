//! push-stomp's integration tests, linked as one binary: each file beside this one is a
//! module of it (one link and one executable instead of one per file; the test binaries
//! of a workspace this size filled a CI machine's disk). The modules without a test
//! (`support` and the like) are what several files share.

mod chunking;
mod destinations;
mod fuzz_seeds;
mod session;
mod shared_encoding;
mod spec;
mod websocket;
