//! A subscription: a read position in each followed topic, merged into one ordered stream
//! (the merge itself is in `merge.rs`).

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use futures_core::Stream;
use push_core::{Access, CloseReason, Cursor, Delivery, Gap, GapReason, Topic};

use crate::broker::Inner;
use crate::history::{History, TopicSlot};
use crate::patterns::Watch;

/// A subscription to the [`MemoryBroker`](crate::MemoryBroker): a
/// [`Stream`] of [`Delivery`] items (see [`push_core::Subscription`] for the contract).
///
/// It holds no queue of its own beyond a small batch: its backlog is its distance behind the
/// head of each topic's shared history, bounded by the broker's queue limits.
#[derive(Debug)]
pub struct MemorySubscription {
    pub(crate) inner: Arc<Inner>,
    pub(crate) slots: Vec<Arc<TopicSlot>>,
    pub(crate) reads: Vec<Read>,
    /// How many of `reads` are the selector's exact topics (the rest came from patterns).
    exact: usize,
    /// The pattern table's entry, for a selector with patterns.
    watch: Option<Arc<Watch>>,
    pub(crate) access: Access,
    /// Whether the access grants private events on topics this subscription does not follow
    /// (an alternate topic of a multi-topic event), memoised per topic and bounded.
    pub(crate) grants: HashMap<Topic, bool>,
    pub(crate) buffer: VecDeque<Delivery>,
    position: u64,
    /// Where the subscription started: topics attached later are read after it.
    start: u64,
    /// The highest sequence number put into the buffer (or skipped past): an event reached
    /// again through another of its topics is not delivered twice.
    pub(crate) delivered: u64,
    /// Events behind the heads of its topics as of the last fill, less the items yielded
    /// since ([`lag`](Self::lag)).
    pub(crate) lag: u64,
    done: bool,
}

/// The read state in one followed topic.
#[derive(Debug)]
pub(crate) struct Read {
    pub(crate) topic: Topic,
    pub(crate) key: usize,
    /// The topic-local index of the next event to deliver.
    pub(crate) next: u64,
    /// Events at and after this index count against the queue bound (history replay does not).
    pub(crate) live_from: u64,
    /// A loss in this topic that ends at this sequence number, to be announced in order.
    pub(crate) gap_at: Option<(u64, GapReason)>,
    /// Whether the access grants private events on this topic (decided once, when the topic
    /// is joined).
    pub(crate) private: bool,
}

impl MemorySubscription {
    pub(crate) fn open(
        inner: Arc<Inner>,
        topics: Vec<(Topic, Arc<TopicSlot>)>,
        watch: Option<Arc<Watch>>,
        from: Option<Cursor>,
        access: Access,
        now: Instant,
    ) -> Self {
        let exact = match &watch {
            Some(w) => w.selector.topics().len(),
            None => topics.len(),
        };
        let (topics, slots): (Vec<_>, Vec<_>) = topics.into_iter().unzip();
        // Topic locks only, never the ledger: a subscriber waiting here for a busy topic holds
        // up the publishes on its own topics, not every publish in the broker. Rings change
        // only under the ledger, so nothing is expired here: replay skips what is due (below)
        // and the sweep frees it.
        let mut guards: Vec<_> = slots.iter().map(|s| s.lock()).collect();
        let age = inner.config.history_age;
        let head = inner.watermark.load(Ordering::Acquire);
        // A cursor from the future is one past every event published. The watermark is raised
        // only once an event is in all its rings, so a subscriber may already have read (and
        // handed out the cursor of) an event in a ring whose watermark is still behind: what
        // the rings under our locks hold is published too.
        let known = guards.iter().map(|h| h.newest_seq()).fold(head, u64::max);
        let (start, announce) = match from {
            None => (head, None),
            // This broker's cursors have two numbers: one with a third is another history's.
            Some(c) if c.epoch() != inner.epoch || c.sequence().is_some() => {
                (0, Some(GapReason::UnknownEpoch))
            }
            Some(c) if c.offset() > known => (head, Some(GapReason::FromFuture)),
            Some(c) => (c.offset(), None),
        };
        let reads = topics
            .into_iter()
            .zip(&mut guards)
            .map(|(topic, h)| {
                let replay = from.is_some() && announce != Some(GapReason::FromFuture);
                // Events past their age are lost even while the sweep has not freed them yet:
                // replay starts after them, with a gap where they were.
                let (fresh, expired_max) = h.first_unexpired(now, age);
                let lost = h.evicted_max.max(expired_max);
                Read {
                    private: access.grants(core::slice::from_ref(&topic)),
                    topic,
                    key: h.join(),
                    next: if replay {
                        h.first_after(start).max(fresh)
                    } else {
                        h.total()
                    },
                    live_from: h.total(),
                    gap_at: (replay && lost > start).then_some((lost, GapReason::Evicted)),
                }
            })
            .collect();
        drop(guards);
        let mut buffer = VecDeque::new();
        if let Some(reason) = announce {
            buffer.push_back(Delivery::Gap(Gap {
                reason,
                resume: Cursor::new(inner.epoch, start),
            }));
        }
        Self {
            position: start,
            start,
            delivered: start,
            lag: 0,
            inner,
            slots,
            reads,
            exact,
            watch,
            access,
            grants: HashMap::new(),
            buffer,
            done: false,
        }
    }

