//! `Stamps`: when recent events were published, for the publish-to-delivery latency, and the
//! deliveries that came before their publish was stamped.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How many recent publishes keep their time: deliveries of older events (a replay of history)
/// are not timed, since their latency is the client's absence, not the hub's.
pub(crate) const STAMPS: usize = 4096;

/// The most deliveries remembered while their publish is not yet stamped (the oldest is
/// forgotten first: a sample lost, never memory).
pub(crate) const EARLY: usize = 1024;

/// The publish times of the last [`STAMPS`] events, by offset, without a lock on the delivery
/// path: each slot holds an offset and the time, and a reader believes the time only if the
/// offset reads the same before and after it.
///
/// A publish takes its time before it starts and stamps it once the broker has given the
/// cursor, so a subscriber can deliver an event before its stamp: such a delivery is kept
/// (offset and time, under a lock taken only then and at each stamp) and the stamp that
/// comes after it gives its latency. The lock makes the two meet: a delivery checks the stamp
/// again under it, and a stamp looks for early deliveries under it after storing itself.
#[derive(Debug)]
pub(crate) struct Stamps {
    start: Instant,
    slots: Box<[(AtomicU64, AtomicU64)]>,
    early: Mutex<VecDeque<(u64, Instant)>>,
}

impl Stamps {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            slots: (0..STAMPS)
                .map(|_| (AtomicU64::new(u64::MAX), AtomicU64::new(0)))
                .collect(),
            early: Mutex::new(VecDeque::new()),
        }
    }

    /// Stamps `offset` as published at `at`; `early` gets the latency of each delivery of it
    /// that came before.
    pub(crate) fn stamp(&self, offset: u64, at: Instant, mut early: impl FnMut(Duration)) {
        let (slot_offset, micros) = &self.slots[slot(offset)];
        let since =
            u64::try_from(at.saturating_duration_since(self.start).as_micros()).unwrap_or(u64::MAX);
        slot_offset.store(u64::MAX, Ordering::SeqCst);
        micros.store(since, Ordering::SeqCst);
        slot_offset.store(offset, Ordering::SeqCst);
        let mut waiting = self.early.lock().unwrap_or_else(|e| e.into_inner());
        if waiting.is_empty() {
            return;
        }
        // Deliveries of this event, and of events too old to be stamped any more.
        let oldest = offset.saturating_sub(STAMPS as u64);
        waiting.retain(|&(delivered, when)| {
            if delivered == offset {
                early(when.saturating_duration_since(at));
                return false;
            }
            delivered >= oldest
        });
    }

    /// A delivery of `offset` at `now`: its latency if its publish is stamped; if not, it is
    /// kept for the stamp (unless the event is too old to be stamped).
    pub(crate) fn delivered(&self, offset: u64, now: Instant) -> Option<Duration> {
        if let Some(at) = self.published_at(offset) {
            return Some(now.saturating_duration_since(at));
        }
        let mut waiting = self.early.lock().unwrap_or_else(|e| e.into_inner());
        // Again under the lock: a stamp stored meanwhile has not looked for this delivery.
        if let Some(at) = self.published_at(offset) {
            return Some(now.saturating_duration_since(at));
        }
        if waiting.len() == EARLY {
            waiting.pop_front();
        }
        waiting.push_back((offset, now));
        None
    }

    fn published_at(&self, offset: u64) -> Option<Instant> {
        let (at, micros) = &self.slots[slot(offset)];
        if at.load(Ordering::SeqCst) != offset {
            return None;
        }
        let micros = micros.load(Ordering::SeqCst);
        if at.load(Ordering::SeqCst) != offset {
            return None;
        }
        Some(self.start + Duration::from_micros(micros))
    }
}

fn slot(offset: u64) -> usize {
    // STAMPS is a power of two; the remainder fits any usize.
    (offset % STAMPS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_forget_overwritten_offsets() {
        let stamps = Stamps::new();
        let now = Instant::now();
        stamps.stamp(7, now, |_| panic!("no early delivery"));
        assert!(stamps.published_at(7).is_some());
        stamps.stamp(7 + STAMPS as u64, now, |_| panic!("no early delivery"));
        assert!(stamps.published_at(7).is_none());
        assert!(stamps.published_at(7 + STAMPS as u64).is_some());
        assert!(stamps.published_at(8).is_none());
    }

    #[test]
    fn a_delivery_before_the_stamp_is_timed_by_the_stamp() {
        let stamps = Stamps::new();
        let published = Instant::now();
        let delivered = published + Duration::from_millis(3);
        assert_eq!(stamps.delivered(5, delivered), None);
        let mut early = Vec::new();
        stamps.stamp(5, published, |latency| early.push(latency));
        assert_eq!(early, [Duration::from_millis(3)]);
        // Matched once: a later stamp of another event finds nothing.
        stamps.stamp(6, published, |_| panic!("matched twice"));
        // The stamp keeps microseconds: the time read back is at most 1 µs early.
        let later = stamps.delivered(5, delivered + Duration::from_millis(1));
        assert_eq!(later.map(|l| l.as_micros()), Some(4000));
    }

    #[test]
    fn early_deliveries_are_bounded_and_old_ones_forgotten() {
        let stamps = Stamps::new();
        let now = Instant::now();
        for offset in 0..(EARLY as u64 + 10) {
            assert_eq!(stamps.delivered(offset, now), None);
        }
        assert_eq!(stamps.early.lock().unwrap().len(), EARLY);
        // The oldest ten were forgotten.
        stamps.stamp(3, now, |_| panic!("forgotten"));
        // A stamp far ahead drops what can no longer be stamped.
        stamps.stamp(EARLY as u64 + 20 + STAMPS as u64, now, |_| {});
        assert!(stamps.early.lock().unwrap().is_empty());
    }
}
