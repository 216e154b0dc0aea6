//! What the engine needs of a durable queue: [`Store`]. Two implement it — [`Queue`] (redb,
//! embedded, one process) and, with the `redis` feature, `RedisQueue` (shared by every hub that
//! points at one Redis).
//!
//! The contract every implementation keeps:
//! - [`Store::enqueue_in_lanes`] is one atomic step per registration, durable when it returns
//!   (a hub acknowledges the publish after it); ids are unique in the store and grow with each
//!   enqueue.
//! - A delivery leaves the store only through [`Store::remove_and_release`] (after its 2xx, or
//!   when it is over for good); a crash at any point leaves it queued.
//! - **One holder per attempt.** [`Store::claim`] is asked before each attempt, with the copy
//!   the attempt would send. It answers true only when that copy is still current (the same
//!   attempt number and due time as stored: an attempt recorded meanwhile makes every older
//!   copy stale) and no other holder's claim is live. A true answer holds the delivery for
//!   [`LEASE`] (or until it is rescheduled or removed): a holder that dies loses its claim when
//!   the lease runs out, and another takes the delivery up. Within one process the engine's
//!   slots already keep one task per delivery; the claim is what makes a stale read, or a
//!   second process, harmless.
//!
//! [`Queue`]: super::Queue

use std::time::Duration;

use super::queue::{QueueError, Stored};

/// How long a claim holds a delivery. Longer than an attempt may take (the policy's timeout,
/// 15 s by default, plus the store's own round trips), so a live holder never loses its claim
/// mid-attempt; short enough that a dead hub's deliveries go out within a minute.
pub const LEASE: Duration = Duration::from_secs(60);

/// Where a delivery went when it was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// Queued and released: attempt it now (its id).
    Released(u64),
    /// Queued behind its lane's released deliveries (its id): attempted when one of them ends.
    /// Also a delivery its registration holds already (the same message id): the queued one's
    /// id.
    Held(u64),
    /// Not queued: its registration holds as many deliveries as the store allows one. The
    /// engine reports it to its observer as [`Next::Exhausted`](crate::Next::Exhausted).
    Refused,
}

impl Placed {
    /// The id the store gave the delivery, if it was queued.
    #[must_use]
    pub fn id(self) -> Option<u64> {
        match self {
            Self::Released(id) | Self::Held(id) => Some(id),
            Self::Refused => None,
        }
    }
}

/// A durable delivery queue (see the module docs). Every method blocks (a disk, a network
/// round trip): the engine calls them off its async threads.
pub trait Store: core::fmt::Debug + Send + Sync + 'static {
    /// Queues deliveries, each in its registration's lane, whose limit `limit` tells (at least
    /// 1): where each went, in order. `attempt`, `due` and `created` are kept; `id` is
    /// assigned.
    ///
    /// # Errors
    /// [`QueueError`]: nothing was queued (a full disk, a store at its limit, a lost server).
    fn enqueue_in_lanes(
        &self,
        deliveries: &[Stored],
        limit: &dyn Fn(&str) -> u32,
    ) -> Result<Vec<Placed>, QueueError>;

    /// The released deliveries due at `now` (Unix milliseconds) that `take` accepts, the
    /// earliest first, looking at no more than `scan` due entries. A candidate is not yet held:
    /// its attempt task asks [`Store::claim`] first.
    ///
    /// # Errors
    /// [`QueueError`].
    fn due_where(
        &self,
        now: u64,
        scan: usize,
        take: &mut dyn FnMut(&Stored) -> bool,
    ) -> Result<Vec<Stored>, QueueError>;

    /// When the earliest released delivery falls due (Unix milliseconds; a claimed one, when its
    /// lease runs out), if any.
    ///
    /// # Errors
    /// [`QueueError`].
    fn next_due(&self) -> Result<Option<u64>, QueueError>;

    /// Holds `delivery` for one attempt at `now` (see the module docs): false when the copy is
    /// stale, the delivery is gone or held by another.
    ///
    /// # Errors
    /// [`QueueError`].
    fn claim(&self, delivery: &Stored, now: u64) -> Result<bool, QueueError>;

    /// Records a failed attempt: the next is number `attempt`, due at `due`; the claim ends.
    ///
    /// # Errors
    /// [`QueueError`]; [`QueueError::Corrupt`] when `delivery` is not queued.
    fn reschedule(&self, delivery: &Stored, attempt: u32, due: u64) -> Result<(), QueueError>;

    /// Removes a delivery and releases the first held one of its lane, which it returns (due
    /// at once).
    ///
    /// # Errors
    /// [`QueueError`].
    fn remove_and_release(&self, delivery: &Stored) -> Result<Option<Stored>, QueueError>;

    /// How many deliveries are queued (released and held).
    ///
    /// # Errors
    /// [`QueueError`].
    fn len(&self) -> Result<u64, QueueError>;

    /// When the oldest queued delivery was queued (Unix milliseconds), if any.
    ///
    /// # Errors
    /// [`QueueError`].
    fn oldest(&self) -> Result<Option<u64>, QueueError>;

    /// Whether the queue is empty.
    ///
    /// # Errors
    /// [`QueueError`].
    fn is_empty(&self) -> Result<bool, QueueError> {
        Ok(self.len()? == 0)
    }
}

/// A boxed store is a store: a caller choosing its queue at run time (a hub: redb, or Redis
/// under `--redis`) hands the engine the one it chose.
impl Store for Box<dyn Store> {
    fn enqueue_in_lanes(
        &self,
        deliveries: &[Stored],
        limit: &dyn Fn(&str) -> u32,
    ) -> Result<Vec<Placed>, QueueError> {
        (**self).enqueue_in_lanes(deliveries, limit)
    }

    fn due_where(
        &self,
        now: u64,
        scan: usize,
        take: &mut dyn FnMut(&Stored) -> bool,
    ) -> Result<Vec<Stored>, QueueError> {
        (**self).due_where(now, scan, take)
    }

    fn next_due(&self) -> Result<Option<u64>, QueueError> {
        (**self).next_due()
    }

    fn claim(&self, delivery: &Stored, now: u64) -> Result<bool, QueueError> {
        (**self).claim(delivery, now)
    }

    fn reschedule(&self, delivery: &Stored, attempt: u32, due: u64) -> Result<(), QueueError> {
        (**self).reschedule(delivery, attempt, due)
    }

    fn remove_and_release(&self, delivery: &Stored) -> Result<Option<Stored>, QueueError> {
        (**self).remove_and_release(delivery)
    }

    fn len(&self) -> Result<u64, QueueError> {
        (**self).len()
    }

    fn oldest(&self) -> Result<Option<u64>, QueueError> {
        (**self).oldest()
    }
}
