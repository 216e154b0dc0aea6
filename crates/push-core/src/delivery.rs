//! What a subscription yields: published events, gaps and the reason it closed.

use core::any::TypeId;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::{Cursor, Event, Topic};

/// How many transports' encodings one [`Published`] event caches: at least the wire formats one
/// server runs side by side. The hub has seven: SSE with and without the event's own id, long
/// polling's JSON, WebSocket's JSON, and a `MESSAGE` tail per STOMP version (1.0, 1.1, 1.2),
/// whose header escaping differs. A slot costs about 56 bytes per event, counted in the
/// broker's byte budgets with the rest of the `Published`.
const ENCODING_SLOTS: usize = 8;

/// An event as a broker stored it: its topics, its cursor and, lazily, its encodings.
///
/// A broker makes one `Published` per publish, however many topics it went to, and hands every
/// subscriber the same `Arc<Published>`. Transports call [`Published::encoded`] so each wire
/// format is encoded once per event, not once per subscriber.
#[derive(Debug)]
pub struct Published {
    /// At least one; the first is the canonical topic.
    topics: Box<[Topic]>,
    cursor: Cursor,
    event: Event,
    encoded: [OnceLock<(TypeId, Bytes)>; ENCODING_SLOTS],
}

impl Published {
    /// Wraps an event stored at `cursor` on one topic.
    pub fn new(topic: Topic, cursor: Cursor, event: Event) -> Self {
        Self::with_topics(Box::new([topic]), cursor, event)
    }

    /// Wraps an event stored at `cursor` on several topics: the first is the canonical one.
    ///
    /// # Panics
    /// When `topics` is empty (a broker refuses such a publish before storing anything).
    pub fn with_topics(topics: Box<[Topic]>, cursor: Cursor, event: Event) -> Self {
        assert!(
            !topics.is_empty(),
            "an event is published on at least one topic"
        );
        Self {
            topics,
            cursor,
            event,
            encoded: Default::default(),
        }
    }

    /// The canonical topic: the first the event was published on.
    pub fn topic(&self) -> &Topic {
        &self.topics[0]
    }

    /// Every topic the event was published on, the canonical one first, without duplicates.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// The cursor of this event: resuming from it yields what came after.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// This event's encoding for the wire format named by the marker type `K` (each transport
    /// declares a private one, so no two transports share a key), computed by `encode` on first
    /// use and cached.
    ///
    /// The cache holds a few formats; when its slots are all taken by other keys, `encode` runs
    /// on every call. It takes no lock: `encode` must be deterministic for a given key, as
    /// concurrent first uses may both run it and one result wins.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use push_core::{Cursor, Event, Published, Topic};
    ///
    /// struct MyFormat;
    /// let p = Published::new(Topic::new("t").unwrap(), Cursor::new(1, 2), Event::new("x"));
    /// let frame = p.encoded::<MyFormat>(|p| Bytes::from(format!("{}\n", p.cursor())));
    /// assert_eq!(frame, "1-2\n");
    /// ```
    pub fn encoded<K: 'static>(&self, encode: impl FnOnce(&Self) -> Bytes) -> Bytes {
        let key = TypeId::of::<K>();
        for slot in &self.encoded {
            match slot.get() {
                Some((k, bytes)) if *k == key => return bytes.clone(),
                Some(_) => {}
                None => break,
            }
        }
        let bytes = encode(self);
        for slot in &self.encoded {
            match slot.set((key, bytes.clone())) {
                Ok(()) => break,
                // Another thread encoded this key first: its bytes are the same.
                Err(_) if slot.get().is_some_and(|(k, _)| *k == key) => break,
                Err(_) => {}
            }
        }
        bytes
    }
}

/// Why a subscription could not deliver every event after its cursor.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GapReason {
    /// The cursor names another history (the broker restarted, or the cursor is from another broker).
    UnknownEpoch,
    /// The cursor is ahead of everything this broker has published.
    FromFuture,
    /// Events after the cursor were evicted from the history (by count or age) before delivery.
    Evicted,
    /// The subscriber fell behind by more than its queue allows and its backlog was dropped.
    Overflow,
}

