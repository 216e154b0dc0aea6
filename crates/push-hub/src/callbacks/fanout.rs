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
//! receiver. A batch that queued nothing saves the cursor at most once a second
//! ([`SAVE_IDLE`]): its events are matched again after a crash, which queues nothing new.
//! The one bound is the history's retention: an event evicted before the fan-out reached it
//! (a fan-out behind by more than `--history-count` events of a topic, or down for longer than
//! `--history-age`) is counted in `push_hub_callbacks_gaps_total` and logged.
//! A fan-out that falls behind its subscription's queue (a burst) subscribes again from its
//! cursor instead of skipping: the history replays what the queue dropped.
//!
//! **No registration, no subscription.** While no registration exists on any hub the
//! fan-out holds no subscription and only moves its cursor to the head ([`idle`] says why no
//! event a registration is owed is skipped): a hub, or a Redis-backed set of hubs, that nobody
//! registered a callback with pays nothing per event for callbacks.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::{FutureExt as _, StreamExt as _};
use push_core::{Access, Broker, CloseReason, Cursor, Delivery, GapReason, Selector};

use push_webhook::sender::Stored;

use super::Inner;
use super::late::{Late, Look};
use idle::idle;

mod idle;

/// The most subscription items matched and queued in one commit.
const BATCH: usize = 256;
/// How long the fan-out waits before it retries a failed queue commit or subscription.
const RETRY: Duration = Duration::from_secs(1);
/// How far the recorded cursor may lag behind events that queued nothing: such a batch saves
/// it only once this passed since the last save (a batch that queued deliveries always saves
/// at once). Most events match no registration, and a save per event would cost a journal
/// commit (or, on Redis, a round trip) per publish; after a crash the fan-out matches those
/// events again, which queues nothing new (a registration ignores events up to its `from`).
const SAVE_IDLE: Duration = Duration::from_secs(1);

/// How often a fan-out with no registration anywhere looks whether one was made (an
/// in-memory read, or under `--redis` one round trip): the most the first events after the
/// first registration wait, read from the history.
const IDLE_LOOK: Duration = Duration::from_millis(200);

/// How long the fan-out's lease holds under `--redis` without a renewal: a dead leader's
/// successor starts within this (plus one `RENEW`).
pub(crate) const LEASE: Duration = Duration::from_secs(10);
/// How often the leader renews its lease, and a follower asks for it.
const RENEW: Duration = Duration::from_secs(2);

/// How a fan-out run ended.
enum Ended {
    /// The broker closed the subscription (shutdown).
    Closed,
    /// Another hub holds the lease now.
    Lost,
}

/// Runs the fan-out on `broker` until its subscription is closed by the broker's shutdown.
/// With a shared registry (`--redis`), only while this hub holds the fan-out's lease: one hub
/// on a Redis fans out, from the cursor kept there.
pub(crate) async fn run<B: Broker>(broker: B, inner: Arc<Inner>) {
    if !inner.registry.is_shared() {
        let from = match stored_cursor(&inner).await {
            Some(cursor) => cursor,
            // The first start: the events from now on, recorded before any is matched, so
            // that a crash before the first batch does not move the start to a later head.
            None => {
                let head = broker.head();
                save_cursor(&inner, head).await;
                head
            }
        };
        fan_out(&broker, &inner, from, None).await;
        return;
    }
    let token = inner.lease_token.clone();
    loop {
        if !blocking(&inner, {
            let token = token.clone();
            move |r| r.lead(&token, LEASE)
        })
        .await
        .unwrap_or(false)
        {
            tokio::time::sleep(RENEW).await;
            continue;
        }
        let stored = blocking(&inner, {
            let token = token.clone();
            move |r| r.led_cursor(&token, None)
        })
        .await;
        let from = match stored {
            Some(Some(text)) if !text.is_empty() => match text.parse::<Cursor>() {
                Ok(cursor) => cursor,
                Err(_) => continue,
            },
            // The first leader on this Redis: the events from now on, recorded first.
            Some(Some(_)) => {
                let head = broker.head();
                if !led_save(&inner, &token, head).await {
                    continue;
                }
                head
            }
            _ => {
                tokio::time::sleep(RENEW).await;
                continue;
            }
        };
        tracing::info!(%from, "callbacks: this hub fans out (it holds the lease)");
        match fan_out(&broker, &inner, from, Some(&token)).await {
            Ended::Closed => return,
            Ended::Lost => {
                tracing::info!("callbacks: the fan-out's lease went to another hub");
            }
        }
    }
}

