//! The durable queue in Redis (feature `redis`): every hub that points at one Redis shares it,
//! so a hub that dies takes nothing with it — its claims run out after [`LEASE`] and another hub
//! takes the deliveries up, with their attempt numbers and schedule.
//!
//! Layout, under a prefix `P` (default `push:wq`), per registration `R` (hash tag `{R}`: one
//! Redis Cluster slot, so each step on a registration is one atomic script):
//! `P:{R}:items`, `:due`, `:held`, `:msg`, `:state`, `:owner` (see `scripts`). Shared by all:
//! `P:index` (sorted set R → the earliest score of `R`'s `due`: where a due scan starts),
//! `P:next` (the id counter) and `P:total` (how many deliveries are queued).
//!
//! - **Claims.** A due scan only reads; an attempt claims first ([`Store::claim`]): the claim
//!   script checks the copy is current and due, then moves its score to the lease's end and
//!   records the holder. Of two hubs racing for one due delivery, one gets it. A reschedule
//!   sets the next due time and ends the claim; a removal deletes it.
//! - **The index is never late.** It is written after the registration's own keys: lowered
//!   (`ZADD LT`) after a step that can make a delivery earlier, and set to the registration's
//!   earliest score — then read back, and set again if it moved meanwhile — when a scan finds
//!   it early. A concurrent step that lowers a score does so after its own write, so the last
//!   write is never a stale later one.
//! - **Bounded.** At most [`RedisLimits::per_registration`] deliveries of one registration
//!   (beyond, [`Placed::Refused`]: the engine reports the registration exhausted, which a hub
//!   disables and announces) and [`RedisLimits::total`] in all (beyond, the enqueue fails with
//!   [`QueueError::Full`] and queues nothing — what a full disk does to the redb queue: a hub's
//!   fan-out keeps its cursor and tries again).
//! - **Queued once.** A delivery whose message id its registration holds already is not queued
//!   again (two hubs' fan-outs, a retried enqueue): [`Placed::Held`] with the queued id.

mod link;
mod scripts;

use redis::{Commands as _, RedisError};

pub use link::{LinkConnection, RedisLink};

use super::queue::{QueueError, Stored, decode, encode};
use super::store::{LEASE, Placed, Store};

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "push:wq";

/// How much the Redis queue may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisLimits {
    /// The most deliveries of one registration (default 10,000: a receiver down for a day at
    /// one event every 9 s). Beyond, the registration is reported exhausted.
    pub per_registration: u64,
    /// The most deliveries in all (default 200,000: about 300 MiB of Redis memory at 1 KiB
    /// bodies, what a 1 GiB Redis holds beside a stream history). Beyond, enqueues fail.
    pub total: u64,
}

impl Default for RedisLimits {
    fn default() -> Self {
        Self {
            per_registration: 10_000,
            total: 200_000,
        }
    }
}

/// The Redis queue (see the module docs). One connection, used off the async threads.
pub struct RedisQueue {
    link: RedisLink,
    prefix: String,
    limits: RedisLimits,
    /// This handle's claim token (128 random bits).
    token: String,
    scripts: scripts::Scripts,
}

impl core::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("prefix", &self.prefix)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The keys of one registration, in the scripts' order.
struct Keys([String; 6]);

impl RedisQueue {
    /// A queue on the Redis at `url` (`redis://`, `rediss://`), its keys under `prefix`.
    /// Connects at the first use, and again after a failure.
    ///
    /// # Errors
    /// [`QueueError::Backend`] when the URL is not a Redis URL.
    pub fn open(url: &str, prefix: &str, limits: RedisLimits) -> Result<Self, QueueError> {
        Self::on(RedisLink::open(url).map_err(backend)?, prefix, limits)
    }

    /// A queue on `link` (one Redis or a Cluster, see [`RedisLink::build`]), its keys under
    /// `prefix`: each script's keys share one registration's hash tag, so a Cluster runs them
    /// on one node.
    ///
    /// # Errors
    /// [`QueueError::Backend`] when the system has no randomness for the claim token.
    pub fn on(link: RedisLink, prefix: &str, limits: RedisLimits) -> Result<Self, QueueError> {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| QueueError::Backend(Box::new(e)))?;
        Ok(Self {
            link,
            prefix: prefix.to_owned(),
            limits,
            token: random.iter().map(|b| format!("{b:02x}")).collect(),
            scripts: scripts::Scripts::new(),
        })
    }

    fn keys(&self, registration: &str) -> Keys {
        let tag = tag(registration);
        let key = |name: &str| format!("{}:{{{tag}}}:{name}", self.prefix);
        Keys(["items", "due", "held", "msg", "state", "owner"].map(key))
    }

    fn shared(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// Runs `step` on the connection, connecting first if there is none; a failed step drops
    /// the connection, so the next one starts afresh.
    fn with<T>(
        &self,
        step: impl FnOnce(&mut LinkConnection) -> Result<T, RedisError>,
    ) -> Result<T, QueueError> {
        self.link.with(step).map_err(backend)
    }

    /// Sets the index entry of `registration` to its earliest due score (removed when it has
    /// none), read back until it held still (see the module docs).
    fn sync_index(&self, registration: &str) -> Result<(), QueueError> {
        let due = &self.keys(registration).0[1];
        let index = self.shared("index");
        self.with(|c| {
            let mut seen: Option<f64> = earliest(c, due)?;
            for _ in 0..3 {
                match seen {
                    Some(score) => c.zadd::<_, _, _, ()>(&index, registration, score)?,
                    None => c.zrem::<_, _, ()>(&index, registration)?,
                }
                let now = earliest(c, due)?;
                if now == seen {
                    return Ok(());
                }
                seen = now;
            }
            if let Some(score) = seen {
                lower(c, &index, registration, score)?;
            }
            Ok(())
        })
    }
}

fn earliest(c: &mut LinkConnection, due: &str) -> Result<Option<f64>, RedisError> {
    let first: Vec<(String, f64)> = c.zrange_withscores(due, 0, 0)?;
    Ok(first.first().map(|(_, score)| *score))
}

/// `ZADD LT`: the index entry moves earlier only.
fn lower(
    c: &mut LinkConnection,
    index: &str,
    registration: &str,
    score: f64,
) -> Result<(), RedisError> {
    redis::cmd("ZADD")
        .arg(index)
        .arg("LT")
        .arg(score)
        .arg(registration)
        .exec(c)
}

/// A hash tag for `registration`: itself when it has no brace (a hub id is hex), else its bytes
/// in hex — so a tag never ends early and two registrations never share one by accident.
fn tag(registration: &str) -> String {
    if !registration.is_empty() && !registration.contains(['{', '}']) {
        return registration.to_owned();
    }
    let hex: String = registration.bytes().map(|b| format!("{b:02x}")).collect();
    format!("x{hex}")
}

fn state(attempt: u32, due: u64) -> String {
    format!("{attempt}:{due}")
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> QueueError {
    QueueError::Backend(Box::new(e))
}

#[path = "store.rs"]
mod store;
