//! A subscription: replay from Redis up to the reader's watermark, then the reader's live
//! events above it, through the local fan-out (a relaying `MemoryBroker`: only the events this
//! selector wants wake it); a subscriber that falls behind the fan-out replays again from
//! Redis, so it loses nothing.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_core::Stream;
use futures_util::StreamExt;
use push_broker::MemorySubscription;
use push_core::{
    Access, CloseReason, Cursor, Delivery, Error, Gap, GapReason, Published, Selector, Subscription,
};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::ReusableBoxFuture;

use crate::entry;
use crate::layout::{self, EntryId, MAX_SEQ, PARTITION_BITS};
use crate::shared::Shared;

/// A live subscription on a [`RedisBroker`](crate::RedisBroker).
///
/// Polled directly while it is live (a delivery is one poll of the local fan-out's
/// subscription, no future in between); only a replay round from Redis is a future, which
/// holds the state until it is done.
pub struct RedisSubscription {
    /// `None` while a replay round holds it.
    state: Option<Box<State>>,
    round: Option<Round>,
    cursor: Cursor,
}

/// A replay round in flight, owning the state until Redis has answered.
type Round = Pin<Box<dyn Future<Output = Box<State>> + Send>>;

impl core::fmt::Debug for RedisSubscription {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisSubscription")
            .field("cursor", &self.cursor)
            .field("replaying", &self.round.is_some())
            .finish_non_exhaustive()
    }
}

impl Stream for RedisSubscription {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        let this = &mut *self;
        loop {
            if let Some(round) = &mut this.round {
                let state = std::task::ready!(round.as_mut().poll(cx));
                this.round = None;
                this.state = Some(state);
            }
            let Some(state) = this.state.as_mut() else {
                return Poll::Ready(None);
            };
            match state.step(cx) {
                Step::Item(item) => {
                    if let Some(c) = item.as_ref().and_then(Delivery::cursor) {
                        this.cursor = c;
                    }
                    return Poll::Ready(item);
                }
                Step::Pending => return Poll::Pending,
                Step::Replay(replay) => {
                    if let Some(mut state) = this.state.take() {
                        this.round = Some(Box::pin(async move {
                            state.replay_round(replay).await;
                            state
                        }));
                    }
                }
            }
        }
    }
}

impl Subscription for RedisSubscription {
    fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// While live: the local fan-out's lag and the items queued here. While replaying from
    /// Redis: `None` (how much is left there is not known without asking).
    fn lag(&self) -> Option<u64> {
        let state = self.state.as_ref()?;
        if state.replay.is_some() {
            return None;
        }
        Some(state.local.lag().saturating_add(state.queue.len() as u64))
    }
}

/// What is still to replay.
#[derive(Debug)]
struct Replay {
    from: Cursor,
    upto: Cursor,
    /// The first round checks `from` against Redis (from the future, trimmed).
    check: bool,
    /// Where trimmed entries end, per partition that lost some after `from`: a gap there.
    gaps: Vec<Cursor>,
}

struct State {
    shared: Arc<Shared>,
    selector: Selector,
    access: Access,
    /// New epochs, the end and refused events, from the reader.
    control: Control,
    /// Live events, from the local fan-out.
    local: MemorySubscription,
    /// Live events at or below this were replayed (or come before the subscription).
    upto: Cursor,
    position: Cursor,
    replay: Option<Replay>,
    queue: VecDeque<Delivery>,
    deadline: Option<tokio::time::Instant>,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    ended: bool,
}

