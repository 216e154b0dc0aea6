//! Pattern subscriptions: the table of open subscriptions whose selectors are not a list of
//! exact topics, and how a topic created later reaches them.
//!
//! A topic's slot is created under the topic map's write lock; creating it runs each open
//! pattern subscription's selector against the new topic once and hands the slot to those that
//! match ([`Watch::pending`]). That is the only place a pattern is matched after a subscription
//! opens: the answer is kept as the subscription's read position in that topic, so fan-out never
//! matches a pattern per delivery. Lock order: the topic map, then this table, then a watch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use push_core::{Selector, Topic};

use crate::history::TopicSlot;

/// One pattern subscription as the table sees it.
#[derive(Debug)]
pub(crate) struct Watch {
    pub(crate) selector: Selector,
    /// Topics created since the subscription last looked, with their slots.
    pending: Mutex<Pending>,
    /// Whether `pending` holds a topic (read without the lock on every refill).
    has_pending: AtomicBool,
}

#[derive(Debug, Default)]
struct Pending {
    topics: Vec<(Topic, Arc<TopicSlot>)>,
    waker: Option<Waker>,
}

impl Watch {
    pub(crate) fn new(selector: Selector) -> Self {
        Self {
            selector,
            pending: Mutex::default(),
            has_pending: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a topic arrived since the last [`take`](Self::take).
    pub(crate) fn has_pending(&self) -> bool {
        self.has_pending.load(Ordering::Acquire)
    }

    /// The topics that arrived since the last call.
    pub(crate) fn take(&self) -> Vec<(Topic, Arc<TopicSlot>)> {
        let mut pending = self.lock();
        self.has_pending.store(false, Ordering::Release);
        core::mem::take(&mut pending.topics)
    }

    /// Wakes this waker when a topic arrives.
    pub(crate) fn park(&self, waker: &Waker) {
        let mut pending = self.lock();
        match &pending.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => pending.waker = Some(waker.clone()),
        }
    }

    /// Wakes the subscription if it is parked (the broker is closing).
    fn wake(&self) -> Option<Waker> {
        self.lock().waker.take()
    }

    fn offer(&self, topic: &Topic, slot: &Arc<TopicSlot>) -> Option<Waker> {
        let mut pending = self.lock();
        pending.topics.push((topic.clone(), Arc::clone(slot)));
        self.has_pending.store(true, Ordering::Release);
        pending.waker.take()
    }
}

/// The open pattern subscriptions of a broker.
#[derive(Debug, Default)]
pub(crate) struct PatternTable {
    watches: Vec<Arc<Watch>>,
}

impl PatternTable {
    pub(crate) fn len(&self) -> usize {
        self.watches.len()
    }

    pub(crate) fn insert(&mut self, watch: Arc<Watch>) {
        self.watches.push(watch);
    }

    pub(crate) fn remove(&mut self, watch: &Arc<Watch>) {
        if let Some(i) = self.watches.iter().position(|w| Arc::ptr_eq(w, watch)) {
            self.watches.swap_remove(i);
        }
    }

    /// The wakers of every parked pattern subscription.
    pub(crate) fn wakers(&self) -> Vec<Waker> {
        self.watches.iter().filter_map(|w| w.wake()).collect()
    }

    /// Hands a newly created topic to every watch whose selector matches it, except those that
    /// name it exactly (they hold its slot from the start, so it was not newly created for
    /// them); returns the wakers to call once the locks are released.
    pub(crate) fn offer(&self, topic: &Topic, slot: &Arc<TopicSlot>) -> Vec<Waker> {
        self.watches
            .iter()
            .filter(|w| w.selector.topics().binary_search(topic).is_err())
            .filter(|w| w.selector.matches_by_pattern(topic))
            .filter_map(|w| w.offer(topic, slot))
            .collect()
    }
}
