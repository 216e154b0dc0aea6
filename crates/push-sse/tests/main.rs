//! push-sse's integration tests, linked as one binary: each file beside this one is a
//! module of it (one link and one executable instead of one per file; the test binaries
//! of a workspace this size filled a CI machine's disk). The modules without a test
//! (`support` and the like) are what several files share.

mod support;

mod axum;
mod browser;
mod chunking;
mod client;
mod coalesce;
mod endpoint;
mod event_id;
mod fuzz_seeds;
mod limits;
mod node;
mod raw;
mod server;
mod signals;
mod spec;
