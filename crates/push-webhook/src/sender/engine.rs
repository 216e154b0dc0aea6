//! The delivery engine: the durable [`Queue`], the kinds of delivery ([`Deliver`]: webhooks
//! through the [`Sender`], Web Push, …) and the [`Policy`] together. Every kind shares the one
//! queue, schedule, fast phase and restart recovery; a kind only makes attempts.
//!
//! [`Engine::publish`] commits the deliveries to the queue and only then returns (a hub
//! acknowledges the publish after it), then makes the fast attempts from memory, each failure
//! recorded in the queue before the next. After the fast phase the delivery leaves memory: the
//! [`Engine::run`] loop reads it back from the queue when it falls due. A delivery leaves the
//! queue only after its success, when its target is gone (`410`), when it is refused for good,
//! or at the end of the schedule. Nothing is lost to a crash at
//! any point: whatever step a crash interrupts, the queue still holds the delivery, due at the
//! time of its next attempt, and `run` sends it after the restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

use super::client::Sender;
use super::deliver::{Deliver, Kind, Signers, Webhooks};
use super::queue::{QueueError, Stored};
use super::slots::Slots;
use super::store::{Placed, Store};
use crate::policy::{Next, Outcome, Policy};

/// Told every attempt's result (for metrics, logs, and disabling a registration on
/// [`Next::Disable`] / [`Next::Exhausted`] / [`Next::Forbidden`]).
pub type Observer = Arc<dyn Fn(&Stored, Next) + Send + Sync>;

/// How many due entries `run` looks at per round, past those it cannot take up now (in memory
/// already, or no free slot for their origin): a bounded read however long the backlog.
const SCAN: usize = 4096;
/// The longest `run` sleeps without looking at the queue.
const IDLE: Duration = Duration::from_secs(1);

/// The delivery engine (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Box<dyn Store>,
    policy: Policy,
    /// The delivery kinds this engine runs, by their stored number.
    kinds: HashMap<Kind, Arc<dyn Deliver>>,
    observer: Option<Observer>,
    /// The deliveries with an attempt task in memory.
    slots: Mutex<Slots>,
    wake: Notify,
    /// How many deliveries of a registration may be attempted at once (see
    /// [`Engine::with_lanes`]); unset, all of them.
    lanes: std::sync::OnceLock<Lanes>,
}

