//! One topic's state: its retained history and the wakers of the subscribers waiting on it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

use push_core::Published;

use crate::departures::Departures;
use crate::ids::ID_OVERHEAD;
use crate::ledger::Books;
use crate::wake::WakeList;

/// What a retained event costs beside its [`weight`](push_core::Event::weight) in the byte
/// budgets: its ring entry, the shared `Published` (with its encode cache slots) and the reference
/// counts and allocator headers around them. An estimate, so that many tiny events are bounded too.
pub(crate) const EVENT_OVERHEAD: u64 =
    (size_of::<Entry>() + size_of::<Published>() + 4 * size_of::<usize>() + 64) as u64;

/// What one retained event counts for in the byte budgets (with its id index entry, if it has
/// an id: the index holds what the history holds).
pub(crate) fn cost(published: &Published) -> u64 {
    let event = published.event();
    let indexed = if event.id.is_some() { ID_OVERHEAD } else { 0 };
    event.weight() as u64 + EVENT_OVERHEAD + indexed
}

/// The limits one topic's history keeps to by itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) count: usize,
    pub(crate) age: Duration,
    pub(crate) bytes: u64,
}

/// A topic shared by the broker's map and every subscription that selects it.
#[derive(Debug)]
pub(crate) struct TopicSlot {
    state: Mutex<History>,
}

