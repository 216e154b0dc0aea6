//! The publish / subscribe traits every broker implements and every transport consumes.

use core::future::Future;

use futures_core::Stream;

use crate::{Access, Cursor, Delivery, Error, Event, Selector, Topic};

/// A live subscription: a stream of [`Delivery`] items that knows where it is.
///
/// Contract (every implementation upholds it, every transport relies on it):
/// - It yields the selected events after the `from` cursor it was opened with, in cursor order,
///   then live events as they are published, with no hole and no duplicate at the seam.
/// - When it cannot deliver something it should, it yields a [`Delivery::Gap`] at the place of
///   the loss; it never skips events silently.
/// - After [`Delivery::Closed`] it yields `None`.
/// - Dropping it releases everything it holds in the broker at once.
pub trait Subscription: Stream<Item = Delivery> + Send + Unpin {
    /// The cursor to resume from: the position after the last item yielded (or, before any,
    /// where the subscription started).
    fn cursor(&self) -> Cursor;

    /// How far behind this subscription is: the events on its topics it has still to yield
    /// (history it replays and live events), as the broker last saw them without waiting (an
    /// event on several followed topics may count once per topic). `None` when the broker does not tell, as while it
    /// replays from a remote store. Hubs report it as the subscriber's lag; a subscription
    /// that keeps up reads 0.
    fn lag(&self) -> Option<u64> {
        None
    }
}

/// A broker: publishes events on topics and opens subscriptions on selectors.
pub trait Broker: Send + Sync + 'static {
    /// The subscription type.
    type Subscription: Subscription + 'static;

    /// Publishes `event` on `topics` and returns the one cursor it was stored at.
    ///
    /// The event is stored once and delivered once to each subscriber, even one whose selector
    /// matches several of its topics. `topics[0]` is the canonical topic
    /// ([`Published::topic`](crate::Published::topic)), the others are alternates; duplicates
    /// are ignored. A publish is all or nothing: on error nothing was stored. Publishing never
    /// waits for subscribers; it may wait for the backing store.
    ///
    /// # Errors
    /// [`Error::SelectorEmpty`] for no topic, [`Error::SelectorTooLarge`] past
    /// [`MAX_SELECTOR_TOPICS`](crate::MAX_SELECTOR_TOPICS) distinct topics, and the broker's own
    /// ([`Error::BrokerClosed`], [`Error::BrokerUnavailable`], [`Error::TopicLimit`]).
    fn publish(
        &self,
        topics: &[Topic],
        event: Event,
    ) -> impl Future<Output = Result<Cursor, Error>> + Send;

    /// Opens a subscription on `selector` with `access`: live events only when `from` is
    /// `None`, otherwise the retained events after `from` first (a [`Delivery::Gap`] first when
    /// `from` cannot be honoured exactly: another epoch, a cursor from the future, or events
    /// already evicted).
    ///
    /// It yields the events [`Access::admits`] (public ones, and private ones on the topics
    /// the access grants), and ends with [`CloseReason::Expired`](crate::CloseReason::Expired)
    /// once [`Access::until`] has passed.
    fn subscribe(
        &self,
        selector: &Selector,
        from: Option<Cursor>,
        access: &Access,
    ) -> Result<Self::Subscription, Error>;

    /// The cursor of the newest event published, in this broker's epoch (offset 0 when none).
    fn head(&self) -> Cursor;

    /// The cursor of the earliest retained event whose publisher id ([`Event::id`]) is `id`:
    /// resuming from it yields exactly what came after that event. `None` when no retained
    /// event carries `id` (never published, or evicted from every topic it was on) or when the
    /// broker keeps no id index (the default).
    ///
    /// This is how a protocol whose clients resume with the publisher's ids (Mercure's
    /// `Last-Event-ID`) resumes exactly. Contract for brokers that keep an index: it is bounded
    /// with the retained history (an id leaves it with the last copy of its event), and a
    /// duplicated id resolves to its earliest retained occurrence. An id that does not resolve
    /// is a loss the caller announces (a gap), never a silent resume from elsewhere.
    fn resolve(&self, id: &str) -> Option<Cursor> {
        let _ = id;
        None
    }

    /// Where `resume` places a client, the same on every transport: a cursor is that cursor
    /// (never looked up as an id: a publisher could otherwise steer other clients' resumes by
    /// publishing under a cursor's text, which is why the hub refuses such ids); an id this
    /// broker resolves ([`resolve`](Self::resolve)) is its event's cursor; an id it cannot
    /// resolve (no longer retained, or never published) places the client in no history this
    /// broker keeps, so that [`subscribe`](Self::subscribe) announces a gap before all it
    /// retains: never a silent resume from elsewhere.
    fn place(&self, resume: &crate::Resume) -> Cursor {
        match resume {
            crate::Resume::Cursor(cursor) => *cursor,
            crate::Resume::Id(id) => self
                .resolve(id)
                .unwrap_or_else(|| crate::resume::nowhere(self)),
        }
    }
}
