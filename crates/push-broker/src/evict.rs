//! How history leaves the broker without a subscriber's help: the broker-wide byte budget
//! (taken from the topic with the most history) and the age sweep (driven by deadlines, not by
//! traffic).

use std::time::Instant;

use push_core::Topic;

use crate::MemoryBroker;
use crate::broker::Inner;
use crate::ledger::Ledger;

impl MemoryBroker {
    /// Frees the history that has outlived [`Config::history_age`](crate::Config::history_age)
    /// and forgets the topics left with neither history nor subscriber, then returns the next
    /// deadline ([`poll_timeout`](Self::poll_timeout)).
    ///
    /// Only topics whose oldest event is due are visited: the broker keeps its topics ordered by
    /// that deadline, so a sweep costs the work it does, not the number of topics. Call it when
    /// the deadline passes (the `sweeper` feature's [`spawn_sweeper`](Self::spawn_sweeper) does);
    /// publishing also expires what is due when the topic limit is reached.
    #[must_use = "the returned deadline is when to sweep next"]
    pub fn sweep(&self) -> Option<Instant> {
        let now = self.inner.config.clock.now();
        let mut emptied = Vec::new();
        let next = {
            let mut ledger = self.inner.ledger();
            self.inner.expire_due(&mut ledger, now, &mut emptied);
            self.inner.forget_departed(&mut ledger);
            self.inner.flush_journal(&mut ledger);
            ledger.next_deadline()
        };
        for topic in emptied {
            self.inner.release(&topic);
        }
        next
    }

    /// When the next event expires, in the time of the broker's clock: the moment to call
    /// [`sweep`](Self::sweep) next (`None`: no history that can expire). An event published later
    /// expires later than this, so a driver that sleeps until this moment (or for
    /// [`history_age`](crate::Config::history_age) when it is `None`) frees every event on time.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.inner.ledger().next_deadline()
    }

    /// The time on the broker's clock ([`Config::with_clock`](crate::Config::with_clock)).
    pub fn now(&self) -> Instant {
        self.inner.config.clock.now()
    }
}

impl Inner {
    /// Expires every topic whose deadline is at or before `now`; topics left with neither
    /// history nor subscriber are added to `emptied` (to [`release`](Self::release) once the
    /// ledger is unlocked).
    pub(crate) fn expire_due(&self, ledger: &mut Ledger, now: Instant, emptied: &mut Vec<Topic>) {
        let age = self.config.history_age;
        while let Some((id, topic)) = ledger.pop_due(now) {
            // A topic with history is never removed from the map, and the ledger drops a topic
            // from its schedule when its history goes: the lookup finds this very slot.
            let Some(slot) = self.lookup(&topic) else {
                continue;
            };
            let mut h = slot.lock();
            if h.id != id {
                continue;
            }
            h.books.deadline = None;
            h.expire(now, age, &mut ledger.departures);
            ledger.settle(&topic, &mut h, age);
            if h.is_idle() {
                emptied.push(topic);
            }
        }
    }

    /// Brings the broker back within [`Config::total_history_bytes`](crate::Config): while the
    /// history of all topics costs more, a topic over its fair share (budget ÷ topics with
    /// history) loses its oldest event, the topic with the most history first.
    ///
    /// When the total is over the budget, the largest of `n` topics holds more than
    /// `total ÷ n > budget ÷ n`, so there is always such a topic; a topic at or under its fair
    /// share never loses an event to another topic's publish. One exception keeps what was just
    /// published: a topic whose only event has a sequence number above `published_after` (the
    /// publish being made) keeps it, and the next topic over its fair share gives instead. If
    /// none is left, the budget stays exceeded by the events of this publish until the next
    /// one (each at most one event per topic, an event the topic's own budget lets in).
    pub(crate) fn trim(&self, ledger: &mut Ledger, published_after: u64, emptied: &mut Vec<Topic>) {
        let age = self.config.history_age;
        let budget = self.config.total_history_bytes;
        while ledger.total_cost > budget {
            let share = budget / ledger.live_topics.max(1) as u64;
            let mut victim = None;
            for (id, cost, topic) in ledger.largest_first() {
                if cost <= share {
                    break;
                }
                // The ledger indexes only topics with history, which stay in the map.
                let Some(slot) = self.lookup(topic) else {
                    continue;
                };
                let h = slot.lock();
                if h.id != id || (h.len() == 1 && h.newest_seq() > published_after) {
                    continue;
                }
                drop(h);
                victim = Some((topic.clone(), slot));
                break;
            }
            let Some((topic, slot)) = victim else { break };
            let mut h = slot.lock();
            h.pop_front(&mut ledger.departures);
            ledger.settle(&topic, &mut h, age);
            if h.is_idle() {
                emptied.push(topic);
            }
        }
    }
}