impl GapReason {
    /// A short lowercase name, for wire formats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownEpoch => "unknown-epoch",
            Self::FromFuture => "from-future",
            Self::Evicted => "evicted",
            Self::Overflow => "overflow",
        }
    }
}

/// An announced loss: some events after the subscriber's cursor will never be delivered.
///
/// The subscription continues after `resume`: what it yields next is every selected event after
/// `resume`, in order. A client that reconnects should resume from `resume`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gap {
    /// Why events were lost.
    pub reason: GapReason,
    /// Where the subscription continues from.
    pub resume: Cursor,
}

/// Why a subscription ended.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The subscriber fell behind its queue bound and the policy is to close.
    Overflow,
    /// The broker shut down.
    Shutdown,
    /// The subscription's access ended ([`Access::with_until`](crate::Access::with_until)).
    Expired,
}

impl CloseReason {
    /// A short lowercase name, for wire formats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overflow => "overflow",
            Self::Shutdown => "shutdown",
            Self::Expired => "expired",
        }
    }
}

/// One item of a subscription.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// An event, shared with every other subscriber that receives it.
    Event(Arc<Published>),
    /// Events were lost; the subscription goes on after [`Gap::resume`].
    Gap(Gap),
    /// The subscription ended; the stream yields nothing more.
    Closed(CloseReason),
}

impl Delivery {
    /// The cursor a client should resume from after this item, if it moves the cursor.
    pub fn cursor(&self) -> Option<Cursor> {
        match self {
            Self::Event(p) => Some(p.cursor()),
            Self::Gap(g) => Some(g.resume),
            Self::Closed(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn encoding_is_computed_once_per_key() {
        struct Sse;
        struct Json;
        let p = Published::new(Topic::new("t").unwrap(), Cursor::new(1, 2), Event::new("x"));
        let calls = Cell::new(0);
        for _ in 0..3 {
            let bytes = p.encoded::<Sse>(|p| {
                calls.set(calls.get() + 1);
                Bytes::from(format!("id: {}\n", p.cursor()))
            });
            assert_eq!(bytes, Bytes::from_static(b"id: 1-2\n"));
        }
        let json = p.encoded::<Json>(|_| Bytes::from_static(b"{}"));
        assert_eq!(json, Bytes::from_static(b"{}"));
        assert_eq!(p.encoded::<Sse>(|_| Bytes::new()), "id: 1-2\n");
        assert_eq!(calls.get(), 1);
        assert_eq!(
            Delivery::Event(Arc::new(p)).cursor(),
            Some(Cursor::new(1, 2))
        );
    }

    /// Past the slots, every other key still gets its own encoding, uncached.
    #[test]
    fn keys_past_the_slots_encode_every_time() {
        struct K<const N: usize>;
        fn once<const N: usize>(p: &Published, calls: &Cell<usize>) -> Bytes {
            p.encoded::<K<N>>(|_| {
                calls.set(calls.get() + 1);
                Bytes::from(N.to_string())
            })
        }
        let p = Published::new(Topic::new("t").unwrap(), Cursor::new(1, 2), Event::new("x"));
        let calls = Cell::new(0);
        for _ in 0..2 {
            assert_eq!(once::<0>(&p, &calls), "0");
            assert_eq!(once::<1>(&p, &calls), "1");
            assert_eq!(once::<2>(&p, &calls), "2");
            assert_eq!(once::<3>(&p, &calls), "3");
            assert_eq!(once::<4>(&p, &calls), "4");
            assert_eq!(once::<5>(&p, &calls), "5");
            assert_eq!(once::<6>(&p, &calls), "6");
            assert_eq!(once::<7>(&p, &calls), "7");
            assert_eq!(once::<8>(&p, &calls), "8");
        }
        // Eight cached after their first use, the ninth encoded both times.
        assert_eq!(calls.get(), ENCODING_SLOTS + 2);
    }
}