    /// The cursor to resume from: after the last item yielded.
    pub fn cursor(&self) -> Cursor {
        Cursor::new(self.inner.epoch, self.position)
    }

    /// How far behind this subscription is: the events on its topics it has still to yield,
    /// as of its last read of the topics (the history it replays and live events alike; the
    /// queue bound counts the live ones only; an event on several followed topics counts
    /// once per topic). 0 while it keeps up.
    pub fn lag(&self) -> u64 {
        self.lag
    }

    /// How many topics this subscription follows (its exact topics and, for a pattern
    /// selector, every topic its patterns matched so far).
    pub fn topic_count(&self) -> usize {
        self.reads.len()
    }

    /// The next item if one is ready now, without waiting or registering for a wake-up
    /// (`None`: nothing yet, or the subscription has ended).
    pub fn try_recv(&mut self) -> Option<Delivery> {
        self.next_item(None)
    }

    /// The next item, refilling the buffer from the topics when it is empty (and parking on them
    /// when `waker` is given and nothing is there).
    fn next_item(&mut self, waker: Option<&Waker>) -> Option<Delivery> {
        if !self.done
            && let Some(until) = self.access.until()
            && self.inner.config.clock.now() >= until
        {
            self.buffer.clear();
            self.buffer
                .push_back(Delivery::Closed(CloseReason::Expired));
            // Ended: nothing is behind any more (the close item itself takes it to 0).
            self.lag = 1;
            self.done = true;
        }
        if self.buffer.is_empty() && !self.done {
            self.refill(waker);
        }
        let item = self.buffer.pop_front()?;
        self.lag = self.lag.saturating_sub(1);
        match &item {
            Delivery::Event(p) => self.position = p.cursor().offset(),
            Delivery::Gap(g) => self.position = g.resume.offset(),
            Delivery::Closed(_) => self.done = true,
        }
        Some(item)
    }

    fn refill(&mut self, waker: Option<&Waker>) {
        loop {
            if let Some(watch) = self.watch.clone()
                && watch.has_pending()
                && !self.attach(watch.take())
            {
                self.buffer
                    .push_back(Delivery::Closed(CloseReason::Overflow));
                return;
            }
            // Moved out for the duration so the guards do not borrow `self` (no allocation).
            let slots = core::mem::take(&mut self.slots);
            let filled = if let [slot] = slots.as_slice() {
                let mut guards = [slot.lock()];
                self.fill_unless_pending(&mut guards, waker)
            } else {
                let mut guards: Vec<_> = slots.iter().map(|s| s.lock()).collect();
                self.fill_unless_pending(&mut guards, waker)
            };
            self.slots = slots;
            if filled {
                return;
            }
        }
    }

