//! The broker: a map of topics, one sequence for all of them, and the publish path.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock, RwLockWriteGuard};
use std::time::Instant;

use push_core::{Access, Cursor, Error, Event, Selector, Topic};

use crate::Config;
use crate::group::Committer;
use crate::history::TopicSlot;
use crate::ids::IdIndex;
use crate::ledger::Ledger;
use crate::patterns::{PatternTable, Watch};
use crate::subscription::MemorySubscription;
use crate::wake::WakeList;

/// The embedded in-memory broker. Cloning gives another handle to the same broker.
///
/// See the [crate documentation](crate) for the design.
#[derive(Clone, Debug)]
pub struct MemoryBroker {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) epoch: u64,
    pub(crate) config: Config,
    /// The last sequence number handed out and the broker-wide books (`ledger.rs`). Held while an
    /// event is inserted, so sequence numbers enter the topics in order: whoever holds a topic's
    /// lock sees every earlier event of it. Lock order: ledger, then the topic map, then topics.
    ledger: Mutex<Ledger>,
    /// The id of the next topic slot created.
    next_id: AtomicU64,
    /// The highest sequence number fully inserted (stored under the topic's lock).
    pub(crate) watermark: AtomicU64,
    /// Topic names come from clients: a seeded hasher (foldhash's `RandomState`) keeps lookups fast
    /// without giving up resistance to chosen collisions.
    topics: RwLock<HashMap<Topic, Arc<TopicSlot>, foldhash::fast::RandomState>>,
    /// The highest sequence number evicted from a topic that was since removed from the map: a
    /// topic created again starts from here, so a loss is never forgotten with its topic.
    pub(crate) removed_evicted_max: AtomicU64,
    /// Publisher ids → retained events (`ids.rs`). Changed under the ledger's lock (lock order:
    /// ledger, then this; nothing is locked while holding it); read by `resolve` without the
    /// ledger, so resolving ids never holds up a publish for longer than a lookup.
    ids: RwLock<IdIndex>,
    /// The open pattern subscriptions (`patterns.rs`).
    pub(crate) patterns: Mutex<PatternTable>,
    pub(crate) closed: AtomicBool,
    /// The queue to the group-commit thread (`group.rs`), started by the first asynchronous
    /// publish with a journal.
    pub(crate) committer: OnceLock<Committer>,
}

impl Default for MemoryBroker {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl MemoryBroker {
    /// A broker with these limits and a fresh random epoch.
    pub fn new(config: Config) -> Self {
        // A random, non-zero epoch per broker: cursors of an earlier run (or another broker)
        // are recognised as foreign and answered with a gap.
        let epoch = RandomState::new().hash_one(Instant::now()) | 1;
        Self::with_epoch(config, epoch)
    }

    /// A broker with a chosen epoch (for tests and for restoring a known history identity).
    pub fn with_epoch(config: Config, epoch: u64) -> Self {
        let ledger = Ledger::new(config.journal.is_some());
        Self {
            inner: Arc::new(Inner {
                epoch,
                config,
                ledger: Mutex::new(ledger),
                next_id: AtomicU64::new(1),
                watermark: AtomicU64::new(0),
                topics: RwLock::new(HashMap::default()),
                removed_evicted_max: AtomicU64::new(0),
                ids: RwLock::default(),
                patterns: Mutex::default(),
                closed: AtomicBool::new(false),
                committer: OnceLock::new(),
            }),
        }
    }

    /// This broker's epoch: the history its cursors count in.
    pub fn epoch(&self) -> u64 {
        self.inner.epoch
    }

