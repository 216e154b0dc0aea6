//! What leaves the history: which events have left every ring that held them (so the id index
//! and the journal can forget them), and the highest sequence number any ring evicted.
//!
//! Kept in the ledger, so it changes only under the ledger's lock, as the rings do. A ring hands
//! each event it evicts to [`Departures::left`]. An event on one topic has gone when its ring
//! lets it go; an event on several topics is counted down, one ring at a time (a quiet topic's
//! copy outlives a busy topic's eviction of it). Only the events someone needs to hear about are
//! followed: those with an id (the index) and, when a journal is set, every event. The others
//! cost one comparison.

use std::collections::HashMap;
use std::sync::Arc;

use push_core::Published;

use crate::broker::Inner;
use crate::journal::Evicted;
use crate::ledger::Ledger;

/// The departures' books (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Departures {
    /// Whether every event is followed (a journal is set), not only those with ids.
    pub(crate) all: bool,
    /// Followed events on several topics: how many rings still hold each, by sequence number.
    copies: HashMap<u64, u32, foldhash::fast::RandomState>,
    /// Followed events that left their last ring since the broker last took them.
    pub(crate) gone: Vec<Arc<Published>>,
    /// The highest sequence number any ring has evicted (0: none).
    pub(crate) evicted_max: u64,
    /// With a journal: the sequence numbers of events gone that the journal has not yet
    /// forgotten (it hears them with the next append, sweep or restore).
    pub(crate) pending: Vec<u64>,
}

impl Departures {
    /// Books that follow every event (for a journal) or only those with ids.
    pub(crate) fn new(all: bool) -> Self {
        Self {
            all,
            ..Self::default()
        }
    }

    fn followed(&self, published: &Published) -> bool {
        self.all || published.event().id.is_some()
    }

    /// Called once per event (`seq` its sequence number), before it enters its rings.
    pub(crate) fn stored(&mut self, seq: u64, published: &Published) {
        let rings = published.topics().len();
        if rings > 1 && self.followed(published) {
            let rings = u32::try_from(rings).unwrap_or(u32::MAX);
            self.copies.insert(seq, rings);
        }
    }

    /// Called by a ring for each event it evicts (`seq` is the event's sequence number).
    pub(crate) fn left(&mut self, seq: u64, published: Arc<Published>) {
        self.evicted_max = self.evicted_max.max(seq);
        if !self.followed(&published) {
            return;
        }
        if published.topics().len() > 1 {
            match self.copies.get_mut(&seq) {
                Some(rings) if *rings > 1 => {
                    *rings -= 1;
                    return;
                }
                _ => {
                    self.copies.remove(&seq);
                }
            }
        }
        self.gone.push(published);
    }

    /// How many multi-topic events are being counted down (tests: none once history is empty).
    #[cfg(test)]
    pub(crate) fn counting(&self) -> usize {
        self.copies.len()
    }
}

impl Inner {
    /// Takes the events that left their last ring out of the id index and hands their
    /// sequence numbers to the journal's pending list. Called under the ledger's lock, after
    /// every change to the rings (a no-op when nothing followed has left).
    pub(crate) fn forget_departed(&self, ledger: &mut Ledger) {
        let departures = &mut ledger.departures;
        if departures.gone.is_empty() {
            return;
        }
        let mut index = self.index_mut();
        for published in departures.gone.drain(..) {
            index.remove(&published);
            if departures.all {
                departures.pending.push(published.cursor().offset());
            }
        }
    }

    /// Tells the journal (if any) what left the history outside a publish. On failure the
    /// offsets stay pending and go with the next append or flush.
    pub(crate) fn flush_journal(&self, ledger: &mut Ledger) {
        let Some(journal) = &self.config.journal else {
            return;
        };
        let departures = &mut ledger.departures;
        if departures.pending.is_empty() {
            return;
        }
        let evicted = Evicted {
            offsets: &departures.pending,
            evicted_max: departures.evicted_max,
        };
        if journal.forget(evicted).is_ok() {
            departures.pending.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use push_core::{Cursor, Event, Topic};

    use super::*;

    fn published(seq: u64, topics: &[&str], id: Option<&str>) -> Arc<Published> {
        let topics: Vec<Topic> = topics.iter().map(|t| Topic::new(t).unwrap()).collect();
        let mut event = Event::new("x");
        event.id = id.map(str::to_owned);
        Arc::new(Published::with_topics(
            topics.into(),
            Cursor::new(1, seq),
            event,
        ))
    }

    #[test]
    fn a_multi_topic_event_goes_with_its_last_ring() {
        let mut d = Departures::default();
        let p = published(4, &["a", "b", "c"], Some("id"));
        d.stored(p.cursor().offset(), &p);
        d.left(4, Arc::clone(&p));
        d.left(4, Arc::clone(&p));
        assert!(d.gone.is_empty());
        assert_eq!(d.counting(), 1);
        d.left(4, Arc::clone(&p));
        assert_eq!(d.gone.len(), 1);
        assert_eq!((d.counting(), d.evicted_max), (0, 4));
    }

    #[test]
    fn only_events_with_ids_are_followed_without_a_journal() {
        let mut d = Departures::default();
        let plain = published(1, &["a", "b"], None);
        d.stored(plain.cursor().offset(), &plain);
        d.left(1, Arc::clone(&plain));
        d.left(1, plain);
        assert_eq!((d.gone.len(), d.counting(), d.evicted_max), (0, 0, 1));
        let mut all = Departures::new(true);
        let plain = published(2, &["a"], None);
        all.stored(plain.cursor().offset(), &plain);
        all.left(2, plain);
        assert_eq!(all.gone.len(), 1);
    }
}
