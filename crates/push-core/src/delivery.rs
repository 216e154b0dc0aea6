//! What a subscription yields: published events, gaps and the reason it closed.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::{Cursor, Event, Topic};

/// An event as a broker stored it: its topic, its cursor and, lazily, its encodings.
///
/// A broker makes one `Published` per publish and hands every subscriber the same
/// `Arc<Published>`. Transports call [`Published::encoded`] so each wire format is encoded once per
/// event, not once per subscriber.
#[derive(Debug)]
pub struct Published {
    topic: Topic,
    cursor: Cursor,
    event: Event,
    encoded: [OnceLock<Bytes>; WireFormat::COUNT],
}

/// The wire formats whose encoding of a [`Published`] event can be cached.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireFormat {
    /// A `text/event-stream` frame.
    Sse,
    /// A JSON object (long polling, the WebSocket push protocol).
    Json,
    /// A second JSON shape, for a transport that needs another one.
    JsonAlt,
    /// Application-defined bytes (for example a binary WebSocket frame).
    Custom,
}

impl WireFormat {
    const COUNT: usize = 4;

    const fn index(self) -> usize {
        match self {
            Self::Sse => 0,
            Self::Json => 1,
            Self::JsonAlt => 2,
            Self::Custom => 3,
        }
    }
}

impl Published {
    /// Wraps an event stored at `cursor` on `topic`.
    pub fn new(topic: Topic, cursor: Cursor, event: Event) -> Self {
        Self {
            topic,
            cursor,
            event,
            encoded: Default::default(),
        }
    }

    /// The topic the event was published on.
    pub fn topic(&self) -> &Topic {
        &self.topic
    }

    /// The cursor of this event: resuming from it yields what came after.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// This event's encoding in `format`, computed by `encode` on first use and cached.
    ///
    /// `encode` must be deterministic for a given format: concurrent first uses may both run it and
    /// one result wins.
    pub fn encoded(&self, format: WireFormat, encode: impl FnOnce(&Self) -> Bytes) -> Bytes {
        self.encoded[format.index()]
            .get_or_init(|| encode(self))
            .clone()
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
    fn encoding_is_computed_once_per_format() {
        let p = Published::new(Topic::new("t").unwrap(), Cursor::new(1, 2), Event::new("x"));
        let calls = Cell::new(0);
        for _ in 0..3 {
            let bytes = p.encoded(WireFormat::Sse, |p| {
                calls.set(calls.get() + 1);
                Bytes::from(format!("id: {}\n", p.cursor()))
            });
            assert_eq!(bytes, Bytes::from_static(b"id: 1-2\n"));
        }
        let json = p.encoded(WireFormat::Json, |_| Bytes::from_static(b"{}"));
        assert_eq!(json, Bytes::from_static(b"{}"));
        assert_eq!(calls.get(), 1);
        assert_eq!(
            Delivery::Event(Arc::new(p)).cursor(),
            Some(Cursor::new(1, 2))
        );
    }
}
