//! The fan-out: one broker subscription on every topic (private events included) that
//! matches each event against the active registrations and queues one delivery per match
//! with the delivery engine. It knows no target kind: a registration makes its own queue
//! record, and the engine hands each to its kind.
//!
//! **Nothing is lost between a publish's `200` and the first attempt.** The hub's history is
//! durable before a publish is answered (the store's journal); the fan-out keeps a cursor in
//! the registry's file, moved only after the deliveries of every event up to it are committed
//! to the queue. After a crash it subscribes again from that cursor, so every event published
//! since is matched and queued from the history. A crash between the queue's commit and the
//! cursor's queues those deliveries again with the same `webhook-id` (derived from the
//! registration and the event's cursor): at least once, once in effect at an idempotent
//! receiver. The one bound is the history's retention: an event evicted before the fan-out
//! reached it (a fan-out behind by more than `--history-count` events of a topic, or down for
//! longer than `--history-age`) is counted in `push_hub_callbacks_gaps_total` and logged.
//! A fan-out that falls behind its subscription's queue (a burst) subscribes again from its
//! cursor instead of skipping: the history replays what the queue dropped.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::{FutureExt as _, StreamExt as _};
use push_core::{Access, Broker, CloseReason, Cursor, Delivery, GapReason, Selector};

use push_webhook::sender::Stored;

use super::Inner;

/// The most subscription items matched and queued in one commit.
const BATCH: usize = 256;
/// How long the fan-out waits before it retries a failed queue commit or subscription.
const RETRY: Duration = Duration::from_secs(1);

/// Runs the fan-out on `broker` until its subscription is closed by the broker's shutdown.
pub(crate) async fn run<B: Broker>(broker: B, inner: Arc<Inner>) {
    let mut from = match stored_cursor(&inner).await {
        Some(cursor) => cursor,
        // The first start: the events from now on, recorded before any is matched, so that a
        // crash before the first batch does not move the start to a later head.
        None => {
            let head = broker.head();
            save_cursor(&inner, head).await;
            head
        }
    };
    let access = Access::public().with_private(Selector::all());
    loop {
        let mut subscription = match broker.subscribe(&Selector::all(), Some(from), &access) {
            Ok(subscription) => subscription,
            Err(error) => {
                tracing::warn!(%error, "callbacks: cannot subscribe; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        loop {
            let Some(first) = subscription.next().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match subscription.next().now_or_never() {
                    Some(Some(item)) => batch.push(item),
                    _ => break,
                }
            }
            let step = match_batch(&inner, batch, from);
            queue(&inner, step.pending).await;
            if step.last != from {
                save_cursor(&inner, step.last).await;
                from = step.last;
            }
            match step.then {
                Then::Continue => {}
                Then::Resubscribe => break,
                Then::Stop => return,
            }
        }
    }
}

/// What one batch came to.
struct Step {
    pending: Vec<Stored>,
    last: Cursor,
    then: Then,
}

enum Then {
    Continue,
    /// The subscription fell behind: open it again from the last cursor.
    Resubscribe,
    Stop,
}

fn match_batch(inner: &Inner, batch: Vec<Delivery>, mut last: Cursor) -> Step {
    let active = inner.registry.active();
    let now = SystemTime::now();
    let web_push = inner
        .web_push
        .as_ref()
        .map_or_else(push_webpush::Delivery::default, |w| w.delivery().clone());
    let mut pending = Vec::new();
    for item in batch {
        match item {
            Delivery::Event(published) => {
                for registration in active.iter().filter(|r| r.wants(&published, now)) {
                    pending.extend(registration.pending(&published, now, &web_push));
                }
                last = published.cursor();
            }
            Delivery::Gap(gap) if gap.reason == GapReason::Overflow => {
                return Step {
                    pending,
                    last,
                    then: Then::Resubscribe,
                };
            }
            Delivery::Gap(gap) => {
                inner.metrics.gaps.inc();
                tracing::warn!(
                    reason = gap.reason.as_str(),
                    resume = %gap.resume,
                    "callbacks: events left the history before they were queued for delivery"
                );
                last = gap.resume;
            }
            Delivery::Closed(CloseReason::Overflow) => {
                return Step {
                    pending,
                    last,
                    then: Then::Resubscribe,
                };
            }
            Delivery::Closed(_) => {
                return Step {
                    pending,
                    last,
                    then: Then::Stop,
                };
            }
        }
    }
    Step {
        pending,
        last,
        then: Then::Continue,
    }
}

/// Queues `pending` (every kind in one engine, one commit), retrying until the commit
/// succeeds: the cursor does not move past events whose deliveries are not on disk.
async fn queue(inner: &Inner, pending: Vec<Stored>) {
    if pending.is_empty() {
        return;
    }
    while let Err(error) = inner.engine.publish(pending.clone()).await {
        tracing::warn!(error = %error, "callbacks: cannot queue deliveries; retrying");
        tokio::time::sleep(RETRY).await;
    }
}

async fn stored_cursor(inner: &Arc<Inner>) -> Option<Cursor> {
    let registry = Arc::clone(&inner.registry);
    let text = tokio::task::spawn_blocking(move || registry.fanout_cursor())
        .await
        .ok()?
        .ok()??;
    text.parse().ok()
}

async fn save_cursor(inner: &Arc<Inner>, cursor: Cursor) {
    let registry = Arc::clone(&inner.registry);
    let text = cursor.to_string();
    let saved = tokio::task::spawn_blocking(move || registry.set_fanout_cursor(&text)).await;
    if !matches!(saved, Ok(Ok(()))) {
        // The cursor stays behind: after a restart those events are queued again (same
        // webhook-id), never skipped.
        tracing::warn!("callbacks: cannot record the fan-out's cursor");
    }
}
