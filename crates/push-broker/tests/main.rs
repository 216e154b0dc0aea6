//! push-broker's integration tests, linked as one binary: each file beside this one is a
//! module of it (one link and one executable instead of one per file; the test binaries
//! of a workspace this size filled a CI machine's disk). The modules without a test
//! (`support` and the like) are what several files share.

mod support;

mod concurrency;
mod fair_share;
mod group_commit;
mod ids;
mod journal;
mod limits;
mod multi_topic;
mod pattern_replay;
mod patterns;
mod relay;
mod semantics;
