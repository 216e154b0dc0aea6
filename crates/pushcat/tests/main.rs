//! pushcat's integration tests, linked as one binary: each file beside this one is a
//! module of it (one link and one executable instead of one per file; the test binaries
//! of a workspace this size filled a CI machine's disk). The modules without a test
//! (`support` and the like) are what several files share.

mod support;

mod cli;
mod hub;
mod poll;
mod publish;
mod sse_cli;
mod symfony;
mod token;
mod webhook;
mod webhook_register;
mod ws;
