//! The merge: a subscription's followed topics read in sequence order, each event once, the
//! events its access does not admit left out, losses announced where they happened.

use std::sync::Arc;
use std::sync::MutexGuard;
use std::sync::atomic::Ordering;
use std::task::Waker;

use push_core::{Audience, CloseReason, Cursor, Delivery, Gap, GapReason, Published};

use crate::Overflow;
use crate::history::History;
use crate::subscription::MemorySubscription;

/// How many items one visit to the topics moves into the subscription's local buffer.
const BATCH: usize = 32;

/// The most buffer slots a subscription keeps when it parks (what one event at a time needs;
/// the slots a burst of up to [`BATCH`] grew are freed).
const IDLE_BUFFER: usize = 4;

/// The most alternate topics whose private grant a subscription remembers (past it, the memo
/// starts over: a bound, not a cache policy).
const GRANT_MEMO: usize = 256;

impl MemorySubscription {
    /// Moves up to a batch of items into the buffer; parks on every topic when there is none.
    pub(crate) fn fill(&mut self, guards: &mut [MutexGuard<'_, History>], waker: Option<&Waker>) {
        let config = &self.inner.config;
        // Events evicted while this subscriber lagged: a loss, announced where it happened.
        for (read, h) in self.reads.iter_mut().zip(guards.iter()) {
            if read.next < h.front() {
                let end = read.gap_at.map_or(0, |g| g.0).max(h.evicted_max);
                read.gap_at = Some((end, GapReason::Evicted));
                read.next = h.front();
            }
        }
        // The queue bound: how far behind the live head this subscriber is (an event on
        // several followed topics counts once per topic: the bound errs on the safe side).
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
                    self.delivered = self.delivered.max(head);
                    self.buffer.push_back(Delivery::Gap(Gap {
                        reason: GapReason::Overflow,
                        resume: Cursor::new(self.inner.epoch, head),
                    }));
                }
                Overflow::Close => self
                    .buffer
                    .push_back(Delivery::Closed(CloseReason::Overflow)),
            }
            // Nothing is behind any more: dropped (a gap) or closed.
            self.lag = self.buffer.len() as u64;
            return;
        }
        // Merge the topics in sequence order.
        while self.buffer.len() < BATCH {
            let mut best: Option<(u64, usize, bool)> = None;
            for (i, (read, h)) in self.reads.iter_mut().zip(guards.iter()).enumerate() {
                // An event already delivered through another of its topics.
                while h.get(read.next).is_some_and(|e| e.seq <= self.delivered) {
                    read.next += 1;
                }
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
            if is_gap {
                let read = &mut self.reads[i];
                let reason = read.gap_at.take().map_or(GapReason::Evicted, |g| g.1);
                self.delivered = self.delivered.max(seq);
                self.buffer.push_back(Delivery::Gap(Gap {
                    reason,
                    resume: Cursor::new(self.inner.epoch, seq),
                }));
            } else if let Some(entry) = guards[i].get(self.reads[i].next) {
                let published = Arc::clone(&entry.published);
                self.delivered = seq;
                // Every followed topic of this event: one of them may grant it.
                let mut granted = false;
                for (read, h) in self.reads.iter_mut().zip(guards.iter()) {
                    if h.get(read.next).is_some_and(|e| e.seq == seq) {
                        granted |= read.private;
                        read.next += 1;
                    }
                }
                if granted || self.admits(&published) {
                    self.buffer.push_back(Delivery::Event(published));
                }
            }
        }
        // The lag: what the rings still hold past this subscription's reads (history it
        // replays too, which the queue bound leaves out), and the buffer.
        let behind: u64 = self
            .reads
            .iter()
            .zip(guards.iter())
            .map(|(read, h)| h.total().saturating_sub(read.next))
            .sum();
        self.lag = behind.saturating_add(self.buffer.len() as u64);
        if self.buffer.is_empty() {
            if self.inner.closed.load(Ordering::Acquire) {
                self.buffer
                    .push_back(Delivery::Closed(CloseReason::Shutdown));
            } else if let Some(waker) = waker {
                // The subscription goes idle: a buffer a burst grew is given back (an idle
                // subscriber holds its state and no more; a busy one keeps its buffer).
                if self.buffer.capacity() > IDLE_BUFFER {
                    self.buffer = std::collections::VecDeque::new();
                }
                for (read, h) in self.reads.iter().zip(guards.iter_mut()) {
                    h.park(read.key, waker);
                }
            }
        }
    }

    /// Whether the access admits an event none of whose followed topics grants it privately:
    /// a public event, or a private one granted on one of its other topics (memoised).
    fn admits(&mut self, published: &Published) -> bool {
        if published.event().audience == Audience::Public {
            return true;
        }
        // A single-topic event was found in a followed topic, whose grant (`Read::private`)
        // already said no: only alternates can still grant it.
        if self.access.private().is_none() || published.topics().len() == 1 {
            return false;
        }
        for topic in published.topics() {
            let granted = match self.grants.get(topic) {
                Some(&granted) => granted,
                None => {
                    if self.grants.len() >= GRANT_MEMO {
                        self.grants.clear();
                    }
                    let granted = self.access.grants(core::slice::from_ref(topic));
                    self.grants.insert(topic.clone(), granted);
                    granted
                }
            };
            if granted {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    use futures_core::Stream as _;
    use push_core::{Access, Event, Selector, Topic};

    use super::*;
    use crate::MemoryBroker;

    /// A subscription that drained a burst and parks gives back the buffer slots the burst
    /// grew: an idle subscriber does not keep a batch's worth of them for the rest of its life.
    #[test]
    fn a_parked_subscription_frees_the_buffer_a_burst_grew() {
        let broker = MemoryBroker::default();
        let t = Topic::new("t").unwrap();
        let mut sub = broker
            .subscribe(&Selector::one(t.clone()), None, &Access::public())
            .unwrap();
        for n in 0..40 {
            broker.publish_now(&t, Event::new(format!("{n}"))).unwrap();
        }
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut received = 0;
        let mut grown = 0;
        while let Poll::Ready(Some(item)) = Pin::new(&mut sub).poll_next(&mut cx) {
            assert!(matches!(item, Delivery::Event(_)), "{item:?}");
            received += 1;
            grown = grown.max(sub.buffer.capacity());
        }
        assert_eq!(received, 40);
        assert!(grown >= 32, "the burst did not fill a batch: {grown}");
        assert!(
            sub.buffer.capacity() <= 4,
            "a parked subscription keeps {} buffer slots",
            sub.buffer.capacity()
        );
        // It still receives after parking.
        broker.publish_now(&t, Event::new("after")).unwrap();
        let next = Pin::new(&mut sub).poll_next(&mut cx);
        assert!(
            matches!(next, Poll::Ready(Some(Delivery::Event(_)))),
            "{next:?}"
        );
    }
}
