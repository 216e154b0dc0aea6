//! What the broker, its reader and its subscriptions share: the live state under one lock.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use push_broker::MemoryBroker;
use push_core::{Cursor, Delivery, Gap, GapReason, Published};
use tokio::sync::broadcast;

use crate::layout::{self, deployment_epoch};
use crate::store::{Conn, Store};

/// The reader's state, read by subscriptions when they open.
#[derive(Debug)]
pub(crate) struct Live {
    /// Each partition's epoch, and the deployment epoch mixed from them.
    pub(crate) epochs: Vec<u64>,
    pub(crate) epoch: u64,
    /// The watermark: every entry at or below it has been relayed to the local fan-out (or
    /// was in Redis before the reader started); nothing at or below it can still appear.
    pub(crate) released: Cursor,
    /// The newest event sent (offset 0 before any).
    pub(crate) head: Cursor,
    /// What every local subscription hears besides its events: a new epoch, the end, and an
    /// event the local fan-out refused (to be replayed from Redis by those who want it). Sent
    /// to only through [`Shared::announce`], which keeps the count subscriptions skip by.
    pub(crate) control: broadcast::Sender<Delivery>,
}

/// How many announcements the control channel holds for a subscription that has not read
/// them (a subscription further behind replays from its cursor).
pub(crate) const CONTROL: usize = 64;

/// The publisher ids this process can resolve, oldest first, bounded: those in Redis' id index
/// when the broker connected (or when an epoch changed), then every id the reader releases.
/// Between the two every retained id is here: the index is read after the reader's starting
/// clock, so an entry is either in what was read or after where the reader starts.
#[derive(Debug, Default)]
pub(crate) struct IdIndex {
    map: HashMap<String, Cursor>,
    order: VecDeque<String>,
}

impl IdIndex {
    /// Remembers the first cursor of `id`, forgetting the oldest past `bound`.
    pub(crate) fn insert(&mut self, id: &str, cursor: Cursor, bound: usize) {
        if bound == 0 || self.map.contains_key(id) {
            return;
        }
        while self.order.len() >= bound {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        self.map.insert(id.to_owned(), cursor);
        self.order.push_back(id.to_owned());
    }

    pub(crate) fn get(&self, id: &str) -> Option<Cursor> {
        self.map.get(id).copied()
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }
}

/// Everything one broker's tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Store,
    /// Publishes, replays and loss checks (reconnects by itself).
    pub(crate) conn: Conn,
    live: Mutex<Live>,
    /// The local fan-out: released events are relayed into it, under the `live` lock, and a
    /// subscription follows it (live only) from the watermark it opened at.
    pub(crate) local: MemoryBroker,
    pub(crate) ids: Mutex<IdIndex>,
    pub(crate) healthy: AtomicBool,
    pub(crate) closed: AtomicBool,
    /// Counts announcements on the control channel, twice each: odd while one is being sent,
    /// even once it is in the channel. A subscription that found the channel empty when the
    /// count was even skips the channel (and its shared locks) until the count moves.
    pub(crate) announced: AtomicU64,
}

/// Locks, recovering from a panic elsewhere (the state stays consistent: every update is one
/// assignment under the lock).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(store: Store, conn: Conn, live: Live, local: MemoryBroker) -> Arc<Self> {
        Arc::new(Self {
            store,
            conn,
            live: Mutex::new(live),
            local,
            ids: Mutex::new(IdIndex::default()),
            healthy: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            announced: AtomicU64::new(0),
        })
    }

    pub(crate) fn live(&self) -> MutexGuard<'_, Live> {
        lock(&self.live)
    }

    /// Sends `announcement` to every local subscription. Called under the `live` lock (`live`
    /// is its guard), so announcements never overlap and the count's parity is exact.
    pub(crate) fn announce(&self, live: &Live, announcement: Delivery) {
        // The first step comes before the send: a subscription the send wakes sees it moved.
        self.announced.fetch_add(1, Ordering::AcqRel);
        let _ = live.control.send(announcement);
        self.announced.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::Relaxed);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Records partition epochs read from Redis. When the deployment epoch changes, every
    /// local subscriber is told (`UnknownEpoch`, resume at the new epoch's start) and the id
    /// index is dropped. Returns whether it changed.
    pub(crate) fn set_epochs(&self, changes: impl IntoIterator<Item = (u16, u64)>) -> bool {
        let mut live = self.live();
        let mut changed = false;
        for (q, epoch) in changes {
            if let Some(slot) = live.epochs.get_mut(usize::from(q))
                && *slot != epoch
            {
                *slot = epoch;
                changed = true;
            }
        }
        if !changed {
            return false;
        }
        let epoch = deployment_epoch(&live.epochs);
        live.epoch = epoch;
        live.head = Cursor::new(epoch, 0);
        live.released = layout::watermark(epoch, live.released.offset());
        self.announce(
            &live,
            Delivery::Gap(Gap {
                reason: GapReason::UnknownEpoch,
                resume: Cursor::new(epoch, 0),
            }),
        );
        drop(live);
        lock(&self.ids).clear();
        true
    }

    /// Fills the id index from Redis' (see [`IdIndex`]), in cursor order.
    pub(crate) async fn load_ids(&self) -> redis::RedisResult<()> {
        let found = self.store.ids(&self.conn).await?;
        let epoch = self.live().epoch;
        let mut placed: Vec<(Cursor, String)> = found
            .into_iter()
            .filter_map(|(q, id, at)| Some((at.cursor(epoch, q)?, id)))
            .collect();
        placed.sort();
        let bound = self.store.config.id_index;
        let mut ids = lock(&self.ids);
        for (cursor, id) in placed {
            ids.insert(&id, cursor, bound);
        }
        Ok(())
    }

    /// Relays released events to the local fan-out in cursor order (those a local
    /// subscription may want) and moves the watermark to `watermark`.
    pub(crate) fn release(&self, events: Vec<Arc<Published>>, watermark: Cursor) {
        let bound = self.store.config.id_index;
        {
            let mut ids = lock(&self.ids);
            for p in &events {
                if let Some(id) = &p.event().id {
                    ids.insert(id, p.cursor(), bound);
                }
            }
        }
        let mut live = self.live();
        // While a pattern subscription is open every event is relayed; otherwise only those on
        // a topic with a local subscriber.
        let every = self.local.pattern_subscription_count() > 0;
        for p in events {
            live.head = p.cursor();
            let wanted = every
                || p.topics()
                    .iter()
                    .any(|t| self.local.subscriber_count(t) > 0);
            if wanted && let Err(e) = self.local.relay(Arc::clone(&p)) {
                // Past the fan-out's topic limit (or closing): the subscriptions that want it
                // hear it on the control channel and replay it from Redis.
                tracing::debug!(%e, "push-redis: the local fan-out refused an event");
                self.announce(&live, Delivery::Event(p));
            }
        }
        if watermark > live.released {
            live.released = watermark;
        }
    }
}
