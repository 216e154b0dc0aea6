//! The broker: a map of topics, one sequence for all of them, and the publish path.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use bytes::Bytes;
use push_core::{Access, Cursor, Error, Event, MAX_SELECTOR_TOPICS, Published, Selector, Topic};

use crate::Config;
use crate::history::{Limits, TopicSlot};
use crate::ledger::Ledger;
use crate::patterns::{PatternTable, Watch};
use crate::subscription::MemorySubscription;
use crate::wake::WakeList;

/// Payloads shorter than this are copied at publish so that history owns exactly what it counts
/// (a copy this small costs less than the request that carried it); longer ones are kept as
/// given, their buffers being at most a few times their length.
const COPY_BELOW: usize = 64 << 10;

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
    removed_evicted_max: AtomicU64,
    /// The open pattern subscriptions (`patterns.rs`).
    pub(crate) patterns: Mutex<PatternTable>,
    pub(crate) closed: AtomicBool,
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
        Self {
            inner: Arc::new(Inner {
                epoch,
                config,
                ledger: Mutex::new(Ledger::default()),
                next_id: AtomicU64::new(1),
                watermark: AtomicU64::new(0),
                topics: RwLock::new(HashMap::default()),
                removed_evicted_max: AtomicU64::new(0),
                patterns: Mutex::default(),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// This broker's epoch: the history its cursors count in.
    pub fn epoch(&self) -> u64 {
        self.inner.epoch
    }

    /// Publishes at once on one topic (the in-memory broker never waits) and returns the
    /// event's cursor: [`publish_to`](Self::publish_to) with one topic.
    ///
    /// # Errors
    /// [`Error::BrokerClosed`] after [`close`](Self::close); [`Error::TopicLimit`] when `topic`
    /// holds no history and [`Config::max_topics`] topics already do.
    pub fn publish_now(&self, topic: &Topic, event: Event) -> Result<Cursor, Error> {
        self.publish_to(core::slice::from_ref(topic), event)
    }

    /// Publishes one event on `topics` at once, all or none, and returns its one cursor.
    ///
    /// The event is stored once (one `Arc<Published>` referenced from each topic's history)
    /// and delivered once to each subscriber, however many of its topics the subscriber
    /// selects. `topics[0]` is the canonical topic; duplicates are ignored. The topic limit is
    /// checked for every topic that would start holding history before anything is stored,
    /// under the broker-wide lock that orders publishes, so a refusal leaves nothing behind and
    /// a client may retry without duplicating anything.
    ///
    /// # Errors
    /// [`Error::SelectorEmpty`] without a topic; [`Error::SelectorTooLarge`] past
    /// [`MAX_SELECTOR_TOPICS`] distinct topics; [`Error::BrokerClosed`] after
    /// [`close`](Self::close); [`Error::TopicLimit`] when the topics that hold no history
    /// would take the broker past [`Config::max_topics`].
    pub fn publish_to(&self, topics: &[Topic], event: Event) -> Result<Cursor, Error> {
        match topics {
            [] => Err(Error::SelectorEmpty),
            [_] => self.publish_distinct(topics, event),
            _ => {
                let mut distinct: Vec<Topic> = Vec::with_capacity(topics.len().min(8));
                for topic in topics {
                    if !distinct.contains(topic) {
                        if distinct.len() == MAX_SELECTOR_TOPICS {
                            return Err(Error::SelectorTooLarge);
                        }
                        distinct.push(topic.clone());
                    }
                }
                self.publish_distinct(&distinct, event)
            }
        }
    }

    /// The publish path: `topics` are distinct, at least one.
    fn publish_distinct(&self, topics: &[Topic], mut event: Event) -> Result<Cursor, Error> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::BrokerClosed);
        }
        if event.data.len() < COPY_BELOW {
            // A small payload may be a slice of a transport's read buffer (hyper's, for a body
            // that arrived in one piece) and would keep all of it alive, unseen by the budgets.
            event.data = Bytes::copy_from_slice(&event.data);
        }
        let config = &self.inner.config;
        // One topic (the common case) needs no allocation.
        let (one, many): (Option<[Arc<TopicSlot>; 1]>, Vec<Arc<TopicSlot>>) = match topics {
            [topic] => (Some([self.inner.slot(topic)]), Vec::new()),
            _ => (None, topics.iter().map(|t| self.inner.slot(t)).collect()),
        };
        let slots = one.as_ref().map_or(many.as_slice(), |one| one.as_slice());
        let limits = Limits {
            count: config.history_count,
            age: config.history_age,
            bytes: config.topic_budget(),
        };
        let mut wake = WakeList::default();
        let mut emptied = Vec::new();
        let cursor;
        {
            let mut ledger = self.inner.ledger();
            // Read under the lock: events enter each ring in time order too.
            let now = config.clock.now();
            // Rings change only under the ledger's lock: what is counted here stays true until
            // the event is in.
            let fresh = || slots.iter().filter(|s| s.lock().len() == 0).count();
            let mut new = fresh();
            if new > 0 && ledger.live_topics.saturating_add(new) > config.max_topics {
                // Topics whose history is due to expire make room before anyone is refused.
                self.inner.expire_due(&mut ledger, now, &mut emptied);
                new = fresh();
            }
            if new > 0 && ledger.live_topics.saturating_add(new) > config.max_topics {
                drop(ledger);
                // Slots made for this publish must not stay behind.
                drop(one);
                drop(many);
                emptied.extend(topics.iter().cloned());
                for topic in emptied {
                    self.inner.release(&topic);
                }
                return Err(Error::TopicLimit);
            }
            let before = ledger.seq;
            let seq = before + 1;
            ledger.seq = seq;
            cursor = Cursor::new(self.inner.epoch, seq);
            let published = Arc::new(Published::with_topics(topics.into(), cursor, event));
            for (topic, slot) in topics.iter().zip(slots) {
                let mut history = slot.lock();
                history.push(seq, now, Arc::clone(&published), limits, &mut wake);
                ledger.settle(topic, &mut history, limits.age);
            }
            // In every ring now: a subscriber that reads this watermark finds the event in
            // each of its topics.
            self.inner.watermark.store(seq, Ordering::Release);
            self.inner.trim(&mut ledger, before, &mut emptied);
        }
        drop(one);
        drop(many);
        wake.wake_all();
        for topic in emptied {
            self.inner.release(&topic);
        }
        Ok(cursor)
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
    fn slot(&self, topic: &Topic) -> Arc<TopicSlot> {
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
            if exact.binary_search(topic).is_err() && selector.matches(topic) {
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
        core::future::ready(self.publish_to(topics, event))
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
}
