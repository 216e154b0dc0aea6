//! A [`push_core::Broker`] on Redis Streams: any number of processes (hubs) publish and
//! subscribe on the same topics, and a client resumes on any of them with the cursor another
//! gave it — exactly, or after an announced [`Gap`](push_core::Gap), never with a silent loss.
//!
//! ```text
//!   publish ──lane of its partition: batch ──EVALSHA (one per batch)──► Redis {pN}:log streams
//!   reader (one per process) ──TIME + XREAD──► watermark merge ──► local fan-out ──► subscribers
//!   subscribe(from) ──XRANGE replay up to the watermark──► then live
//! ```
//!
//! - **Partitions.** A topic belongs to one of [`Config::with_partitions`] partitions (16 by
//!   default); each partition is one stream with the hash tag `{pN}`, so every script touches one
//!   Redis Cluster slot. An event on several topics is stored once, in its canonical topic's
//!   partition.
//! - **Cursors** are `EPOCH-MS-(SEQ·2¹⁶+N)` for the entry `MS-SEQ` of partition `N`: one total
//!   order over all partitions, so one cursor resumes any multi-topic subscription.
//! - **One reader per process** releases entries in cursor order only below a watermark taken
//!   from Redis' clock (`TIME` before `XREAD`): an entry committed later can never land below
//!   what was delivered. It costs at most a millisecond of latency. It relays each released
//!   event into a process-local push-broker `MemoryBroker`
//!   ([`MemoryBroker::relay`](push_broker::MemoryBroker::relay)), whose topic rings wake only
//!   the local subscriptions the event is for.
//! - **Epochs.** Each partition has a random epoch in Redis; a history that was flushed, or a tail
//!   lost in a failover or restart (the entry a reader read last has vanished without being
//!   trimmed), gets a new one, and cursors of the old epoch get a gap.
//! - **Batched publishes.** Concurrent publishes to a partition share one script call (while
//!   one is in flight the next batch gathers, [`Config::with_publish_batch`]); each publisher
//!   gets its own id or the batch's error, in order. Trims run every
//!   [`Config::with_trim_every`] publishes, not per publish.
//! - **Durability.** A publish returns once the Redis master has the event. With default
//!   persistence an acknowledged event can still vanish in a crash or failover; with
//!   [`Config::with_durable`] a publish also waits for replicas (`WAIT`).
//! - **Outages.** Publishes fail with [`Error::BrokerUnavailable`](push_core::Error) (a server
//!   answers 503); the reader reconnects with backoff and checks for loss; a replay that
//!   cannot read Redis announces a gap; [`RedisBroker::healthy`] tells a health check.
//! - **Assumption.** Redis masters' clocks do not step backwards (NTP slews); an entry found
//!   below a released watermark is announced as a gap rather than delivered out of order.
//!
//! [`Broker::resolve`](push_core::Broker::resolve) resolves a publisher's id on every process:
//! the publish script indexes it in Redis (`{pN}:ids`, trimmed with the stream), each process
//! loads that index when it connects and adds every id its reader releases, so the lookup stays
//! synchronous and local (bounded by [`Config::with_id_index`]).
//!
//! TLS: `rediss://` URLs (rustls, Web PKI roots). AUTH: `redis://user:password@host:port`.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod batch;
mod broker;
mod cluster;
mod config;
mod conn;
mod entry;
mod layout;
mod raw;
mod reader;
mod scripts;
mod shared;
mod store;
mod subscription;

pub use broker::{ConnectError, RedisBroker};
pub use config::{Config, MAX_PARTITIONS};
pub use subscription::RedisSubscription;