impl TopicSlot {
    /// A topic with no history yet; `id` is unique in its broker, `evicted_max` the loss it
    /// inherits (the broker-wide floor of removed topics).
    pub(crate) fn new(id: u64, evicted_max: u64) -> Self {
        Self {
            state: Mutex::new(History {
                id,
                evicted_max,
                inherited: evicted_max,
                ..History::default()
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, History> {
        // A panic while holding the lock cannot leave the history half-updated in a way that
        // breaks its invariants (every mutation is a single push/pop), so poison is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One retained event.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The broker-wide sequence number (the cursor offset).
    pub(crate) seq: u64,
    /// The topic's running byte total before this event.
    pub(crate) start_bytes: u64,
    pub(crate) at: Instant,
    pub(crate) published: Arc<Published>,
}

#[derive(Debug)]
enum Waiter {
    Free { next: usize },
    Idle,
    Waiting(Waker),
}

/// A topic's history (a ring of the newest events, counted in topic-local indexes) and its
/// subscriber slots.
///
/// Topic-local index `i` is the `i`-th event ever published on the topic; the ring holds the
/// indexes `front..total`.
#[derive(Debug, Default)]
pub(crate) struct History {
    /// Unique in the broker: the ledger's key for this topic.
    pub(crate) id: u64,
    /// What the ledger last recorded for this topic.
    pub(crate) books: Books,
    ring: VecDeque<Entry>,
    front: u64,
    total_bytes: u64,
    /// The summed [`cost`] of the retained events.
    cost: u64,
    /// The highest sequence number ever evicted from this topic (0: none), starting from the
    /// loss it inherited.
    pub(crate) evicted_max: u64,
    /// The loss this topic inherited when it was created (the floor of removed topics): a
    /// subscription that attaches to the topic after creating it lost nothing from it.
    pub(crate) inherited: u64,
    waiters: Vec<Waiter>,
    free_head: Option<usize>,
    subscribers: usize,
}

impl History {
    /// The index of the next event to be published here.
    pub(crate) fn total(&self) -> u64 {
        self.front + self.ring.len() as u64
    }

    /// The index of the oldest retained event.
    pub(crate) fn front(&self) -> u64 {
        self.front
    }

    /// The retained event at topic-local `index`, if it is retained.
    pub(crate) fn get(&self, index: u64) -> Option<&Entry> {
        let offset = index.checked_sub(self.front)?;
        self.ring.get(usize::try_from(offset).ok()?)
    }

    /// The index of the first retained event whose sequence number is above `seq`.
    pub(crate) fn first_after(&self, seq: u64) -> u64 {
        self.front + self.ring.partition_point(|e| e.seq <= seq) as u64
    }

    /// Bytes published at and after `index` (0 when `index` is at or past the end).
    pub(crate) fn bytes_from(&self, index: u64) -> u64 {
        self.get(index)
            .map_or(0, |e| self.total_bytes - e.start_bytes)
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.subscribers == 0 && self.ring.is_empty()
    }

    /// The summed [`cost`] of the retained events.
    pub(crate) fn cost(&self) -> u64 {
        self.cost
    }

    /// The sequence number of the newest retained event (0: none).
    pub(crate) fn newest_seq(&self) -> u64 {
        self.ring.back().map_or(0, |e| e.seq)
    }

    /// When the oldest retained event was published.
    pub(crate) fn oldest_at(&self) -> Option<Instant> {
        self.ring.front().map(|e| e.at)
    }

    /// Appends an event, evicts what the topic's own limits no longer allow (the new event
    /// always stays, the evicted ones go to `departures`), and collects the wakers of every
    /// waiting subscriber into `wake`.
    pub(crate) fn push(
        &mut self,
        seq: u64,
        at: Instant,
        published: Arc<Published>,
        limits: Limits,
        wake: &mut WakeList,
        departures: &mut Departures,
    ) {
        let weight = published.event().weight() as u64;
        self.cost += cost(&published);
        self.ring.push_back(Entry {
            seq,
            start_bytes: self.total_bytes,
            at,
            published,
        });
        self.total_bytes += weight;
        while self.ring.len() > limits.count || (self.cost > limits.bytes && self.ring.len() > 1) {
            self.pop_front(departures);
        }
        self.expire(at, limits.age, departures);
        self.wake_all(wake);
    }

    /// Without changing anything: the index of the oldest event not older than `age` at `now`,
    /// and the sequence number of the newest event that is (0: none).
    pub(crate) fn first_unexpired(&self, now: Instant, age: Duration) -> (u64, u64) {
        // The ring is in time order (events are stamped under the ledger's lock).
        let expired = self
            .ring
            .partition_point(|e| now.saturating_duration_since(e.at) > age);
        let seq = expired
            .checked_sub(1)
            .and_then(|i| self.ring.get(i))
            .map_or(0, |e| e.seq);
        (self.front + expired as u64, seq)
    }

    /// Evicts events older than `age` at `now` (to `departures`).
    pub(crate) fn expire(&mut self, now: Instant, age: Duration, departures: &mut Departures) {
        while self
            .ring
            .front()
            .is_some_and(|e| now.saturating_duration_since(e.at) > age)
        {
            self.pop_front(departures);
        }
    }

    /// Evicts the oldest event (the broker's budget takes it from the topic with the most) and
    /// hands it to `departures`.
    pub(crate) fn pop_front(&mut self, departures: &mut Departures) {
        if let Some(e) = self.ring.pop_front() {
            self.front += 1;
            self.evicted_max = e.seq;
            self.cost -= cost(&e.published);
            departures.left(e.seq, e.published);
        }
    }

    /// Takes a subscriber slot; the key is used to park and release.
    pub(crate) fn join(&mut self) -> usize {
        self.subscribers += 1;
        if let Some(key) = self.free_head {
            let Waiter::Free { next } = self.waiters[key] else {
                unreachable!("free list entries are Free");
            };
            self.free_head = (next != usize::MAX).then_some(next);
            self.waiters[key] = Waiter::Idle;
            key
        } else {
            self.waiters.push(Waiter::Idle);
            self.waiters.len() - 1
        }
    }

    /// Releases a subscriber slot at once.
    pub(crate) fn leave(&mut self, key: usize) {
        self.subscribers -= 1;
        if self.subscribers == 0 {
            // Nobody left: give the slot table's memory back.
            self.waiters = Vec::new();
            self.free_head = None;
            return;
        }
        self.waiters[key] = Waiter::Free {
            next: self.free_head.unwrap_or(usize::MAX),
        };
        self.free_head = Some(key);
    }

    /// Parks a subscriber until the next publish on this topic.
    pub(crate) fn park(&mut self, key: usize, waker: &Waker) {
        match &mut self.waiters[key] {
            Waiter::Waiting(w) if w.will_wake(waker) => {}
            slot => *slot = Waiter::Waiting(waker.clone()),
        }
    }

    /// Collects every parked waker, leaving the slots idle.
    pub(crate) fn wake_all(&mut self, wake: &mut WakeList) {
        for w in &mut self.waiters {
            if matches!(w, Waiter::Waiting(_))
                && let Waiter::Waiting(waker) = core::mem::replace(w, Waiter::Idle)
            {
                wake.push(waker);
            }
        }
    }

    /// The number of live subscriber slots.
    pub(crate) fn subscribers(&self) -> usize {
        self.subscribers
    }

    /// The number of retained events.
    pub(crate) fn len(&self) -> usize {
        self.ring.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use push_core::{Cursor, Event, Topic};

    fn published(seq: u64, data: &str) -> Arc<Published> {
        Arc::new(Published::new(
            Topic::new("t").unwrap(),
            Cursor::new(1, seq),
            Event::new(data.to_owned()),
        ))
    }

    #[test]
    fn ring_evicts_by_count_and_age_and_tracks_bytes() {
        let mut h = History::default();
        let t0 = Instant::now();
        let mut wake = WakeList::default();
        let mut gone = Departures::default();
        for (i, seq) in [3u64, 5, 9].into_iter().enumerate() {
            let at = t0 + Duration::from_secs(i as u64);
            let limits = Limits {
                count: 2,
                age: Duration::from_secs(60),
                bytes: u64::MAX,
            };
            h.push(seq, at, published(seq, "ab"), limits, &mut wake, &mut gone);
        }
        assert_eq!((h.front(), h.total(), h.len()), (1, 3, 2));
        assert_eq!(h.evicted_max, 3);
        assert_eq!(h.first_after(0), 1);
        assert_eq!(h.first_after(5), 2);
        assert_eq!(h.first_after(9), 3);
        assert_eq!(h.bytes_from(1), 4);
        assert_eq!(h.bytes_from(3), 0);
        h.expire(
            t0 + Duration::from_secs(62),
            Duration::from_secs(60),
            &mut gone,
        );
        assert_eq!((h.front(), h.len(), h.evicted_max), (2, 1, 5));
    }

    #[test]
    fn ring_evicts_by_bytes_but_keeps_the_newest_event() {
        let mut h = History::default();
        let t0 = Instant::now();
        let mut wake = WakeList::default();
        let mut gone = Departures::default();
        let each = 10 + EVENT_OVERHEAD;
        let limits = Limits {
            count: 100,
            age: Duration::from_secs(60),
            bytes: 3 * each,
        };
        for seq in 1..=5 {
            h.push(
                seq,
                t0,
                published(seq, "0123456789"),
                limits,
                &mut wake,
                &mut gone,
            );
        }
        assert_eq!((h.len(), h.cost(), h.evicted_max), (3, 3 * each, 2));
        // One event larger than the whole budget stays, alone.
        let big = "x".repeat(10 * each as usize);
        h.push(6, t0, published(6, &big), limits, &mut wake, &mut gone);
        assert_eq!((h.len(), h.evicted_max), (1, 5));
        assert_eq!(h.cost(), big.len() as u64 + EVENT_OVERHEAD);
        h.pop_front(&mut gone);
        assert_eq!((h.len(), h.cost()), (0, 0));
        assert_eq!(gone.evicted_max, 6);
    }

    #[test]
    fn slots_are_reused_and_released() {
        let mut h = History::default();
        let a = h.join();
        let b = h.join();
        h.leave(a);
        let c = h.join();
        assert_eq!(c, a);
        assert_eq!(h.subscribers(), 2);
        h.leave(b);
        h.leave(c);
        assert!(h.is_idle());
        assert_eq!(h.waiters.capacity(), 0);
    }
}
