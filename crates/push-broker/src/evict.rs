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
    /// the deadline passes (the `tokio` feature's [`spawn_sweeper`](Self::spawn_sweeper) does);
    /// publishing also expires what is due when the topic limit is reached.
    #[must_use = "the returned deadline is when to sweep next"]
    pub fn sweep(&self) -> Option<Instant> {
        let now = self.inner.config.clock.now();
        let mut emptied = Vec::new();
        let next = {
            let mut ledger = self.inner.ledger();
            self.inner.expire_due(&mut ledger, now, &mut emptied);
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

    /// The time on the broker's clock ([`Config::clock`](crate::Config::clock)).
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
            h.expire(now, age);
            ledger.settle(&topic, &mut h, age);
            if h.is_idle() {
                emptied.push(topic);
            }
        }
    }

    /// Brings the broker back within [`Config::total_history_bytes`](crate::Config): while the
    /// history of all topics costs more, the topic with the most history loses its oldest event.
    ///
    /// That topic is always over its fair share (budget ÷ topics with history): when the total is
    /// over the budget, the largest of `n` topics holds more than `total ÷ n > budget ÷ n`. So a
    /// topic at or under its fair share never loses an event to another topic's publish.
    pub(crate) fn trim(&self, ledger: &mut Ledger, emptied: &mut Vec<Topic>) {
        let age = self.config.history_age;
        while ledger.total_cost > self.config.total_history_bytes {
            let Some((id, topic)) = ledger.largest() else {
                break;
            };
            // The ledger indexes only topics with history, which stay in the map.
            let Some(slot) = self.lookup(&topic) else {
                break;
            };
            let mut h = slot.lock();
            if h.id != id {
                break;
            }
            h.pop_front();
            ledger.settle(&topic, &mut h, age);
            if h.is_idle() {
                emptied.push(topic);
            }
        }
    }
}
