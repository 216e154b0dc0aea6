//! `Metered`: the hub's broker, counted. It wraps any `push_core::Broker` so that every
//! transport's deliveries, gaps, overflows and publish-to-delivery latency reach the metrics
//! without any transport knowing about them.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use push_core::{
    Access, Broker, CloseReason, Cursor, Delivery, Error, Event, GapReason, Selector, Subscription,
    Topic,
};

use super::metrics::Metrics;
use super::stamps::Stamps;

/// A broker whose publishes and deliveries are counted in [`Metrics`].
///
/// A delivery costs an addition to its subscription's own count, which reaches the shared
/// counter when the subscription has nothing more ready (every burst ends so) or every
/// 64 deliveries; one delivery in [`SAMPLE`] of each subscription (the first, the
/// 17th, …) is timed into the latency histogram (a clock read, a stamp lookup and an
/// observation: most of a fan-out's metering cost when done for every delivery), and its
/// subscription's lag ([`Subscription::lag`]) observed into the lag histogram. Per
/// subscription: one pointer and two counters.
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
        // The time is taken before the publish: its latency includes the commit, and a
        // subscriber may deliver the event before this future resolves (it then waits in
        // `Stamps` for the stamp below).
        let started = Instant::now();
        let cursor = self.inner.publish(topics, event).await?;
        let latency = &self.books.metrics.latency;
        self.books.stamps.stamp(cursor.offset(), started, |early| {
            latency.observe(early.as_secs_f64());
        });
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
            unsaved: 0,
            seen: 0,
        })
    }

    fn head(&self) -> Cursor {
        self.inner.head()
    }

    fn resolve(&self, id: &str) -> Option<Cursor> {
        self.inner.resolve(id)
    }
}

/// One delivery in this many of a subscription is timed (see [`Metered`]).
pub const SAMPLE: u32 = 16;

/// A subscription adds its deliveries to the shared counter at least this often.
const FLUSH: u32 = 64;

/// A subscription of a [`Metered`] broker.
#[derive(Debug)]
pub struct MeteredSubscription<S> {
    inner: S,
    books: Arc<Books>,
    /// Deliveries not yet added to the shared counter.
    unsaved: u32,
    /// Deliveries so far (wrapping): which one is timed.
    seen: u32,
}

impl<S> MeteredSubscription<S> {
    fn save(&mut self) {
        if self.unsaved > 0 {
            self.books.metrics.delivered.inc_by(u64::from(self.unsaved));
            self.unsaved = 0;
        }
    }
}

impl<S> Drop for MeteredSubscription<S> {
    fn drop(&mut self) {
        self.save();
    }
}