/// Matches and queues every event from `from` on; with `lease`, while it holds.
async fn fan_out<B: Broker>(
    broker: &B,
    inner: &Arc<Inner>,
    mut from: Cursor,
    lease: Option<&str>,
) -> Ended {
    let access = Access::public().with_private(Selector::all());
    let (mut saved, mut saved_at) = (from, tokio::time::Instant::now());
    let mut renew = tokio::time::interval(RENEW);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The registrations matched so far, and where the fan-out goes back for a late one.
    let (mut late, mut starting, mut replay_from) = (Late::default(), true, None);
    loop {
        let found = match idle(broker, inner, &mut from, lease, &mut renew).await {
            Ok(found) => found,
            Err(ended) => return ended,
        };
        if found.skipped || starting {
            // The same snapshot `from` was set from: one stored after it is late.
            late.know(found.active);
            (starting, replay_from) = (false, None);
        }
        let start = replay_from.unwrap_or(from);
        let mut subscription = match broker.subscribe(&Selector::all(), Some(start), &access) {
            Ok(subscription) => subscription,
            Err(error) => {
                tracing::warn!(%error, "callbacks: cannot subscribe; retrying");
                tokio::time::sleep(RETRY).await;
                if let Some(token) = lease
                    && !renewed(inner, token).await
                {
                    return Ended::Lost;
                }
                continue;
            }
        };
        replay_from = None;
        loop {
            let first = tokio::select! {
                first = subscription.next() => first,
                _ = renew.tick(), if lease.is_some() => {
                    if let Some(token) = lease && !renewed(inner, token).await {
                        return Ended::Lost;
                    }
                    continue;
                }
            };
            let Some(first) = first else {
                return Ended::Closed;
            };
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match subscription.next().now_or_never() {
                    Some(Some(item)) => batch.push(item),
                    _ => break,
                }
            }
            if lease.is_some() {
                // Every registration made (on any hub) before these events were published is
                // in Redis: read it before matching.
                while blocking(inner, |r| r.refresh().map(|()| true))
                    .await
                    .is_none()
                {
                    tracing::warn!("callbacks: cannot read the shared registry; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
            // One snapshot for the look and the match: a registration stored in between is
            // found at the next batch, which is where its owed events end.
            let active = inner.registry.active();
            let look = late.look(&active, from);
            if look == Look::Missed {
                inner.metrics.gaps.inc();
                tracing::warn!(
                    "callbacks: a registration stored while the fan-out went back for another \
                     missed events"
                );
            }
            let step = match_batch(inner, &active, batch, from, &mut late);
            let queued = !step.pending.is_empty();
            queue(inner, step.pending).await;
            from = step.last;
            let due =
                queued || saved_at.elapsed() >= SAVE_IDLE || !matches!(step.then, Then::Continue);
            // While going back, where the replay is: after a crash the late registrations
            // still get what they are owed, and the others what came after it again (the same
            // `webhook-id`s: at least once, as after any crash).
            let position = late.replay_at().unwrap_or(from);
            if position != saved && due {
                if !record(inner, lease, position).await {
                    return Ended::Lost;
                }
                (saved, saved_at) = (position, tokio::time::Instant::now());
            }
            match (step.then, look) {
                (Then::Stop, _) => return Ended::Closed,
                // A registration stored after batches it is owed were matched: go back.
                (_, Look::GoBack(start)) => {
                    tracing::info!(%start, %from, "callbacks: a registration was stored late; going back for it");
                    late.going_back(from, start);
                    replay_from = Some(start);
                    break;
                }
                // The last registration is gone: no subscription until there is one again, and
                // nobody is owed anything any more (whoever comes next is new).
                (Then::Continue, _) if inner.registry.is_empty() => {
                    late.forget();
                    break;
                }
                (Then::Continue, _) => {}
                (Then::Resubscribe, _) => {
                    replay_from = late.replay_at();
                    break;
                }
            }
        }
    }
}

/// Runs `step` on the registry off the async threads; `None` when it failed.
async fn blocking<T: Send + 'static>(
    inner: &Arc<Inner>,
    step: impl FnOnce(&super::Registry) -> Result<T, super::RegistryError> + Send + 'static,
) -> Option<T> {
    let registry = Arc::clone(&inner.registry);
    match tokio::task::spawn_blocking(move || step(&registry)).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            tracing::warn!(%error, "callbacks: the shared registry failed");
            None
        }
        Err(_) => None,
    }
}

