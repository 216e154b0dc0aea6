//! The publish path: one event, one sequence number, one `Arc<Published>` in each of its
//! topics' histories.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use push_core::{Cursor, Error, Event, MAX_SELECTOR_TOPICS, Published, Topic};

use crate::history::{Limits, TopicSlot};
use crate::wake::WakeList;
use crate::{Evicted, MemoryBroker};

/// Payloads shorter than this are copied at publish so that history owns exactly what it counts
/// (a copy this small costs less than the request that carried it); longer ones are kept as
/// given, their buffers being at most a few times their length.
const COPY_BELOW: usize = 64 << 10;

impl MemoryBroker {
    /// Publishes at once on one topic (the in-memory broker never waits) and returns the
    /// event's cursor: [`publish_to`](Self::publish_to) with one topic.
    ///
    /// # Errors
    /// [`Error::BrokerClosed`] after [`close`](Self::close); [`Error::TopicLimit`] when `topic`
    /// holds no history and [`Config::max_topics`](crate::Config::max_topics) topics already do.
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
    /// would take the broker past [`Config::max_topics`](crate::Config::max_topics);
    /// [`Error::BrokerUnavailable`] when the [journal](crate::Config::with_journal) could not
    /// keep the event (nothing is stored or delivered).
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
            let refused = if new > 0 && ledger.live_topics.saturating_add(new) > config.max_topics {
                Some(Error::TopicLimit)
            } else {
                None
            };
            let before = ledger.seq;
            let seq = before + 1;
            cursor = Cursor::new(self.inner.epoch, seq);
            let published = refused
                .is_none()
                .then(|| Arc::new(Published::with_topics(topics.into(), cursor, event)));
            // Durable before visible: a journal that cannot keep the event refuses it.
            let refused = match (&published, &config.journal) {
                (Some(published), Some(journal)) => {
                    self.inner.forget_departed(&mut ledger);
                    let departures = &mut ledger.departures;
                    let evicted = Evicted {
                        offsets: &departures.pending,
                        evicted_max: departures.evicted_max,
                    };
                    let kept = journal.append(published, evicted);
                    if kept.is_ok() {
                        departures.pending.clear();
                    }
                    kept.err().map(|_| Error::BrokerUnavailable)
                }
                _ => refused,
            };
            let (Some(published), None) = (published, refused) else {
                self.inner.forget_departed(&mut ledger);
                drop(ledger);
                // Slots made for this publish must not stay behind.
                drop(one);
                drop(many);
                emptied.extend(topics.iter().cloned());
                for topic in emptied {
                    self.inner.release(&topic);
                }
                return Err(refused.unwrap_or(Error::BrokerUnavailable));
            };
            ledger.seq = seq;
            ledger.departures.stored(&published);
            if published.event().id.is_some() {
                self.inner.index_mut().insert(&published);
            }
            for (topic, slot) in topics.iter().zip(slots) {
                let mut history = slot.lock();
                history.push(
                    seq,
                    now,
                    Arc::clone(&published),
                    limits,
                    &mut wake,
                    &mut ledger.departures,
                );
                ledger.settle(topic, &mut history, limits.age);
            }
            // In every ring now: a subscriber that reads this watermark finds the event in
            // each of its topics.
            self.inner.watermark.store(seq, Ordering::Release);
            self.inner.trim(&mut ledger, before, &mut emptied);
            self.inner.forget_departed(&mut ledger);
        }
        drop(one);
        drop(many);
        wake.wake_all();
        for topic in emptied {
            self.inner.release(&topic);
        }
        Ok(cursor)
    }
}