impl<S: Subscription> Stream for MeteredSubscription<S> {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        let item = Pin::new(&mut self.inner).poll_next(cx);
        let Poll::Ready(Some(delivery)) = &item else {
            // Nothing more ready (or the end): the burst's deliveries are counted now.
            self.save();
            return item;
        };
        if let Delivery::Event(published) = delivery {
            let timed = self.seen.is_multiple_of(SAMPLE);
            self.seen = self.seen.wrapping_add(1);
            self.unsaved += 1;
            if timed {
                let offset = published.cursor().offset();
                if let Some(latency) = self.books.stamps.delivered(offset, Instant::now()) {
                    self.books.metrics.latency.observe(latency.as_secs_f64());
                }
                if let Some(lag) = self.inner.lag() {
                    #[allow(clippy::cast_precision_loss)] // exact below 2^53 events
                    self.books.metrics.lag.observe(lag as f64);
                }
            }
            if self.unsaved >= FLUSH {
                self.save();
            }
        } else {
            self.save();
            let metrics = &self.books.metrics;
            match delivery {
                Delivery::Event(_) => {}
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

    fn lag(&self) -> Option<u64> {
        self.inner.lag()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{FutureExt, StreamExt};
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
        // Counted in the subscription until it has nothing more ready.
        assert_eq!(metrics.delivered.get(), 0);
        assert!(caught_up.next().now_or_never().is_none());
        assert_eq!(metrics.delivered.get(), 5);
        assert_eq!(metrics.overflows.get(), 1);
        let text = metrics.encode();
        assert!(
            text.contains("push_hub_gaps_total{reason=\"overflow\"} 1"),
            "{text}"
        );
        // One delivery in 16 is timed: the first of the five.
        assert!(
            text.contains("push_hub_delivery_latency_seconds_count 1"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_burst_is_counted_whole_and_timed_one_delivery_in_sixteen() {
        let metrics = Metrics::new();
        let broker = Metered::new(
            MemoryBroker::new(Config::default().with_queue_count(256)),
            Arc::clone(&metrics),
        );
        let topic = Topic::new("t").unwrap();
        let mut subscription = broker
            .subscribe(&Selector::one(topic.clone()), None, &Access::public())
            .unwrap();
        for n in 0..100 {
            broker
                .publish(std::slice::from_ref(&topic), Event::new(format!("{n}")))
                .await
                .unwrap();
        }
        for _ in 0..70 {
            assert!(matches!(
                subscription.next().await,
                Some(Delivery::Event(_))
            ));
        }
        // Past 64 in one burst: the first 64 are in the shared counter already.
        assert_eq!(metrics.delivered.get(), 64);
        drop(subscription);
        // Dropped mid-burst: nothing is lost from the count.
        assert_eq!(metrics.delivered.get(), 70);
        // The 1st, 17th, 33rd, 49th and 65th were timed, and their subscription's lag read
        // (what was left of the 100 after each): 99 + 83 + 67 + 51 + 35.
        let text = metrics.encode();
        assert!(
            text.contains("push_hub_delivery_latency_seconds_count 5"),
            "{text}"
        );
        assert!(
            text.contains("push_hub_subscriber_lag_events_sum 335.0"),
            "{text}"
        );
        assert!(
            text.contains("push_hub_subscriber_lag_events_bucket{le=\"16.0\"} 0"),
            "{text}"
        );
    }

    /// A broker whose publish makes the event visible, then waits at `door` before it
    /// resolves: what a group commit or a busy worker does to a publish future.
    #[derive(Clone)]
    struct Slow {
        inner: MemoryBroker,
        door: Arc<tokio::sync::Notify>,
    }

    impl Broker for Slow {
        type Subscription = <MemoryBroker as Broker>::Subscription;

        async fn publish(&self, topics: &[Topic], event: Event) -> Result<Cursor, Error> {
            let cursor = self.inner.publish(topics, event).await?;
            self.door.notified().await;
            Ok(cursor)
        }

        fn subscribe(
            &self,
            selector: &Selector,
            from: Option<Cursor>,
            access: &Access,
        ) -> Result<Self::Subscription, Error> {
            self.inner.subscribe(selector, from, access)
        }

        fn head(&self) -> Cursor {
            self.inner.head()
        }

        fn resolve(&self, id: &str) -> Option<Cursor> {
            self.inner.resolve(id)
        }
    }

    #[tokio::test]
    async fn a_delivery_before_the_publish_resolves_is_timed() {
        let metrics = Metrics::new();
        let door = Arc::new(tokio::sync::Notify::new());
        let slow = Slow {
            inner: MemoryBroker::default(),
            door: Arc::clone(&door),
        };
        let broker = Metered::new(slow, Arc::clone(&metrics));
        let topic = Topic::new("t").unwrap();
        let mut subscription = broker
            .subscribe(&Selector::one(topic.clone()), None, &Access::public())
            .unwrap();
        let publishing = tokio::spawn({
            let broker = broker.clone();
            async move { broker.publish(&[topic], Event::new("early")).await }
        });
        // Delivered while the publish still waits at the door.
        assert!(matches!(
            subscription.next().await,
            Some(Delivery::Event(_))
        ));
        assert!(!publishing.is_finished());
        let count = |metrics: &Metrics| {
            let text = metrics.encode();
            text.lines()
                .find_map(|l| l.strip_prefix("push_hub_delivery_latency_seconds_count "))
                .map(str::to_owned)
        };
        assert_eq!(count(&metrics).as_deref(), Some("0"));
        door.notify_one();
        publishing.await.unwrap().unwrap();
        assert_eq!(
            count(&metrics).as_deref(),
            Some("1"),
            "the early delivery's sample is recorded once its publish is stamped"
        );
    }
}
