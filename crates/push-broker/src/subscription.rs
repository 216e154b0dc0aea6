//! A subscription: a read position in each selected topic, merged into one ordered stream.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use push_core::{CloseReason, Cursor, Delivery, Gap, GapReason, Topic};

use crate::Overflow;
use crate::broker::Inner;
use crate::history::{History, TopicSlot};

/// How many items one visit to the topics moves into the subscription's local buffer.
const BATCH: usize = 32;

/// A subscription to the [`MemoryBroker`](crate::MemoryBroker): a
/// [`Stream`] of [`Delivery`] items (see [`push_core::Subscription`] for the contract).
///
/// It holds no queue of its own beyond a small batch: its backlog is its distance behind the
/// head of each topic's shared history, bounded by the broker's queue limits.
#[derive(Debug)]
pub struct MemorySubscription {
    inner: Arc<Inner>,
    slots: Vec<Arc<TopicSlot>>,
    reads: Vec<Read>,
    buffer: VecDeque<Delivery>,
    position: u64,
    done: bool,
}

/// The read state in one selected topic.
#[derive(Debug)]
struct Read {
    topic: Topic,
    key: usize,
    /// The topic-local index of the next event to deliver.
    next: u64,
    /// Events at and after this index count against the queue bound (history replay does not).
    live_from: u64,
    /// A loss in this topic that ends at this sequence number, to be announced in order.
    gap_at: Option<(u64, GapReason)>,
}

impl MemorySubscription {
    pub(crate) fn open(
        inner: Arc<Inner>,
        topics: Vec<(Topic, Arc<TopicSlot>)>,
        from: Option<Cursor>,
        now: Instant,
    ) -> Self {
        let (topics, slots): (Vec<_>, Vec<_>) = topics.into_iter().unzip();
        // Topic locks only, never the ledger: a subscriber waiting here for a busy topic holds
        // up the publishes on its own topics, not every publish in the broker. Rings change
        // only under the ledger, so nothing is expired here: replay skips what is due (below)
        // and the sweep frees it.
        let mut guards: Vec<_> = slots.iter().map(|s| s.lock()).collect();
        let age = inner.config.history_age;
        let head = inner.watermark.load(Ordering::Acquire);
        let (start, announce) = match from {
            None => (head, None),
            Some(c) if c.epoch() != inner.epoch => (0, Some(GapReason::UnknownEpoch)),
            Some(c) if c.offset() > head => (head, Some(GapReason::FromFuture)),
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
            inner,
            slots,
            reads,
            buffer,
            done: false,
        }
    }

    /// The cursor to resume from: after the last item yielded.
    pub fn cursor(&self) -> Cursor {
        Cursor::new(self.inner.epoch, self.position)
    }

    /// The next item if one is ready now, without waiting or registering for a wake-up
    /// (`None`: nothing yet, or the subscription has ended).
    pub fn try_recv(&mut self) -> Option<Delivery> {
        self.next_item(None)
    }

    /// The next item, refilling the buffer from the topics when it is empty (and parking on them
    /// when `waker` is given and nothing is there).
    fn next_item(&mut self, waker: Option<&std::task::Waker>) -> Option<Delivery> {
        if self.buffer.is_empty() && !self.done {
            self.refill(waker);
        }
        let item = self.buffer.pop_front()?;
        match &item {
            Delivery::Event(p) => self.position = p.cursor().offset(),
            Delivery::Gap(g) => self.position = g.resume.offset(),
            Delivery::Closed(_) => self.done = true,
        }
        Some(item)
    }

    fn refill(&mut self, waker: Option<&std::task::Waker>) {
        // Moved out for the duration so the guards do not borrow `self` (no allocation).
        let slots = core::mem::take(&mut self.slots);
        if let [slot] = slots.as_slice() {
            let mut guards = [slot.lock()];
            self.fill(&mut guards, waker);
        } else {
            let mut guards: Vec<_> = slots.iter().map(|s| s.lock()).collect();
            self.fill(&mut guards, waker);
        }
        self.slots = slots;
    }

    /// Moves up to a batch of items into the buffer; parks on every topic when there is none.
    fn fill(&mut self, guards: &mut [MutexGuard<'_, History>], waker: Option<&std::task::Waker>) {
        let config = &self.inner.config;
        // Events evicted while this subscriber lagged: a loss, announced where it happened.
        for (read, h) in self.reads.iter_mut().zip(guards.iter()) {
            if read.next < h.front() {
                let end = read.gap_at.map_or(0, |g| g.0).max(h.evicted_max);
                read.gap_at = Some((end, GapReason::Evicted));
                read.next = h.front();
            }
        }
        // The queue bound: how far behind the live head this subscriber is.
        let (mut lag_count, mut lag_bytes) = (0u64, 0u64);
        for (read, h) in self.reads.iter().zip(guards.iter()) {
            let from = read.next.max(read.live_from);
            lag_count += h.total().saturating_sub(from);
            lag_bytes += h.bytes_from(from);
        }
        if lag_count > config.queue_count as u64
            || (lag_bytes > config.queue_bytes as u64 && lag_count > 1)
        {
            match config.overflow {
                Overflow::DropBacklog => {
                    let head = self.inner.watermark.load(Ordering::Acquire);
                    for (read, h) in self.reads.iter_mut().zip(guards.iter()) {
                        read.next = h.total();
                        read.live_from = h.total();
                        read.gap_at = None;
                    }
                    self.buffer.push_back(Delivery::Gap(Gap {
                        reason: GapReason::Overflow,
                        resume: Cursor::new(self.inner.epoch, head),
                    }));
                }
                Overflow::Close => self
                    .buffer
                    .push_back(Delivery::Closed(CloseReason::Overflow)),
            }
            return;
        }
        // Merge the topics in sequence order.
        while self.buffer.len() < BATCH {
            let mut best: Option<(u64, usize, bool)> = None;
            for (i, (read, h)) in self.reads.iter().zip(guards.iter()).enumerate() {
                let candidate = match read.gap_at {
                    Some((end, _)) => Some((end, i, true)),
                    None => h.get(read.next).map(|e| (e.seq, i, false)),
                };
                if let Some(c) = candidate
                    && best.is_none_or(|b| c.0 < b.0)
                {
                    best = Some(c);
                }
            }
            let Some((seq, i, is_gap)) = best else { break };
            let read = &mut self.reads[i];
            if is_gap {
                let reason = read.gap_at.take().map_or(GapReason::Evicted, |g| g.1);
                self.buffer.push_back(Delivery::Gap(Gap {
                    reason,
                    resume: Cursor::new(self.inner.epoch, seq),
                }));
            } else if let Some(entry) = guards[i].get(read.next) {
                self.buffer
                    .push_back(Delivery::Event(Arc::clone(&entry.published)));
                read.next += 1;
            }
        }
        if self.buffer.is_empty() {
            if self.inner.closed.load(Ordering::Acquire) {
                self.buffer
                    .push_back(Delivery::Closed(CloseReason::Shutdown));
            } else if let Some(waker) = waker {
                for (read, h) in self.reads.iter().zip(guards.iter_mut()) {
                    h.park(read.key, waker);
                }
            }
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
}

impl Drop for MemorySubscription {
    fn drop(&mut self) {
        let slots = core::mem::take(&mut self.slots);
        for (slot, read) in slots.into_iter().zip(&self.reads) {
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
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use push_core::{Event, Selector};

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
            .history_age(Duration::from_secs(10))
            .clock(move || *hand.lock().unwrap());
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
                .subscribe(&Selector::one(Topic::new("t").unwrap()), Some(from))
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
