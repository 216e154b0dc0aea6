//! The publish / subscribe traits every broker implements and every transport consumes.

use core::future::Future;

use futures_core::Stream;

use crate::{Cursor, Delivery, Error, Event, PublishError, Selector, Topic};

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
}

/// A broker: publishes events on topics and opens subscriptions on selectors.
pub trait Broker: Send + Sync + 'static {
    /// The subscription type.
    type Subscription: Subscription + 'static;

    /// Publishes `event` on `topic` and returns the cursor it was stored at.
    ///
    /// Publishing never waits for subscribers; it may wait for the backing store.
    fn publish(
        &self,
        topic: &Topic,
        event: Event,
    ) -> impl Future<Output = Result<Cursor, Error>> + Send;

    /// Publishes `event` on every topic of `selector` and returns their cursors, one per topic
    /// in the selector's order.
    ///
    /// The provided implementation publishes topic by topic and stops at the first error, which
    /// it returns with the cursors of the topics already published
    /// ([`PublishError::published`]): a partial success is reported, never hidden. A broker
    /// that can decide a multi-topic publish at once overrides it to publish to all or none
    /// (the in-memory broker does), and then its errors carry nothing published.
    ///
    /// # Errors
    /// The first [`publish`](Self::publish) error, with what was published before it.
    fn publish_many(
        &self,
        selector: &Selector,
        event: Event,
    ) -> impl Future<Output = Result<Vec<Cursor>, PublishError>> + Send {
        async move {
            let mut published = Vec::with_capacity(selector.topics().len());
            for topic in selector.topics() {
                match self.publish(topic, event.clone()).await {
                    Ok(cursor) => published.push((topic.clone(), cursor)),
                    Err(error) => return Err(PublishError::new(published, error)),
                }
            }
            Ok(published.into_iter().map(|(_, cursor)| cursor).collect())
        }
    }

    /// Opens a subscription on `selector`: live events only when `from` is `None`, otherwise the
    /// retained events after `from` first (a [`Delivery::Gap`] first when `from` cannot be honoured
    /// exactly: another epoch, a cursor from the future, or events already evicted).
    fn subscribe(
        &self,
        selector: &Selector,
        from: Option<Cursor>,
    ) -> Result<Self::Subscription, Error>;

    /// The cursor of the newest event published, in this broker's epoch (offset 0 when none).
    fn head(&self) -> Cursor;
}