/// Opens a subscription (see [`Broker::subscribe`](push_core::Broker::subscribe)).
pub(crate) fn open(
    shared: Arc<Shared>,
    selector: &Selector,
    from: Option<Cursor>,
    access: &Access,
) -> Result<RedisSubscription, Error> {
    // Under the lock the reader relays under: every event above `upto` reaches `local`.
    let (control, local, upto, epoch) = {
        let live = shared.live();
        let local = shared.local.subscribe(selector, None, access)?;
        (
            Control::new(live.control.subscribe()),
            local,
            live.released,
            live.epoch,
        )
    };
    let mut queue = VecDeque::new();
    let (position, replay) = match from {
        None => (Cursor::new(epoch, upto.offset()), None),
        Some(c) if c.epoch() != epoch => {
            let start = Cursor::new(epoch, 0);
            queue.push_back(Delivery::Gap(Gap {
                reason: GapReason::UnknownEpoch,
                resume: start,
            }));
            (start, Some(Replay::new(start, upto, false)))
        }
        Some(c) => (c, Some(Replay::new(c, upto, true))),
    };
    // A cursor another process gave, ahead of this reader: nothing to replay, and the live
    // events up to it were delivered already.
    let upto = if layout::after(position, upto) {
        position
    } else {
        upto
    };
    let state = State {
        shared,
        selector: selector.clone(),
        access: access.clone(),
        control,
        local,
        upto,
        position,
        replay,
        queue,
        deadline: access.until().map(tokio::time::Instant::from_std),
        timer: None,
        ended: false,
    };
    Ok(RedisSubscription {
        state: Some(Box::new(state)),
        round: None,
        cursor: position,
    })
}

/// The control channel's receiver with its `recv` kept across polls (registered once until a
/// message comes, as tokio-stream's `BroadcastStream` does).
///
/// Polling a receiver that has nothing takes the channel's shared locks (a slot's and the
/// tail's), which every subscription of the process contends for: on each delivery, as the
/// channel is looked at before the fan-out. So the channel is polled only when the shared
/// count of announcements ([`Shared::announced`]) moved since it was last found empty, or the
/// task's waker is not the one registered with it. Why nothing is missed:
/// - the count was even (no send in progress) when loaded before a poll that found the
///   channel empty, so every announcement counted up to it had been read; a later one makes
///   it odd before its send;
/// - a send wakes the registered waker after that first step, so the woken task sees the
///   count moved and polls;
/// - a poll that found an announcement, or a count that was odd, records nothing: the next
///   poll looks again.
struct Control {
    recv: ReusableBoxFuture<'static, Received>,
    /// The count when the channel was last found empty (`u64::MAX`: never).
    heard: u64,
    /// The waker the pending `recv` registered.
    listening: Option<Waker>,
}

type Received = (Result<Delivery, RecvError>, broadcast::Receiver<Delivery>);

async fn received(mut rx: broadcast::Receiver<Delivery>) -> Received {
    let result = rx.recv().await;
    (result, rx)
}

impl Control {
    fn new(rx: broadcast::Receiver<Delivery>) -> Self {
        Self {
            recv: ReusableBoxFuture::new(received(rx)),
            heard: u64::MAX,
            listening: None,
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        announced: &AtomicU64,
    ) -> Poll<Result<Delivery, RecvError>> {
        let count = announced.load(Ordering::Acquire);
        let registered = self
            .listening
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()));
        if count == self.heard && registered {
            return Poll::Pending;
        }
        match self.recv.poll(cx) {
            Poll::Pending => {
                if count.is_multiple_of(2) {
                    self.heard = count;
                }
                if !registered {
                    self.listening = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Poll::Ready((result, rx)) => {
                self.recv.set(received(rx));
                self.listening = None;
                Poll::Ready(result)
            }
        }
    }
}

/// What the live part heard.
enum Live {
    Control(Result<Delivery, RecvError>),
    Local(Option<Delivery>),
}

impl Replay {
    fn new(from: Cursor, upto: Cursor, check: bool) -> Self {
        Self {
            from,
            upto,
            check,
            gaps: Vec::new(),
        }
    }
}

/// What one step of a subscription came to.
enum Step {
    /// An item to yield (`None`: the end).
    Item(Option<Delivery>),
    /// Nothing yet: a wake-up is registered.
    Pending,
    /// A round of replay from Redis is due.
    Replay(Replay),
}

impl State {
    fn step(&mut self, cx: &mut Context<'_>) -> Step {
        loop {
            if self.ended {
                return Step::Item(None);
            }
            if let Some(d) = self.queue.pop_front() {
                return Step::Item(Some(self.yielded(d)));
            }
            if self.shared.is_closed() {
                return Step::Item(Some(self.yielded(Delivery::Closed(CloseReason::Shutdown))));
            }
            if self
                .deadline
                .is_some_and(|d| d <= tokio::time::Instant::now())
            {
                return Step::Item(Some(self.yielded(Delivery::Closed(CloseReason::Expired))));
            }
            if let Some(replay) = self.replay.take() {
                return Step::Replay(replay);
            }
            match self.poll_live(cx) {
                Poll::Ready(Some(d)) => return Step::Item(Some(self.yielded(d))),
                Poll::Ready(None) => {}
                Poll::Pending => return Step::Pending,
            }
        }
    }

