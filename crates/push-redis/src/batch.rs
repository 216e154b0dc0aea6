//! The publish batcher: concurrent publishes to one partition share one script call.
//!
//! Each partition has a lane: a bounded queue and one task. The task takes the first publish
//! queued and every one queued behind it (up to [`Config::with_publish_batch`]'s count and
//! bytes), appends them with one `EVALSHA` (and, in durable mode, one `WAIT`), and hands each
//! publisher its own entry id or the batch's error. Up to [`Config::with_publish_in_flight`]
//! calls are in flight at once; while they are, the next batch accumulates — a group commit, as
//! push-broker's committer does for its journal, pipelined on the connection.
//!
//! Invariants:
//! - A publish resolves only after the call that holds its entry returned: success means Redis
//!   has the entry (and, durable, the replicas acknowledged the batch).
//! - Order: a lane takes publishes in the order they were queued and the script appends a
//!   batch's in that order. Batches in flight at once are not ordered against each other (one
//!   connection sends them in order, but a Cluster may redirect one), and need not be: a
//!   publisher's next publish is queued only once its previous one returned, so it is in a
//!   later batch than a call that already completed. So one publisher's publishes to a
//!   partition keep their order, and their ids increase.
//! - A failed call fails every publisher of its batch (`BrokerUnavailable`): none is told it
//!   succeeded when the call did not return. The script writes nothing before its first
//!   `XADD`, and Redis runs it atomically; an error inside it after some `XADD`s (which Redis
//!   does not roll back) makes those entries at-least-once towards the publisher, as durable
//!   mode's failed `WAIT` does.
//! - Memory is bounded: a lane queues at most [`LANE_QUEUE`] publishes (a publisher past it
//!   waits for room), a batch at most the configured count and bytes.
//! - Trims are not per publish: a lane asks the script to trim once [`Config::with_trim_every`]
//!   publishes went out since its last trim, or a second passed, so the history exceeds its
//!   bounds by at most that many entries per publishing process.
//! - The tasks end when the broker is dropped (their queues close); a task that is gone makes
//!   its publishes fail with `BrokerClosed`, never wait.
//! - An idle lane is skipped: a publish that finds its lane's queue empty and no call in flight
//!   makes its one-entry call itself, in its own task (two task hand-overs fewer on a quiet
//!   partition). It counts as a call in flight meanwhile, so publishes that come during it
//!   queue and batch as above. Order is unchanged: a publisher's next publish starts only once
//!   this one returned. Dropped midway, it loses only its own answer, as any publish would.
//!
//! [`Config::with_publish_batch`]: crate::Config::with_publish_batch
//! [`Config::with_publish_in_flight`]: crate::Config::with_publish_in_flight
//! [`Config::with_trim_every`]: crate::Config::with_trim_every

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use push_core::Error;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::layout::EntryId;
use crate::store::{Conn, Entry, Store};

/// The most publishes waiting in one partition's lane: room for a few batches of the default
/// size, so publishers past it wait rather than queue without bound.
pub(crate) const LANE_QUEUE: usize = 1024;

/// A trim runs at least this often while a partition is published to (the age bound's
/// precision on a partition that sees fewer than `trim_every` publishes a second).
const TRIM_INTERVAL: Duration = Duration::from_secs(1);

/// What a publisher gets back: its entry id and the partition's epoch.
pub(crate) type Outcome = Result<(EntryId, u64), Error>;

struct Job {
    entry: Entry,
    reply: oneshot::Sender<Outcome>,
}

/// The lanes of one broker, one per partition.
#[derive(Debug)]
pub(crate) struct Batcher {
    lanes: Vec<Lane>,
    store: Store,
    conn: Conn,
}

/// One partition's queue and what its task and the idle-lane path share.
#[derive(Debug)]
struct Lane {
    queue: mpsc::Sender<Job>,
    shared: Arc<LaneState>,
}

#[derive(Debug, Default)]
struct LaneState {
    /// Calls in flight, the lane task's and the idle-lane path's.
    flying: AtomicUsize,
    trims: Mutex<Trims>,
}

/// When the lane's last trim was: a call trims once `trim_every` publishes went out since, or
/// [`TRIM_INTERVAL`] passed (the first call trims: a process that publishes rarely still bounds
/// the history).
#[derive(Debug, Default)]
struct Trims {
    since: usize,
    last: Option<Instant>,
}

impl LaneState {
    /// Whether a call of `count` publishes trims.
    fn trim(&self, count: usize, every: usize) -> bool {
        let mut trims = self
            .trims
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        trims.since = trims.since.saturating_add(count);
        let due = trims.last.is_none()
            || trims.since >= every
            || trims.last.is_some_and(|t| t.elapsed() >= TRIM_INTERVAL);
        if due {
            trims.since = 0;
            trims.last = Some(Instant::now());
        }
        due
    }
}

