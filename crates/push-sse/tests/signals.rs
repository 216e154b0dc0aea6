//! When an event stream looks at its shutdown signal and its deadline: whenever the
//! subscription has nothing ready, and once every `SIGNALS_EVERY` frames while a backlog drains.
//! A burst does not pay a poll of the signal per frame (the hub's is shared by every stream),
//! and a backlogged stream still ends within that bound once the signal fires.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use push_broker::MemoryBroker;
use push_core::{Access, Broker as _, Cursor, Event, Selector, Topic};
use push_sse::server::{Config, EventStream, SIGNALS_EVERY};

/// A shutdown signal that counts its polls and completes once `fired` is set.
struct Counted {
    polls: Arc<AtomicUsize>,
    fired: Arc<AtomicBool>,
}

impl Future for Counted {
    type Output = Duration;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Duration> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        if self.fired.load(Ordering::Relaxed) {
            Poll::Ready(Duration::from_millis(1500))
        } else {
            // The tests poll by hand: no wake-up is needed.
            let _ = cx;
            Poll::Pending
        }
    }
}

const BACKLOG: usize = 200;

/// A stream of `BACKLOG` retained events of one topic (from the start), its signal's poll
/// count and its trigger.
async fn backlogged() -> (
    EventStream<push_broker::MemorySubscription>,
    Arc<AtomicUsize>,
    Arc<AtomicBool>,
) {
    let broker = MemoryBroker::default();
    let topic = Topic::new("t").unwrap();
    let epoch = broker.head().epoch();
    for n in 0..BACKLOG {
        broker
            .publish(std::slice::from_ref(&topic), Event::new(format!("{n}")))
            .await
            .unwrap();
    }
    let subscription = broker
        .subscribe(
            &Selector::one(topic),
            Some(Cursor::new(epoch, 0)),
            &Access::public(),
        )
        .unwrap();
    let polls = Arc::new(AtomicUsize::new(0));
    let fired = Arc::new(AtomicBool::new(false));
    let signal = Counted {
        polls: Arc::clone(&polls),
        fired: Arc::clone(&fired),
    };
    let stream = EventStream::new(subscription, &Config::default()).with_shutdown_retry(signal);
    (stream, polls, fired)
}

#[tokio::test(start_paused = true)]
async fn a_backlog_drains_without_polling_the_signal_per_frame() {
    let (mut stream, polls, _fired) = backlogged().await;
    assert_eq!(stream.next().await.unwrap(), ": ok\n\n");
    for _ in 0..BACKLOG {
        let frame = stream.next().await.unwrap();
        assert!(frame.starts_with(b"id: "), "{frame:?}");
    }
    let polled = polls.load(Ordering::Relaxed);
    let bound = BACKLOG / usize::from(SIGNALS_EVERY) + 1;
    assert!(
        polled <= bound,
        "the signal was polled {polled} times for {BACKLOG} frames (at most {bound})"
    );
    // Nothing left: the signal is polled before the stream waits.
    let waker = std::task::Waker::noop();
    assert!(
        stream
            .poll_frame(&mut Context::from_waker(waker))
            .is_pending()
    );
    assert_eq!(polls.load(Ordering::Relaxed), polled + 1);
}

#[tokio::test(start_paused = true)]
async fn a_backlogged_stream_ends_within_the_bound_after_its_signal() {
    let (mut stream, _polls, fired) = backlogged().await;
    assert_eq!(stream.next().await.unwrap(), ": ok\n\n");
    for _ in 0..5 {
        stream.next().await.unwrap();
    }
    fired.store(true, Ordering::Relaxed);
    let mut events_after = 0;
    let last: Bytes = loop {
        let frame = stream
            .next()
            .await
            .expect("the stream ended without its retry hint");
        if frame.starts_with(b"retry:") {
            break frame;
        }
        events_after += 1;
    };
    assert_eq!(last, "retry: 1500\n\n");
    assert!(
        events_after <= usize::from(SIGNALS_EVERY),
        "{events_after} events after the signal"
    );
    assert!(
        events_after < BACKLOG - 5,
        "the signal waited for the backlog"
    );
    assert_eq!(stream.next().await, None);
}

/// An idle stream sees its signal at once.
#[tokio::test(start_paused = true)]
async fn an_idle_stream_ends_at_its_signal() {
    let broker = MemoryBroker::default();
    let subscription = broker
        .subscribe(
            &Selector::one(Topic::new("t").unwrap()),
            None,
            &Access::public(),
        )
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut stream = EventStream::new(subscription, &Config::default()).with_shutdown(async move {
        let _ = rx.await;
    });
    assert_eq!(stream.next().await.unwrap(), ": ok\n\n");
    let waker = std::task::Waker::noop();
    assert!(
        stream
            .poll_frame(&mut Context::from_waker(waker))
            .is_pending()
    );
    tx.send(()).unwrap();
    assert_eq!(stream.next().await, None);
}