    /// Fills the buffer unless a topic arrived for the watch: its events may come before
    /// those visible now, so it must be joined first (returns `false`, nothing done). A topic
    /// is offered before any event is stored in it, so once the topics are locked, every
    /// earlier event of a matching topic is in a followed ring or in the watch's pending list.
    fn fill_unless_pending(
        &mut self,
        guards: &mut [MutexGuard<'_, History>],
        waker: Option<&Waker>,
    ) -> bool {
        if self.watch.as_ref().is_some_and(|w| w.has_pending()) {
            return false;
        }
        self.fill(guards, waker);
        if self.buffer.is_empty()
            && let (Some(waker), Some(watch)) = (waker, &self.watch)
        {
            watch.park(waker);
            // A topic offered between the check above and parking found no waker.
            if watch.has_pending() {
                waker.wake_by_ref();
            }
        }
        true
    }

    /// Follows topics created since the subscription opened. Past
    /// [`Config::max_pattern_topics`](crate::Config::max_pattern_topics), topics this
    /// subscription follows that hold nothing for it are dropped first; `false` when it is
    /// still over (the subscription then closes).
    fn attach(&mut self, topics: Vec<(Topic, Arc<TopicSlot>)>) -> bool {
        let limit = self.exact + self.inner.config.max_pattern_topics;
        for (topic, slot) in topics {
            if self.reads.len() >= limit {
                self.prune();
                if self.reads.len() >= limit {
                    return false;
                }
            }
            let mut h = slot.lock();
            // The topic was created after this subscription registered: a loss it inherited
            // from removed topics is not this subscription's.
            let lost = if h.evicted_max > h.inherited {
                h.evicted_max
            } else {
                0
            };
            let read = Read {
                private: self.access.grants(core::slice::from_ref(&topic)),
                topic,
                key: h.join(),
                next: h.first_after(self.start),
                live_from: h.total(),
                gap_at: (lost > self.start).then_some((lost, GapReason::Evicted)),
            };
            drop(h);
            self.reads.push(read);
            self.slots.push(slot);
        }
        true
    }

    /// Stops following pattern-matched topics that hold nothing for this subscription.
    fn prune(&mut self) {
        let mut i = self.exact;
        while i < self.reads.len() {
            let idle = {
                let h = self.slots[i].lock();
                let read = &self.reads[i];
                read.gap_at.is_none() && read.next >= h.total()
            };
            if idle {
                let read = self.reads.swap_remove(i);
                let slot = self.slots.swap_remove(i);
                self.leave(read, slot);
            } else {
                i += 1;
            }
        }
    }

    fn leave(&self, read: Read, slot: Arc<TopicSlot>) {
        let idle = {
            let mut history = slot.lock();
            history.leave(read.key);
            history.is_idle()
        };
        drop(slot);
        // Only a topic left with neither history nor subscribers can be forgotten; checking
        // here first spares the map's write lock on the common path.
        if idle {
            self.inner.release(&read.topic);
        }
    }
}

impl Stream for MemorySubscription {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        match self.next_item(Some(cx.waker())) {
            Some(item) => Poll::Ready(Some(item)),
            None if self.done => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

impl push_core::Subscription for MemorySubscription {
    fn cursor(&self) -> Cursor {
        Self::cursor(self)
    }

    fn lag(&self) -> Option<u64> {
        Some(self.lag)
    }
}

impl Drop for MemorySubscription {
    fn drop(&mut self) {
        if let Some(watch) = &self.watch {
            self.inner.pattern_table().remove(watch);
        }
        let slots = core::mem::take(&mut self.slots);
        let reads = core::mem::take(&mut self.reads);
        for (slot, read) in slots.into_iter().zip(reads) {
            self.leave(read, slot);
        }
        // Topics offered but never joined hold no subscriber slot; dropping them may leave
        // them idle.
        if let Some(watch) = self.watch.take() {
            for (topic, slot) in watch.take() {
                drop(slot);
                self.inner.release(&topic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use push_core::{Access, Event, Selector};

    use super::*;
    use crate::{Config, MemoryBroker};

    /// Opening a subscription never waits for the ledger, so a wave of subscribers (or one
    /// stuck behind a busy topic) cannot hold up publishes to other topics. The test holds
    /// the ledger itself while another thread subscribes: that must complete (the bound is a
    /// safety net for a regression, which would otherwise hang, not a timing assertion).
    #[test]
    fn subscribing_does_not_take_the_ledger_lock() {
        let clock = Arc::new(std::sync::Mutex::new(Instant::now()));
        let hand = Arc::clone(&clock);
        let config = Config::default()
            .with_history_age(Duration::from_secs(10))
            .with_clock(move || *hand.lock().unwrap());
        let broker = MemoryBroker::new(config);
        let t = Topic::new("t").unwrap();
        let first = broker.publish_now(&t, Event::new("old")).unwrap();
        *clock.lock().unwrap() += Duration::from_secs(11);
        let ledger = broker.inner.ledger();
        let (done, opened) = mpsc::channel();
        let other = broker.clone();
        let from = Cursor::new(broker.epoch(), 0);
        let thread = std::thread::spawn(move || {
            let mut sub = other
                .subscribe(
                    &Selector::one(Topic::new("t").unwrap()),
                    Some(from),
                    &Access::public(),
                )
                .unwrap();
            let item = sub.try_recv();
            done.send(item).unwrap();
        });
        let item = opened.recv_timeout(Duration::from_secs(20));
        drop(ledger);
        thread.join().unwrap();
        // The expired event is skipped with a gap, and left for the sweep to free.
        let Ok(Some(Delivery::Gap(gap))) = item else {
            panic!("subscribe waited for the ledger lock: {item:?}")
        };
        assert_eq!((gap.reason, gap.resume), (GapReason::Evicted, first));
        assert_eq!(broker.retained(&t), 1, "subscribing changed the history");
        assert!(broker.sweep().is_none());
        assert_eq!(broker.retained(&t), 0);
    }
}