/// Counts a call in flight on its lane until dropped.
struct Flying(Arc<LaneState>);

impl Flying {
    fn new(state: &Arc<LaneState>) -> Self {
        state.flying.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(state))
    }
}

impl Drop for Flying {
    fn drop(&mut self) {
        self.0.flying.fetch_sub(1, Ordering::AcqRel);
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("entry", &self.entry).finish()
    }
}

impl Batcher {
    /// Starts one lane task per partition on the current runtime.
    pub(crate) fn start(store: &Store, conn: &Conn) -> Self {
        let lanes = (0..store.keys.partitions())
            .map(|q| {
                let (tx, rx) = mpsc::channel(LANE_QUEUE);
                let shared = Arc::new(LaneState::default());
                tokio::spawn(lane(
                    store.clone(),
                    conn.clone(),
                    q,
                    rx,
                    Arc::clone(&shared),
                ));
                Lane { queue: tx, shared }
            })
            .collect();
        Self {
            lanes,
            store: store.clone(),
            conn: conn.clone(),
        }
    }

    /// Queues `entry` for `partition` and waits for the call that appends it.
    pub(crate) async fn publish(&self, partition: u16, entry: Entry) -> Outcome {
        let lane = self
            .lanes
            .get(usize::from(partition))
            .ok_or(Error::BrokerClosed)?;
        let idle = lane.queue.capacity() == lane.queue.max_capacity()
            && lane.shared.flying.load(Ordering::Acquire) == 0;
        if idle && !lane.queue.is_closed() {
            let _flying = Flying::new(&lane.shared);
            let trim = lane.shared.trim(1, self.store.config.trim_every);
            let (ids, epoch) =
                append(&self.store, self.conn.clone(), partition, &[&entry], trim).await?;
            // `Store::publish` checked that there is one id per entry.
            return ids
                .first()
                .map(|&id| (id, epoch))
                .ok_or(Error::BrokerUnavailable);
        }
        let (reply, outcome) = oneshot::channel();
        lane.queue
            .send(Job { entry, reply })
            .await
            .map_err(|_| Error::BrokerClosed)?;
        outcome.await.unwrap_or(Err(Error::BrokerClosed))
    }
}

/// One partition's lane: batch after batch until the broker is dropped, up to
/// `publish_in_flight` calls at once.
async fn lane(
    store: Store,
    conn: Conn,
    partition: u16,
    mut queue: mpsc::Receiver<Job>,
    state: Arc<LaneState>,
) {
    let (max_count, max_bytes) = store.config.publish_batch;
    let in_flight = store.config.publish_in_flight;
    let every = store.config.trim_every;
    let mut carry: Option<Job> = None;
    let mut open = true;
    let mut flying = FuturesUnordered::new();
    loop {
        let room = flying.len() < in_flight;
        let first = match carry.take() {
            Some(job) if room => job,
            held => {
                carry = held;
                tokio::select! {
                    biased;
                    Some(()) = flying.next(), if !flying.is_empty() => continue,
                    job = queue.recv(), if room && open && carry.is_none() => match job {
                        Some(job) => job,
                        None => {
                            open = false;
                            continue;
                        }
                    },
                    else => return,
                }
            }
        };
        let mut bytes = first.entry.bytes();
        let mut batch = vec![first];
        while batch.len() < max_count {
            let Ok(job) = queue.try_recv() else { break };
            let size = job.entry.bytes();
            if bytes.saturating_add(size) > max_bytes {
                carry = Some(job);
                break;
            }
            bytes += size;
            batch.push(job);
        }
        let trim = state.trim(batch.len(), every);
        let counted = Flying::new(&state);
        let (store, conn) = (&store, conn.clone());
        flying.push(async move {
            let _counted = counted;
            call(store, conn, partition, batch, trim).await;
        });
    }
}

/// One script call appending `entries`: their ids and the partition's epoch, or the failure
/// every publisher of the call gets.
async fn append(
    store: &Store,
    mut conn: Conn,
    partition: u16,
    entries: &[&Entry],
    trim: bool,
) -> Result<(Vec<EntryId>, u64), Error> {
    store
        .publish(&mut conn, partition, entries, trim)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, partition, publishes = entries.len(), "push-redis: publish failed");
            Error::BrokerUnavailable
        })
}

/// One batch's script call; every publisher of the batch gets its id or the call's failure.
async fn call(store: &Store, conn: Conn, partition: u16, batch: Vec<Job>, trim: bool) {
    let entries: Vec<&Entry> = batch.iter().map(|j| &j.entry).collect();
    match append(store, conn, partition, &entries, trim).await {
        Ok((ids, epoch)) => {
            for (job, id) in batch.into_iter().zip(ids) {
                let _ = job.reply.send(Ok((id, epoch)));
            }
        }
        Err(e) => {
            for job in batch {
                let _ = job.reply.send(Err(e));
            }
        }
    }
}