    /// Opens a subscription (see [`push_core::Broker::subscribe`]).
    ///
    /// A selector of exact topics follows those topics. One with other patterns also follows
    /// every existing topic they match and, from then on, every topic created while it is open
    /// (each matched once, when it appears); it counts against
    /// [`Config::max_pattern_subscriptions`] and follows at most
    /// [`Config::max_pattern_topics`] topics.
    ///
    /// # Errors
    /// [`Error::BrokerClosed`] after [`close`](Self::close); [`Error::SubscriptionLimit`] for a
    /// pattern selector when [`Config::max_pattern_subscriptions`] are open, or when it matches
    /// more than [`Config::max_pattern_topics`] existing topics.
    pub fn subscribe(
        &self,
        selector: &Selector,
        from: Option<Cursor>,
        access: &Access,
    ) -> Result<MemorySubscription, Error> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::BrokerClosed);
        }
        let mut slots: Vec<_> = selector
            .topics()
            .iter()
            .map(|t| (t.clone(), self.inner.slot(t)))
            .collect();
        let watch = if selector.is_exact() {
            None
        } else {
            Some(self.inner.watch(selector, &mut slots)?)
        };
        let now = self.inner.config.clock.now();
        Ok(MemorySubscription::open(
            Arc::clone(&self.inner),
            slots,
            watch,
            from,
            access.clone(),
            now,
        ))
    }

    /// The cursor of the earliest retained event whose publisher id ([`Event::id`]) is `id`
    /// (see [`push_core::Broker::resolve`]): `None` once that event has left every topic it
    /// was published on. A duplicated id resolves to its earliest retained occurrence. The
    /// index holds only retained events and counts against the byte budgets.
    pub fn resolve(&self, id: &str) -> Option<Cursor> {
        self.inner
            .ids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .resolve(id)
    }

    /// The cursor of the newest event published.
    pub fn head(&self) -> Cursor {
        Cursor::new(
            self.inner.epoch,
            self.inner.watermark.load(Ordering::Acquire),
        )
    }

    /// Shuts the broker down: publishing fails from now on and every subscription ends with
    /// [`CloseReason::Shutdown`](push_core::CloseReason::Shutdown).
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let slots: Vec<_> = self
            .inner
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let mut wake = WakeList::default();
        for slot in slots {
            slot.lock().wake_all(&mut wake);
        }
        wake.wake_all();
        let wakers = self.inner.pattern_table().wakers();
        for waker in wakers {
            waker.wake();
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// How many topics the broker currently tracks: those with history (at most
    /// [`Config::max_topics`]) and those that only have subscribers.
    pub fn topic_count(&self) -> usize {
        self.inner
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// How many subscriptions are open on `topic`.
    pub fn subscriber_count(&self, topic: &Topic) -> usize {
        let topics = self
            .inner
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        topics.get(topic).map_or(0, |s| s.lock().subscribers())
    }

    /// How many subscriptions with a pattern selector (`*`, templates, URL patterns) are open:
    /// the ones [`Config::max_pattern_subscriptions`] counts.
    pub fn pattern_subscription_count(&self) -> usize {
        self.inner.pattern_table().len()
    }

    /// How many bytes of history `topic` retains, as the byte budgets count them (each event's
    /// [`weight`](push_core::Event::weight) plus an estimate of its bookkeeping).
    pub fn retained_bytes(&self, topic: &Topic) -> usize {
        self.inner.lookup(topic).map_or(0, |s| {
            usize::try_from(s.lock().cost()).unwrap_or(usize::MAX)
        })
    }

    /// How many events `topic` retains.
    pub fn retained(&self, topic: &Topic) -> usize {
        let topics = self
            .inner
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        topics.get(topic).map_or(0, |s| s.lock().len())
    }
}

impl Inner {
    /// The ledger (and the sequence), locked. Every change to a ring (an event in or out) is
    /// made under this lock; subscribers only read rings and never take it.
    pub(crate) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // Every change under this lock is followed by its `settle` before the lock is released;
        // a panic in between would be a bug in this crate, not a peer's doing.
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The topic's slot, if it exists.
    pub(crate) fn lookup(&self, topic: &Topic) -> Option<Arc<TopicSlot>> {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
            .cloned()
    }

    /// The topic's slot, created when missing.
    pub(crate) fn slot(&self, topic: &Topic) -> Arc<TopicSlot> {
        if let Some(slot) = self
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
        {
            return Arc::clone(slot);
        }
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        let mut wakers = Vec::new();
        let slot = topics.entry(topic.clone()).or_insert_with(|| {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let floor = self.removed_evicted_max.load(Ordering::Acquire);
            let slot = Arc::new(TopicSlot::new(id, floor));
            wakers = self.pattern_table().offer(topic, &slot);
            slot
        });
        let slot = Arc::clone(slot);
        drop(topics);
        for waker in wakers {
            waker.wake();
        }
        slot
    }

    /// The id index, for a change (under the ledger's lock).
    pub(crate) fn index_mut(&self) -> RwLockWriteGuard<'_, IdIndex> {
        // Every change is one insert or removal, complete or not begun.
        self.ids.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A restored topic's slot, created with the loss it is known to have had (`evicted_max`)
    /// when missing. Only while restoring: no subscription exists to offer it to.
    pub(crate) fn restored_slot(&self, topic: &Topic, evicted_max: u64) -> Arc<TopicSlot> {
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        let slot = topics.entry(topic.clone()).or_insert_with(|| {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            Arc::new(TopicSlot::new(id, evicted_max))
        });
        Arc::clone(slot)
    }

    pub(crate) fn pattern_table(&self) -> MutexGuard<'_, PatternTable> {
        self.patterns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a pattern subscription and adds the existing topics it matches to `slots`
    /// (which holds its exact topics already), atomically with respect to topic creation: a
    /// topic is either found here or offered to the watch later, never neither.
    fn watch(
        &self,
        selector: &Selector,
        slots: &mut Vec<(Topic, Arc<TopicSlot>)>,
    ) -> Result<Arc<Watch>, Error> {
        let config = &self.config;
        let topics = self.topics.read().unwrap_or_else(PoisonError::into_inner);
        let mut table = self.pattern_table();
        if table.len() >= config.max_pattern_subscriptions {
            return Err(Error::SubscriptionLimit);
        }
        let exact = selector.topics();
        for (topic, slot) in topics.iter() {
            if exact.binary_search(topic).is_err() && selector.matches_by_pattern(topic) {
                if slots.len() >= exact.len() + config.max_pattern_topics {
                    return Err(Error::SubscriptionLimit);
                }
                slots.push((topic.clone(), Arc::clone(slot)));
            }
        }
        let watch = Arc::new(Watch::new(selector.clone()));
        table.insert(Arc::clone(&watch));
        Ok(watch)
    }

    /// Called by a subscription that left `topic`: forgets the topic when it is idle.
    pub(crate) fn release(&self, topic: &Topic) {
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        let idle_max = topics.get(topic).and_then(|slot| {
            // Under the map's write lock nobody can take a new reference, so a count of one
            // means no publisher or subscriber is about to use this slot.
            let h = slot.lock();
            (h.is_idle() && Arc::strong_count(slot) == 1).then_some(h.evicted_max)
        });
        if let Some(evicted_max) = idle_max {
            self.removed_evicted_max
                .fetch_max(evicted_max, Ordering::AcqRel);
            topics.remove(topic);
        }
    }
}

impl push_core::Broker for MemoryBroker {
    type Subscription = MemorySubscription;

    fn publish(
        &self,
        topics: &[Topic],
        event: Event,
    ) -> impl Future<Output = Result<Cursor, Error>> + Send {
        self.publish_grouped(topics, event)
    }

    fn subscribe(
        &self,
        selector: &Selector,
        from: Option<Cursor>,
        access: &Access,
    ) -> Result<MemorySubscription, Error> {
        Self::subscribe(self, selector, from, access)
    }

    fn head(&self) -> Cursor {
        Self::head(self)
    }

    fn resolve(&self, id: &str) -> Option<Cursor> {
        Self::resolve(self, id)
    }
}