    fn yielded(&mut self, d: Delivery) -> Delivery {
        match &d {
            Delivery::Closed(_) => self.ended = true,
            other => {
                if let Some(c) = other.cursor() {
                    self.position = c;
                }
            }
        }
        d
    }

    fn admits(&self, p: &Published) -> bool {
        p.topics().iter().any(|t| self.selector.matches(t)) && self.access.admits(p)
    }

    /// Replays again from `from` up to the reader's current watermark.
    fn restart(&mut self, from: Cursor) {
        let released = self.shared.live().released;
        self.upto = self.upto.max(released);
        self.replay = Some(Replay::new(from, self.upto, false));
    }

    /// One live item, or `Ready(None)` when it was not for us (or a replay was started).
    fn poll_live(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        // An announcement first: a new epoch's gap comes before its events. The control
        // receiver stays registered between polls and is looked at only when something was
        // announced, so a delivery costs no lock on it ([`Control`]).
        // The access deadline's timer is made once, not per delivery.
        if let (Some(deadline), None) = (self.deadline, &self.timer) {
            self.timer = Some(Box::pin(tokio::time::sleep_until(deadline)));
        }
        let item = if let Poll::Ready(control) = self.control.poll(cx, &self.shared.announced) {
            Live::Control(control)
        } else if let Poll::Ready(local) = self.local.poll_next_unpin(cx) {
            Live::Local(local)
        } else {
            return match &mut self.timer {
                Some(timer) => timer
                    .as_mut()
                    .poll(cx)
                    .map(|()| Some(Delivery::Closed(CloseReason::Expired))),
                None => Poll::Pending,
            };
        };
        Poll::Ready(match item {
            // The fan-out applied the selector and the access already.
            Live::Local(Some(Delivery::Event(p))) => {
                layout::after(p.cursor(), self.upto).then_some(Delivery::Event(p))
            }
            // Behind the fan-out's rings (its own cursors, not ours): replay from Redis.
            Live::Local(Some(Delivery::Gap(_))) => {
                self.restart(self.position);
                None
            }
            Live::Local(Some(Delivery::Closed(CloseReason::Overflow))) => {
                self.reopen_local();
                None
            }
            Live::Local(Some(Delivery::Closed(reason))) => Some(Delivery::Closed(reason)),
            Live::Local(None) => Some(Delivery::Closed(CloseReason::Shutdown)),
            Live::Control(Ok(Delivery::Gap(gap))) => {
                // History lost in Redis (a new epoch) or a late entry: announced, then what
                // Redis still has after the gap's cursor.
                self.upto = gap.resume;
                self.restart(gap.resume);
                Some(Delivery::Gap(gap))
            }
            Live::Control(Ok(Delivery::Closed(reason))) => Some(Delivery::Closed(reason)),
            // Not relayed (the fan-out's topic limit): replayed from Redis if it is for us.
            Live::Control(Ok(Delivery::Event(p))) => {
                if layout::after(p.cursor(), self.upto) && self.admits(&p) {
                    self.restart(self.position);
                }
                None
            }
            Live::Control(Err(RecvError::Lagged(_))) => {
                self.restart(self.position);
                None
            }
            Live::Control(Err(RecvError::Closed)) => Some(Delivery::Closed(CloseReason::Shutdown)),
        })
    }

    /// The fan-out closed this subscription (a pattern following too many topics): a new one,
    /// and a replay from Redis up to the watermark read after it opened (what was relayed
    /// before it is at or below that watermark).
    fn reopen_local(&mut self) {
        match self
            .shared
            .local
            .subscribe(&self.selector, None, &self.access)
        {
            Ok(local) => {
                self.local = local;
                self.restart(self.position);
            }
            Err(_) => self
                .queue
                .push_back(Delivery::Closed(CloseReason::Overflow)),
        }
    }

