//! One long poll as a deterministic state machine: deliveries and the current time in, a reply
//! and the hold's deadline out.

use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::time::Instant;

use push_core::{CloseReason, Cursor, Delivery, Subscription};

use crate::json::{Body, event_json};
use crate::server::{Config, Error};
use crate::{PollRequest, Reply};

/// One request/response exchange of long polling.
///
/// The caller *registers* first (opens the subscription from [`PollRequest::since`]), then
/// *checks* (feeds what the subscription has ready: [`handle_delivery`](Self::handle_delivery),
/// then [`handle_idle`](Self::handle_idle)), then *holds* (waits for the subscription or for
/// [`poll_timeout`](Self::poll_timeout), feeding [`handle_delivery`](Self::handle_delivery) or
/// [`handle_timeout`](Self::handle_timeout)). Because the subscription was registered before the
/// check, an event published between the check and the hold is not lost: the subscription has
/// it. [`poll_subscription`](Self::poll_subscription) does the whole loop for any
/// [`Subscription`].
///
/// It reads no clock: `now` is an argument.
#[derive(Debug)]
pub struct Exchange {
    request: PollRequest,
    max_events: usize,
    max_bytes: usize,
    hold: Duration,
    deadline: Instant,
    /// The hold granted for a `Prefer: wait`, in whole seconds (`Preference-Applied`).
    wait_applied: Option<u64>,
    body: Body,
    count: usize,
    bytes: usize,
    gap: bool,
    /// The cursor after the last event (or gap) taken into the batch.
    next: Option<Cursor>,
    /// The subscription's position at the last check (used when the batch is empty).
    position: Option<Cursor>,
    state: State,
}

#[derive(Debug)]
enum State {
    /// Collecting: no decision yet.
    Open,
    /// Nothing was ready at the check: waiting for a delivery or the deadline.
    Holding,
    /// The reply is ready to be taken.
    Ready(Reply),
    /// The reply was taken.
    Done,
}

impl Exchange {
    /// Starts an exchange for `request` received at `now`; `seed` picks this hold's jitter (see
    /// [`Config::with_jitter`]), so the same seed gives the same deadline.
    ///
    /// A hold asked for with `Prefer: wait=N` is answered with `Preference-Applied: wait=M`
    /// ([`Reply::wait_applied`]), `M` the hold granted in whole seconds: `N` capped by
    /// [`Config::wait_cap`], rounded up (a hold under a second is not "wait=0").
    pub fn new(request: PollRequest, config: &Config, now: Instant, seed: u64) -> Self {
        let wait = config.effective_wait(request.wait());
        let hold = wait - config.jitter_for(wait, seed);
        let wait_applied = request.wait_preferred().then(|| {
            wait.as_secs()
                .saturating_add(u64::from(wait.subsec_nanos() > 0))
        });
        Self {
            wait_applied,
            request,
            max_events: config.max_events,
            max_bytes: config.max_bytes,
            hold,
            deadline: now.checked_add(hold).unwrap_or(now),
            body: Body::default(),
            count: 0,
            bytes: 0,
            gap: false,
            next: None,
            position: None,
            state: State::Open,
        }
    }

    /// Answers by `until` at the latest (an [`Access::until`](push_core::Access::until): the
    /// authorization's expiry): the deadline becomes the earlier of the hold's and `until`, so
    /// the client comes back, and is authorized again, when its access ends.
    #[must_use]
    pub fn with_until(mut self, until: Option<Instant>) -> Self {
        if let Some(until) = until
            && until < self.deadline
        {
            self.deadline = until;
        }
        self
    }

    /// The request being answered.
    pub fn request(&self) -> &PollRequest {
        &self.request
    }

    /// How long this exchange holds when nothing is ready (capped, jitter applied; not
    /// shortened by [`with_until`](Self::with_until): see [`deadline`](Self::deadline)).
    pub fn hold(&self) -> Duration {
        self.hold
    }