/// The lane limit of a registration by its hub id: how many of its deliveries may be in
/// flight at once (1: in cursor order).
pub type Lanes = Arc<dyn Fn(&str) -> u32 + Send + Sync>;

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut kinds: Vec<Kind> = self.inner.kinds.keys().copied().collect();
        kinds.sort_unstable();
        f.debug_struct("Engine")
            .field("queue", &self.inner.queue)
            .field("policy", &self.inner.policy)
            .field("kinds", &kinds)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A webhook engine over `queue`, sending with `sender` on `policy`'s schedule.
    #[must_use]
    pub fn new(queue: impl Store, sender: Sender, policy: Policy, signers: Signers) -> Self {
        Self::with_observer(queue, sender, policy, signers, None)
    }

    /// A webhook engine that tells `observer` every attempt's result.
    #[must_use]
    pub fn with_observer(
        queue: impl Store,
        sender: Sender,
        policy: Policy,
        signers: Signers,
        observer: Option<Observer>,
    ) -> Self {
        let webhooks: Arc<dyn Deliver> = Arc::new(Webhooks::new(sender, signers));
        Self::with_kinds(queue, policy, [(Kind::WEBHOOK, webhooks)], observer)
    }

    /// An engine running the given kinds of delivery over one queue, one schedule and one
    /// `run` loop. A queued delivery of a kind not given here is retried on the schedule (a
    /// restart with the kind configured again delivers it), never dropped unseen.
    #[must_use]
    pub fn with_kinds(
        queue: impl Store,
        policy: Policy,
        kinds: impl IntoIterator<Item = (Kind, Arc<dyn Deliver>)>,
        observer: Option<Observer>,
    ) -> Self {
        let slots = Slots::new(policy.max_in_memory, policy.max_in_memory_per_origin);
        Self {
            inner: Arc::new(Inner {
                queue: Box::new(queue),
                policy,
                kinds: kinds.into_iter().collect(),
                observer,
                slots: Mutex::new(slots),
                wake: Notify::new(),
                lanes: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The same engine with each registration's deliveries in a lane of `lanes(registration)`
    /// deliveries in flight at most (the queue holds the others back, in order, and releases
    /// the next when one is over: a lane of 1 delivers in cursor order). Set it before the
    /// first publish; a second call is ignored.
    #[must_use]
    pub fn with_lanes(self, lanes: Lanes) -> Self {
        let _ = self.inner.lanes.set(lanes);
        self
    }

    /// The queue (for metrics: depth, next due).
    #[must_use]
    pub fn queue(&self) -> &dyn Store {
        &*self.inner.queue
    }

    /// How many deliveries are in memory (in their fast phase, or taken up from the queue).
    #[must_use]
    pub fn in_memory(&self) -> usize {
        self.inner.slots().len()
    }

    /// Queues deliveries of one event (one per registration) in one durable commit, then starts
    /// their fast attempts — those that get a slot ([`Policy::max_in_memory`], per origin
    /// [`Policy::max_in_memory_per_origin`]); the others wait in the queue, due, for `run`.
    /// `attempt`, `due` and `created` of each are set here. Returns when the commit is on disk:
    /// acknowledge the publish after this.
    ///
    /// # Errors
    /// [`QueueError`]: nothing was queued; refuse the publish.
    pub async fn publish(&self, mut deliveries: Vec<Stored>) -> Result<(), QueueError> {
        let now = unix_millis(wall_clock());
        let due = unix_millis(self.inner.policy.first_attempt(wall_clock()));
        for d in &mut deliveries {
            (d.attempt, d.due, d.created) = (1, due, now);
        }
        let inner = Arc::clone(&self.inner);
        let (placed, deliveries) = tokio::task::spawn_blocking(move || {
            let placed = match inner.lanes.get() {
                Some(lanes) => inner.queue.enqueue_in_lanes(&deliveries, &**lanes),
                None => inner.queue.enqueue_in_lanes(&deliveries, &|_| u32::MAX),
            };
            placed.map(|placed| (placed, deliveries))
        })
        .await
        .map_err(|_| QueueError::Corrupt(0))??;
        let mut left_queued = false;
        for (placed, mut delivery) in placed.into_iter().zip(deliveries) {
            // A held delivery is started when its lane releases it.
            match placed {
                Placed::Released(id) => {
                    delivery.id = id;
                    left_queued |= !spawn(&self.inner, delivery);
                }
                // Its registration holds all the store allows: as if its schedule were spent.
                Placed::Refused => {
                    if let Some(observer) = &self.inner.observer {
                        observer(&delivery, Next::Exhausted);
                    }
                }
                Placed::Held(_) => {}
            }
        }
        if left_queued {
            self.inner.wake.notify_one();
        }
        Ok(())
    }

    /// Sends what falls due in the queue, forever: deliveries past their fast phase, those that
    /// found no free slot, and after a restart every delivery the queue holds. Run it once per
    /// engine, on its own task.
    pub async fn run(&self) {
        loop {
            let now = unix_millis(wall_clock());
            let inner = Arc::clone(&self.inner);
            let due = tokio::task::spawn_blocking(move || {
                // Taking a slot here, in the read, so the scan stops mattering once all are taken.
                // A copy read here may be stale by the time its task runs (an attempt that just
                // ended recorded it): the task's claim finds that out before anything is sent.
                let due = inner
                    .queue
                    .due_where(now, SCAN, &mut |d| inner.slots().admit(d))?;
                Ok::<_, QueueError>((due, inner.queue.next_due()?))
            })
            .await;
            let wait = match due {
                Ok(Ok((due, next_due))) => {
                    for delivery in due {
                        tokio::spawn(attempts(Arc::clone(&self.inner), delivery));
                    }
                    match next_due {
                        // A backlog waiting for slots: an ending attempt wakes us.
                        Some(at) if at <= now => IDLE,
                        Some(at) => Duration::from_millis(at - now),
                        None => IDLE,
                    }
                }
                // A failing disk: try again after the idle wait.
                _ => IDLE,
            };
            tokio::select! {
                () = tokio::time::sleep(wait.clamp(Duration::from_millis(10), IDLE)) => {}
                () = self.inner.wake.notified() => {}
            }
        }
    }
}

impl Inner {
    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts an attempt task for `delivery` if it gets a slot (none in memory already, and room
/// in all and for its origin); false when it stays in the queue, due, for `run`.
fn spawn(inner: &Arc<Inner>, delivery: Stored) -> bool {
    let admitted = inner.slots().admit(&delivery);
    if admitted {
        tokio::spawn(attempts(Arc::clone(inner), delivery));
    }
    admitted
}

/// Attempts `delivery` until it is done or leaves memory for the queue.
async fn attempts(inner: Arc<Inner>, mut delivery: Stored) {
    loop {
        let wait = delivery.due.saturating_sub(unix_millis(wall_clock()));
        tokio::time::sleep(Duration::from_millis(wait)).await;
        // One holder per attempt: a copy made stale by an attempt recorded meanwhile (a due scan
        // that raced it), a delivery gone, or one another hub holds, is not sent.
        if !claim(&inner, &delivery).await {
            break;
        }
        let next = attempt(&inner, &delivery).await;
        if let Some(observer) = &inner.observer {
            observer(&delivery, next);
        }
        let step = Arc::clone(&inner);
        let current = delivery.clone();
        let stored = tokio::task::spawn_blocking(move || match next {
            Next::Retry { at, attempt, .. } => step
                .queue
                .reschedule(&current, attempt, unix_millis(at))
                .map(|()| None),
            // Delivered, disabled, discarded or exhausted: the delivery is over, and the next
            // of its lane goes.
            _ => step.queue.remove_and_release(&current),
        })
        .await;
        let stored = match stored {
            Ok(Ok(released)) => {
                if let Some(released) = released
                    && !spawn(&inner, released)
                {
                    inner.wake.notify_one();
                }
                Ok(Ok(()))
            }
            Ok(Err(e)) => Ok(Err(e)),
            Err(e) => Err(e),
        };
        match (next, stored) {
            (
                Next::Retry {
                    at,
                    attempt,
                    durable,
                },
                Ok(Ok(())),
            ) if !durable => {
                delivery.attempt = attempt;
                delivery.due = unix_millis(at);
            }
            // Done, durable (the queue has it), or the queue failed (it keeps the last state,
            // which is due: `run` retries it).
            _ => break,
        }
    }
    inner.slots().release(&delivery);
    // A delivery waiting for this slot may be taken up now.
    inner.wake.notify_one();
}

/// Whether this engine holds `delivery` for its next attempt ([`Store::claim`]); a failing
/// store answers no (the delivery stays queued, and `run` takes it up again).
async fn claim(inner: &Arc<Inner>, delivery: &Stored) -> bool {
    let step = Arc::clone(inner);
    let copy = delivery.clone();
    let now = unix_millis(wall_clock());
    matches!(
        tokio::task::spawn_blocking(move || step.queue.claim(&copy, now)).await,
        Ok(Ok(true))
    )
}

async fn attempt(inner: &Inner, delivery: &Stored) -> Next {
    let outcome = match inner.kinds.get(&delivery.kind) {
        Some(kind) => kind.deliver(delivery, wall_clock()).await,
        // No such kind here (a hub started without it): a failed attempt, kept on the schedule.
        None => Outcome::Transport,
    };
    let mut random = [0; 4];
    // Without randomness the jitter is zero: the schedule still holds.
    let _ = getrandom::fill(&mut random);
    inner.policy.next(
        delivery.attempt,
        outcome,
        wall_clock(),
        u32::from_ne_bytes(random),
    )
}

#[expect(
    clippy::disallowed_methods,
    reason = "the engine is the one part that reads the clock"
)]
fn wall_clock() -> SystemTime {
    SystemTime::now()
}

fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