/// Renews the lease: false when another hub holds it (a failing Redis keeps the lease until it
/// runs out, and the next renewal tells).
async fn renewed(inner: &Arc<Inner>, token: &str) -> bool {
    let token = token.to_owned();
    blocking(inner, move |r| r.lead(&token, LEASE))
        .await
        .unwrap_or(true)
}

/// Records the fan-out's cursor: in the registry's file, or in Redis as the lease's holder
/// (fenced: false when the lease is lost, and then nothing was recorded).
async fn record(inner: &Arc<Inner>, lease: Option<&str>, cursor: Cursor) -> bool {
    match lease {
        None => {
            save_cursor(inner, cursor).await;
            true
        }
        Some(token) => led_save(inner, token, cursor).await,
    }
}

/// Records the fan-out's cursor in Redis as the lease's holder; false when the lease is lost.
/// A failing Redis is tried again until the lease tells.
async fn led_save(inner: &Arc<Inner>, token: &str, cursor: Cursor) -> bool {
    let text = cursor.to_string();
    loop {
        let (token, text) = (token.to_owned(), text.clone());
        match blocking(inner, move |r| r.led_cursor(&token, Some(&text))).await {
            Some(Some(_)) => return true,
            Some(None) => return false,
            None => tokio::time::sleep(RETRY).await,
        }
    }
}

/// Gives the lease up for good (see [`super::Callbacks::resign`]).
pub(super) async fn resign(inner: &Arc<Inner>) {
    if !inner.registry.is_shared() {
        return;
    }
    let token = inner.lease_token.clone();
    if blocking(inner, move |r| r.resign(&token).map(|()| true))
        .await
        .is_none()
    {
        tracing::warn!("callbacks: could not give the fan-out's lease up; it runs out by itself");
    }
}

/// A lease token (128 random bits).
pub(super) fn token() -> String {
    let mut random = [0u8; 16];
    // Without randomness the time stands in: tokens of two hubs still differ.
    if getrandom::fill(&mut random).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        random = nanos.to_le_bytes();
    }
    random.iter().map(|b| format!("{b:02x}")).collect()
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

fn match_batch(
    inner: &Inner,
    active: &[Arc<super::Registration>],
    batch: Vec<Delivery>,
    mut last: Cursor,
    late: &mut Late,
) -> Step {
    let now = SystemTime::now();
    let web_push = inner
        .web_push
        .as_ref()
        .map_or_else(push_webpush::Delivery::default, |w| w.delivery().clone());
    let mut pending = Vec::new();
    for item in batch {
        match item {
            Delivery::Event(published) => {
                let cursor = published.cursor();
                for registration in active
                    .iter()
                    .filter(|r| late.matches(&r.id, cursor) && r.wants(&published, now))
                {
                    pending.extend(registration.pending(&published, now, &web_push));
                }
                last = late.passed(cursor);
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
                last = late.passed(gap.resume);
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