    /// When the hold ends: the request's time plus [`hold`](Self::hold), or the `until` given
    /// to [`with_until`](Self::with_until) if earlier.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Feeds one item of the subscription. Returns whether it wants more: `false` once the batch
    /// is full or the reply is decided (stop reading the subscription then).
    ///
    /// An event that does not fit the batch (by count or bytes) or a gap after some events ends
    /// the batch before it: the reply's `next` is the last event taken, so the next poll gets it.
    pub fn handle_delivery(&mut self, delivery: Delivery) -> bool {
        if !matches!(self.state, State::Open | State::Holding) {
            return false;
        }
        match delivery {
            Delivery::Event(published) => {
                let json = event_json(&published);
                if self.count > 0 && self.bytes + json.len() > self.max_bytes {
                    self.answer_batch();
                    return false;
                }
                self.count += 1;
                self.bytes += json.len();
                self.body.push_event(json);
                self.next = Some(published.cursor());
                if self.count >= self.max_events || self.bytes >= self.max_bytes {
                    self.answer_batch();
                    return false;
                }
            }
            Delivery::Gap(gap) => {
                if self.count > 0 {
                    self.answer_batch();
                    return false;
                }
                self.gap = true;
                self.next = Some(gap.resume);
            }
            Delivery::Closed(reason) => {
                if self.count > 0 || self.gap {
                    self.answer_batch();
                } else if matches!(reason, CloseReason::Expired) {
                    // The access ended: nothing new, come back (and be authorized again).
                    self.answer_empty();
                } else {
                    self.state =
                        State::Ready(Reply::Error(Error::Broker(push_core::Error::BrokerClosed)));
                }
                return false;
            }
        }
        if self.state_is_holding() {
            // A delivery during the hold: answer after draining what else is ready.
            self.state = State::Open;
        }
        true
    }

    /// The subscription has nothing more ready now; `position` is its cursor. Answers when there
    /// is something to say or the client asked not to wait (short polling); otherwise holds.
    pub fn handle_idle(&mut self, position: Cursor) {
        if !matches!(self.state, State::Open | State::Holding) {
            return;
        }
        self.position = Some(position);
        if self.count > 0 || self.gap {
            self.answer_batch();
        } else if self.hold.is_zero() {
            self.answer_empty();
        } else {
            self.state = State::Holding;
        }
    }

    /// The moment the hold ends, while the reply is not decided yet.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        matches!(self.state, State::Open | State::Holding).then_some(self.deadline)
    }

    /// The time is now `now`: at or after the deadline, an exchange still waiting answers
    /// `204` (or `304` when `If-None-Match` names the cursor).
    pub fn handle_timeout(&mut self, now: Instant) {
        if now < self.deadline || !matches!(self.state, State::Open | State::Holding) {
            return;
        }
        if self.count > 0 || self.gap {
            self.answer_batch();
        } else {
            self.answer_empty();
        }
    }

    /// Takes the reply once it is decided. Call after each `handle_*`; after it returned
    /// `Some`, the exchange is finished and returns `None` forever.
    #[must_use]
    pub fn poll_reply(&mut self) -> Option<Reply> {
        if !matches!(self.state, State::Ready(_)) {
            return None;
        }
        match core::mem::replace(&mut self.state, State::Done) {
            State::Ready(reply) => Some(reply),
            _ => None,
        }
    }

    /// Whether the reply was taken.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Drives the check and the hold on `subscription`: feeds what it has ready and, when it
    /// has nothing, leaves `cx`'s waker registered with it. Returns the reply once decided;
    /// `Pending` means held: poll again when woken, and call
    /// [`handle_timeout`](Self::handle_timeout) (then this again) at
    /// [`poll_timeout`](Self::poll_timeout).
    pub fn poll_subscription<S: Subscription + ?Sized>(
        &mut self,
        subscription: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<Reply> {
        loop {
            if let Some(reply) = self.poll_reply() {
                return Poll::Ready(reply);
            }
            if !matches!(self.state, State::Open | State::Holding) {
                // Done: the reply was taken earlier; there is nothing more to say.
                return Poll::Pending;
            }
            match Pin::new(&mut *subscription).poll_next(cx) {
                Poll::Ready(Some(delivery)) => {
                    self.handle_delivery(delivery);
                }
                Poll::Ready(None) => {
                    self.handle_delivery(Delivery::Closed(CloseReason::Shutdown));
                }
                Poll::Pending => {
                    self.handle_idle(subscription.cursor());
                    if matches!(self.state, State::Holding) {
                        return Poll::Pending;
                    }
                }
            }
        }
    }

    fn state_is_holding(&self) -> bool {
        matches!(self.state, State::Holding)
    }

    fn answer_batch(&mut self) {
        let next = self
            .next
            .or(self.position)
            .or(self.request.since())
            .unwrap_or(Cursor::new(0, 0));
        let body = core::mem::take(&mut self.body).finish(next, self.gap);
        self.state = State::Ready(Reply::Events {
            body,
            next,
            count: self.count,
            gap: self.gap,
            wait_applied: self.wait_applied,
        });
    }

    fn answer_empty(&mut self) {
        let next = self
            .position
            .or(self.request.since())
            .unwrap_or(Cursor::new(0, 0));
        let wait_applied = self.wait_applied;
        self.state = State::Ready(if self.request.etag_matches(next) {
            Reply::NotModified { next, wait_applied }
        } else {
            Reply::Timeout { next, wait_applied }
        });
    }
}