    async fn replay_round(&mut self, mut replay: Replay) {
        let store = &self.shared.store;
        let con = self.shared.conn.clone();
        let epoch = self.shared.live().epoch;
        if replay.check {
            replay.check = false;
            let states = match store.states(&con, &[], &[]).await {
                Ok(states) => states,
                Err(e) => return self.unavailable(&e, replay.upto),
            };
            let from = replay.from;
            if let Some(packed) = from.sequence() {
                let q = usize::try_from(packed & 0xffff).unwrap_or(usize::MAX);
                let future = states
                    .get(q)
                    .is_none_or(|s| EntryId::resume_start(from) > s.last);
                if future {
                    let head = self.shared.live().head;
                    self.queue.push_back(Delivery::Gap(Gap {
                        reason: GapReason::FromFuture,
                        resume: head,
                    }));
                    // Live from here: not from the claimed cursor, which may never come.
                    self.upto = replay.upto.max(head);
                    return;
                }
            }
            for (q, s) in states.iter().enumerate() {
                // Fewer than MAX_PARTITIONS (a u16) partitions.
                let gap = s.deleted.gap_cursor(epoch, q as u16);
                if s.deleted != EntryId::default() && layout::after(gap, from) {
                    replay.gaps.push(gap);
                }
            }
            replay.gaps.sort_unstable();
        }
        let start = EntryId::resume_start(replay.from);
        let end = EntryId {
            ms: replay.upto.offset(),
            seq: replay
                .upto
                .sequence()
                .map_or(0, |s| s >> PARTITION_BITS)
                .min(MAX_SEQ),
        };
        let batch = store.config.batch;
        let ranges = match store.ranges(&con, start, end, batch).await {
            Ok(ranges) => ranges,
            Err(e) => return self.unavailable(&e, replay.upto),
        };
        let mut limit = replay.upto;
        let mut found = Vec::new();
        for (q, ids) in ranges.into_iter().enumerate() {
            let q = q as u16;
            if ids.len() >= batch
                && let Some(last) = ids.last()
                && let Some(c) = last.id.cursor(epoch, q)
            {
                limit = limit.min(c);
            }
            for entry in ids {
                let Some(c) = entry.id.cursor(epoch, q) else {
                    continue;
                };
                if layout::after(c, replay.from) && !layout::after(c, replay.upto) {
                    found.push((c, entry.fields));
                }
            }
        }
        found.sort_unstable_by_key(|(c, _)| *c);
        for (c, fields) in found {
            if layout::after(c, limit) {
                break;
            }
            self.gaps_before(&mut replay.gaps, c);
            if let Ok((topics, event)) = entry::parse(fields) {
                let p = Published::with_topics(topics, c, event);
                if self.admits(&p) {
                    self.queue.push_back(Delivery::Event(Arc::new(p)));
                }
            }
        }
        if limit < replay.upto {
            replay.from = limit;
            self.replay = Some(replay);
        } else {
            for gap in replay.gaps.drain(..) {
                self.upto = self.upto.max(gap);
                self.queue.push_back(Delivery::Gap(Gap {
                    reason: GapReason::Evicted,
                    resume: gap,
                }));
            }
        }
    }

    /// Announces the trimmed ranges that end before the entry at `c`.
    fn gaps_before(&mut self, gaps: &mut Vec<Cursor>, c: Cursor) {
        while let Some(&gap) = gaps.first()
            && gap < c
        {
            gaps.remove(0);
            self.queue.push_back(Delivery::Gap(Gap {
                reason: GapReason::Evicted,
                resume: gap,
            }));
        }
    }

    /// Redis could not be read: what lies up to `upto` is announced as lost, live goes on.
    fn unavailable(&mut self, e: &redis::RedisError, upto: Cursor) {
        tracing::warn!(error = %e, "push-redis: replay failed: announced as a gap");
        self.queue.push_back(Delivery::Gap(Gap {
            reason: GapReason::Evicted,
            resume: upto,
        }));
    }
}
