//! `Metered`: the hub's broker, counted. It wraps any `push_core::Broker` so that every
//! transport's deliveries, gaps, overflows and publish-to-delivery latency reach the metrics
//! without any transport knowing about them.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use push_core::{
    Access, Broker, CloseReason, Cursor, Delivery, Error, Event, GapReason, Selector, Subscription,
    Topic,
};

use super::metrics::Metrics;

/// A broker whose publishes and deliveries are counted in [`Metrics`].
///
/// The cost per delivery is two relaxed atomic additions, one clock read and one histogram
/// observation; per subscription one pointer.
#[derive(Debug)]
pub struct Metered<B> {
    inner: B,
    books: Arc<Books>,
}

impl<B: Clone> Clone for Metered<B> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            books: Arc::clone(&self.books),
        }
    }
}

/// The metrics and the publish times of recent events.
#[derive(Debug)]
struct Books {
    metrics: Arc<Metrics>,
    stamps: Stamps,
}

impl<B> Metered<B> {
    /// Counts `inner`'s traffic in `metrics`.
    pub fn new(inner: B, metrics: Arc<Metrics>) -> Self {
        Self {
            inner,
            books: Arc::new(Books {
                metrics,
                stamps: Stamps::new(),
            }),
        }
    }

    /// The wrapped broker.
    pub fn inner(&self) -> &B {
        &self.inner
    }
}

impl<B: Broker> Broker for Metered<B> {
    type Subscription = MeteredSubscription<B::Subscription>;

    async fn publish(&self, topics: &[Topic], event: Event) -> Result<Cursor, Error> {
        let cursor = self.inner.publish(topics, event).await?;
        self.books.stamps.stamp(cursor.offset());
        self.books.metrics.published.inc();
        Ok(cursor)
    }

    fn subscribe(
        &self,
        selector: &Selector,
        from: Option<Cursor>,
        access: &Access,
    ) -> Result<Self::Subscription, Error> {
        Ok(MeteredSubscription {
            inner: self.inner.subscribe(selector, from, access)?,
            books: Arc::clone(&self.books),
        })
    }

    fn head(&self) -> Cursor {
        self.inner.head()
    }

    fn resolve(&self, id: &str) -> Option<Cursor> {
        self.inner.resolve(id)
    }
}

/// A subscription of a [`Metered`] broker.
#[derive(Debug)]
pub struct MeteredSubscription<S> {
    inner: S,
    books: Arc<Books>,
}

impl<S: Subscription> Stream for MeteredSubscription<S> {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        let item = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(delivery)) = &item {
            let metrics = &self.books.metrics;
            match delivery {
                Delivery::Event(published) => {
                    metrics.delivered.inc();
                    if let Some(at) = self.books.stamps.published_at(published.cursor().offset()) {
                        metrics.latency.observe(at.elapsed().as_secs_f64());
                    }
                }
                Delivery::Gap(gap) => {
                    metrics.gap(gap.reason.as_str());
                    if gap.reason == GapReason::Overflow {
                        metrics.overflows.inc();
                    }
                }
                Delivery::Closed(CloseReason::Overflow) => {
                    metrics.overflows.inc();
                }
                Delivery::Closed(_) => {}
            }
        }
        item
    }
}

impl<S: Subscription> Subscription for MeteredSubscription<S> {
    fn cursor(&self) -> Cursor {
        self.inner.cursor()
    }
}

/// How many recent publishes keep their time: deliveries of older events (a replay of history)
/// are not timed, since their latency is the client's absence, not the hub's.
const STAMPS: usize = 4096;

/// The publish times of the last [`STAMPS`] events, by offset, without a lock: each slot holds
/// an offset and the time, and a reader believes the time only if the offset reads the same
/// before and after it.
#[derive(Debug)]
struct Stamps {
    start: Instant,
    slots: Box<[(AtomicU64, AtomicU64)]>,
}

impl Stamps {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            slots: (0..STAMPS)
                .map(|_| (AtomicU64::new(u64::MAX), AtomicU64::new(0)))
                .collect(),
        }
    }

    fn stamp(&self, offset: u64) {
        let (at, micros) = &self.slots[slot(offset)];
        let now = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
        at.store(u64::MAX, Ordering::Release);
        micros.store(now, Ordering::Release);
        at.store(offset, Ordering::Release);
    }

    fn published_at(&self, offset: u64) -> Option<Instant> {
        let (at, micros) = &self.slots[slot(offset)];
        if at.load(Ordering::Acquire) != offset {
            return None;
        }
        let micros = micros.load(Ordering::Acquire);
        if at.load(Ordering::Acquire) != offset {
            return None;
        }
        Some(self.start + std::time::Duration::from_micros(micros))
    }
}

fn slot(offset: u64) -> usize {
    // STAMPS is a power of two; the remainder fits any usize.
    (offset % STAMPS as u64) as usize
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use push_broker::{Config, MemoryBroker, Overflow};

    use super::*;

    #[tokio::test]
    async fn counts_publishes_deliveries_gaps_and_overflows() {
        let metrics = Metrics::new();
        let config = Config::default()
            .with_queue_count(2)
            .with_overflow(Overflow::DropBacklog);
        let broker = Metered::new(MemoryBroker::new(config), Arc::clone(&metrics));
        let topic = Topic::new("t").unwrap();
        let selector = Selector::one(topic.clone());
        let mut caught_up = broker
            .subscribe(&selector, None, &Access::public())
            .unwrap();
        let mut behind = broker
            .subscribe(&selector, None, &Access::public())
            .unwrap();
        for n in 0..5 {
            broker
                .publish(std::slice::from_ref(&topic), Event::new(format!("{n}")))
                .await
                .unwrap();
            assert!(matches!(caught_up.next().await, Some(Delivery::Event(_))));
        }
        // The subscriber that did not read is past its queue of 2: a gap, counted.
        assert!(matches!(behind.next().await, Some(Delivery::Gap(_))));
        assert_eq!(metrics.published.get(), 5);
        assert_eq!(metrics.delivered.get(), 5);
        assert_eq!(metrics.overflows.get(), 1);
        let text = metrics.encode();
        assert!(
            text.contains("push_hub_gaps_total{reason=\"overflow\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("push_hub_delivery_latency_seconds_count 5"),
            "{text}"
        );
    }

    #[test]
    fn stamps_forget_overwritten_offsets() {
        let stamps = Stamps::new();
        stamps.stamp(7);
        assert!(stamps.published_at(7).is_some());
        stamps.stamp(7 + STAMPS as u64);
        assert!(stamps.published_at(7).is_none());
        assert!(stamps.published_at(7 + STAMPS as u64).is_some());
        assert!(stamps.published_at(8).is_none());
    }
}
