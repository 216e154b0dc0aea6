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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

use super::client::Sender;
use super::deliver::{Deliver, Kind, Signers, Webhooks};
use super::queue::{Queue, QueueError, Stored};
use crate::policy::{Next, Outcome, Policy};

/// Told every attempt's result (for metrics, logs, and disabling a registration on
/// [`Next::Disable`] / [`Next::Exhausted`]).
pub type Observer = Arc<dyn Fn(&Stored, Next) + Send + Sync>;

/// How many due deliveries `run` reads from the queue at once.
const BATCH: usize = 64;
/// The longest `run` sleeps without looking at the queue.
const IDLE: Duration = Duration::from_secs(1);

/// The delivery engine (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Queue,
    policy: Policy,
    /// The delivery kinds this engine runs, by their stored number.
    kinds: HashMap<Kind, Arc<dyn Deliver>>,
    observer: Option<Observer>,
    /// Queue ids with an attempt task in memory.
    in_flight: Mutex<HashSet<u64>>,
    wake: Notify,
}

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
    pub fn new(queue: Queue, sender: Sender, policy: Policy, signers: Signers) -> Self {
        Self::with_observer(queue, sender, policy, signers, None)
    }

    /// A webhook engine that tells `observer` every attempt's result.
    #[must_use]
    pub fn with_observer(
        queue: Queue,
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
        queue: Queue,
        policy: Policy,
        kinds: impl IntoIterator<Item = (Kind, Arc<dyn Deliver>)>,
        observer: Option<Observer>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                queue,
                policy,
                kinds: kinds.into_iter().collect(),
                observer,
                in_flight: Mutex::new(HashSet::new()),
                wake: Notify::new(),
            }),
        }
    }

    /// The queue (for metrics: depth, next due).
    #[must_use]
    pub fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    /// Queues deliveries of one event (one per registration) in one durable commit, then starts
    /// their fast attempts. `attempt`, `due` and `created` of each are set here. Returns when
    /// the commit is on disk: acknowledge the publish after this.
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
        let (ids, deliveries) = tokio::task::spawn_blocking(move || {
            inner
                .queue
                .enqueue(&deliveries)
                .map(|ids| (ids, deliveries))
        })
        .await
        .map_err(|_| QueueError::Corrupt(0))??;
        for (id, mut delivery) in ids.into_iter().zip(deliveries) {
            delivery.id = id;
            self.spawn(delivery);
        }
        Ok(())
    }

    /// Sends what falls due in the queue, forever: deliveries past their fast phase, and after
    /// a restart every delivery the queue holds. Run it once per engine, on its own task.
    pub async fn run(&self) {
        loop {
            let now = unix_millis(wall_clock());
            let inner = Arc::clone(&self.inner);
            let due = tokio::task::spawn_blocking(move || {
                let due = inner.queue.due(now, BATCH)?;
                Ok::<_, QueueError>((due, inner.queue.next_due()?))
            })
            .await;
            let next_due = match due {
                Ok(Ok((due, next_due))) => {
                    for delivery in due {
                        self.spawn(delivery);
                    }
                    next_due
                }
                // A failing disk: try again after the idle wait.
                _ => None,
            };
            let wait = next_due
                .map_or(IDLE, |at| Duration::from_millis(at.saturating_sub(now)))
                .clamp(Duration::from_millis(10), IDLE);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.inner.wake.notified() => {}
            }
        }
    }

    /// Starts an attempt task for `delivery` unless one is in memory already.
    fn spawn(&self, delivery: Stored) {
        let fresh = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(delivery.id);
        if fresh {
            tokio::spawn(attempts(Arc::clone(&self.inner), delivery));
        }
    }
}

/// Attempts `delivery` until it is done or leaves memory for the queue.
async fn attempts(inner: Arc<Inner>, mut delivery: Stored) {
    let id = delivery.id;
    loop {
        let wait = delivery.due.saturating_sub(unix_millis(wall_clock()));
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let next = attempt(&inner, &delivery).await;
        if let Some(observer) = &inner.observer {
            observer(&delivery, next);
        }
        let step = Arc::clone(&inner);
        let current = delivery.clone();
        let stored = tokio::task::spawn_blocking(move || match next {
            Next::Retry { at, attempt, .. } => {
                step.queue.reschedule(&current, attempt, unix_millis(at))
            }
            // Delivered, disabled, discarded or exhausted: the delivery is over.
            _ => step.queue.remove(&current),
        })
        .await;
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
    inner
        .in_flight
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&id);
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
