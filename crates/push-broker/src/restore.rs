//! Restoring a broker from its journal: the same epoch, offsets, retention ages and id index.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use push_core::{Cursor, Published, Topic};

use crate::history::Limits;
use crate::journal::{Record, RestoreError, Snapshot};
use crate::wake::WakeList;
use crate::{Config, MemoryBroker};

impl MemoryBroker {
    /// Rebuilds the broker a [`Journal`](crate::Journal) recorded: `epoch` and the offsets of
    /// the [`Snapshot`]'s records, so every cursor a client holds resumes exactly; each event
    /// keeps the age it had (it expires when it would have); the id index
    /// ([`resolve`](Self::resolve)) is rebuilt from the events' ids. New events continue after
    /// [`Snapshot::head`].
    ///
    /// The records go through `config`'s bounds as if published again, so a restore with
    /// smaller limits keeps less; what it evicts is forgotten by the journal (when `config` has
    /// one) as any eviction is. The journal is not asked to append the restored events again.
    ///
    /// Losses before the restored history are announced, conservatively: a cursor before a
    /// topic's first restored event and before [`Snapshot::evicted_max`] gets an
    /// [`Evicted`](push_core::GapReason::Evicted) gap (the journal keeps no per-topic loss), so
    /// a loss is never silent; a cursor within the restored history resumes exactly.
    ///
    /// # Errors
    /// [`RestoreError`] when the records are not in strictly increasing offset order (from 1)
    /// or one names no topic: not a history a broker wrote.
    pub fn restore(config: Config, epoch: u64, snapshot: Snapshot) -> Result<Self, RestoreError> {
        let mut last = 0;
        for record in &snapshot.records {
            if record.offset <= last {
                return Err(RestoreError::OutOfOrder {
                    offset: record.offset,
                });
            }
            if record.topics.is_empty() {
                return Err(RestoreError::NoTopic {
                    offset: record.offset,
                });
            }
            last = record.offset;
        }
        let head = snapshot.head.max(last);
        let floor = snapshot.evicted_max.min(head);
        // Each topic's loss, conservatively: at most the broker-wide one, and below its first
        // restored event (whatever it lost came before that).
        let mut first: HashMap<Topic, u64> = HashMap::new();
        for record in &snapshot.records {
            for topic in &record.topics {
                first.entry(topic.clone()).or_insert(record.offset);
            }
        }
        let broker = Self::with_epoch(config, epoch);
        let inner = &broker.inner;
        inner.removed_evicted_max.store(floor, Ordering::Release);
        let config = &inner.config;
        let limits = Limits {
            count: config.history_count,
            age: config.history_age,
            bytes: config.topic_budget(),
        };
        let mut wake = WakeList::default();
        let mut emptied = Vec::new();
        {
            let mut ledger = inner.ledger();
            ledger.departures.evicted_max = floor;
            let now = config.clock.now();
            let mut previous: Option<Instant> = None;
            for Record {
                offset,
                topics,
                event,
                age,
            } in snapshot.records
            {
                let mut distinct: Vec<Topic> = Vec::with_capacity(topics.len());
                for topic in topics {
                    if !distinct.contains(&topic) {
                        distinct.push(topic);
                    }
                }
                let slots: Vec<_> = distinct
                    .iter()
                    .map(|t| {
                        let lost = first.get(t).map_or(floor, |f| floor.min(f - 1));
                        inner.restored_slot(t, lost)
                    })
                    .collect();
                ledger.seq = offset;
                let new = slots.iter().filter(|s| s.lock().len() == 0).count();
                if ledger.live_topics.saturating_add(new) > config.max_topics {
                    // The limit is smaller than when it was published: the event is lost, and
                    // announced as such on its topics.
                    for slot in &slots {
                        let mut h = slot.lock();
                        h.evicted_max = h.evicted_max.max(offset);
                    }
                    let departures = &mut ledger.departures;
                    departures.evicted_max = departures.evicted_max.max(offset);
                    if departures.all {
                        departures.pending.push(offset);
                    }
                    continue;
                }
                // Events enter a ring in time order, whatever the wall clock did between them.
                let at = now.checked_sub(age).unwrap_or(now);
                let at = previous.map_or(at, |p| p.max(at));
                previous = Some(at);
                let cursor = Cursor::new(epoch, offset);
                let published = Arc::new(Published::with_topics(distinct.into(), cursor, event));
                ledger
                    .departures
                    .stored(published.cursor().offset(), &published);
                inner.index_mut().insert(&published);
                for (topic, slot) in published.topics().iter().zip(&slots) {
                    let mut h = slot.lock();
                    h.push(
                        offset,
                        at,
                        Arc::clone(&published),
                        limits,
                        &mut wake,
                        &mut ledger.departures,
                    );
                    ledger.settle(topic, &mut h, limits.age);
                }
                inner.trim(&mut ledger, offset - 1, &mut emptied);
            }
            ledger.seq = head;
            inner.watermark.store(head, Ordering::Release);
            inner.expire_due(&mut ledger, now, &mut emptied);
            inner.forget_departed(&mut ledger);
            inner.flush_journal(&mut ledger);
        }
        // Nobody could subscribe yet: no waker to wake, and every topic left without history
        // is forgotten.
        drop(wake);
        for topic in emptied.into_iter().chain(first.into_keys()) {
            inner.release(&topic);
        }
        Ok(broker)
    }
}
