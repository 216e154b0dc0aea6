//! The broker-wide books, kept under one lock together with the sequence: how many topics hold
//! history, what all history costs, the topics ordered by cost (for fair-share eviction) and by
//! the expiry of their oldest event (for sweeps).
//!
//! The books mirror the topics: after any change to a topic's history, whoever changed it calls
//! [`Ledger::settle`] while still holding both the ledger and the topic, so the two never
//! disagree where another thread can look.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use push_core::Topic;

use crate::departures::Departures;
use crate::history::History;

/// The broker-wide books (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// The last sequence number handed out.
    pub(crate) seq: u64,
    /// How many topics retain at least one event.
    pub(crate) live_topics: usize,
    /// The summed cost of every retained event.
    pub(crate) total_cost: u64,
    /// Every topic with history, by `(cost, id)`: the last entry is the topic to trim first.
    by_cost: BTreeMap<(u64, u64), Topic>,
    /// Every topic with history, by `(deadline, id)`: when its oldest event (or an older one,
    /// evicted since) expires. A topic is in here exactly while it has history.
    deadlines: BTreeMap<(Instant, u64), Topic>,
    /// What left the rings (for the id index and the journal), changed with them.
    pub(crate) departures: Departures,
}

impl Ledger {
    /// Empty books; `follow_all`: every event's departure is followed (a journal is set), not
    /// only those of events with ids.
    pub(crate) fn new(follow_all: bool) -> Self {
        Self {
            departures: Departures::new(follow_all),
            ..Self::default()
        }
    }

    /// Brings the books in line with `h` (the history of `topic`) after a change to it.
    pub(crate) fn settle(&mut self, topic: &Topic, h: &mut History, age: Duration) {
        let cost = h.cost();
        if h.books.cost != cost {
            if h.books.cost != 0 {
                self.by_cost.remove(&(h.books.cost, h.id));
            }
            if cost != 0 {
                self.by_cost.insert((cost, h.id), topic.clone());
            }
            self.total_cost = self.total_cost - h.books.cost + cost;
            h.books.cost = cost;
        }
        let live = h.len() > 0;
        if live != h.books.live {
            if live {
                self.live_topics += 1;
            } else {
                self.live_topics -= 1;
            }
            h.books.live = live;
        }
        match (h.books.deadline, h.oldest_at()) {
            (Some(deadline), None) => {
                self.deadlines.remove(&(deadline, h.id));
                h.books.deadline = None;
            }
            (None, Some(at)) => {
                // Due once the oldest event is strictly older than `age` (`History::expire`):
                // one nanosecond past, so a sweep at the deadline always frees something. An age
                // too large to add never expires.
                let deadline = at
                    .checked_add(age)
                    .and_then(|t| t.checked_add(Duration::from_nanos(1)));
                if let Some(deadline) = deadline {
                    self.deadlines.insert((deadline, h.id), topic.clone());
                    h.books.deadline = Some(deadline);
                }
            }
            // Still scheduled, perhaps earlier than needed (count or byte eviction moved the
            // front on): the sweep then schedules it again for its new oldest event.
            _ => {}
        }
    }

    /// The topic with the most history, if any holds history: `(id, topic)`.
    #[cfg(test)]
    pub(crate) fn largest(&self) -> Option<(u64, Topic)> {
        self.by_cost
            .last_key_value()
            .map(|(&(_, id), topic)| (id, topic.clone()))
    }

    /// The topics with history, the most costly first: `(id, cost, topic)`.
    pub(crate) fn largest_first(&self) -> impl Iterator<Item = (u64, u64, &Topic)> {
        self.by_cost
            .iter()
            .rev()
            .map(|(&(cost, id), topic)| (id, cost, topic))
    }

    /// The earliest deadline, if any topic holds history that can expire.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first_key_value().map(|(&(at, _), _)| at)
    }

    /// Takes the earliest deadline at or before `now` out of the schedule: `(id, topic)`. The
    /// caller clears the topic's `books.deadline`, expires it and settles it, which schedules it
    /// again if history is left.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(u64, Topic)> {
        let entry = self.deadlines.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        let ((_, id), topic) = entry.remove_entry();
        Some((id, topic))
    }

    /// How many topics wait in the schedule (tests: it never holds more than the live topics).
    #[cfg(test)]
    pub(crate) fn scheduled(&self) -> usize {
        self.deadlines.len()
    }
}

/// What the ledger last recorded for one topic, kept in the topic so the ledger can find and
/// replace its entries.
#[derive(Debug, Default)]
pub(crate) struct Books {
    /// The cost the ledger indexes this topic under (0: not indexed).
    pub(crate) cost: u64,
    /// Whether the ledger counts this topic as holding history.
    pub(crate) live: bool,
    /// The deadline the ledger schedules this topic at.
    pub(crate) deadline: Option<Instant>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use push_core::{Cursor, Event, Published};

    use super::*;
    use crate::history::Limits;
    use crate::wake::WakeList;

    #[test]
    fn the_books_follow_a_topic_in_and_out_of_history() {
        let topic = Topic::new("t").unwrap();
        let age = Duration::from_secs(5);
        let limits = Limits {
            count: 10,
            age,
            bytes: u64::MAX,
        };
        let mut ledger = Ledger::default();
        let mut h = History::default();
        let t0 = Instant::now();
        for seq in 1..=3 {
            let published = Arc::new(Published::new(
                topic.clone(),
                Cursor::new(1, seq),
                Event::new("abc"),
            ));
            h.push(
                seq,
                t0,
                published,
                limits,
                &mut WakeList::default(),
                &mut ledger.departures,
            );
            ledger.settle(&topic, &mut h, age);
        }
        // One schedule entry and one cost entry per topic, however often it is settled.
        assert_eq!((ledger.scheduled(), ledger.live_topics), (1, 1));
        assert_eq!(ledger.total_cost, h.cost());
        assert_eq!(ledger.largest(), Some((h.id, topic.clone())));
        let deadline = ledger.next_deadline().unwrap();
        assert_eq!(deadline, t0 + age + Duration::from_nanos(1));
        assert_eq!(ledger.pop_due(deadline - Duration::from_nanos(1)), None);
        for _ in 0..3 {
            h.pop_front(&mut ledger.departures);
            ledger.settle(&topic, &mut h, age);
        }
        assert_eq!((ledger.scheduled(), ledger.live_topics), (0, 0));
        assert_eq!((ledger.total_cost, ledger.largest()), (0, None));
        assert_eq!(ledger.next_deadline(), None);
    }
}
