//! The delivery policy, sans-IO: an attempt's outcome and the time go in; what to do next (done,
//! retry at a time — in memory or from the durable queue —, disable, give up) comes out.
//!
//! ```text
//!   Outcome::{Status, Timeout, Transport,      + now + random ──► Policy::next ──► Next::{Delivered,
//!             Delivered, Gone, Retry, Refused,                       Retry { at, attempt, durable },
//!             Forbidden}                                              Disable, Discard, Exhausted,
//!                                                                     Forbidden}
//! ```
//!
//! A webhook attempt reports the receiver's [`Outcome::Status`] and the policy reads it the
//! Standard Webhooks way (2xx delivered, `410` disables, anything else retried). Another kind of
//! delivery whose protocol gives statuses other meanings (Web Push: `404` is gone too, `413` is
//! never retried) classifies its answer itself and reports [`Outcome::Delivered`],
//! [`Outcome::Gone`], [`Outcome::Retry`] or [`Outcome::Refused`]; the schedule, the jitter and
//! the `Retry-After` clamp are the same for every kind.

use core::time::Duration;
use std::time::SystemTime;

use http::{HeaderMap, StatusCode, header::RETRY_AFTER};

/// The default schedule, each delay counted from the preceding failure: immediately, 5 s,
/// 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over about 27½ hours.
pub const DEFAULT_SCHEDULE: [Duration; 8] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The receiver answered within the timeout. `retry_after` is its `Retry-After`, read by
    /// [`retry_after`], honoured on `429` and `503`.
    Status {
        /// The response status.
        status: StatusCode,
        /// The delay the receiver asked for.
        retry_after: Option<Duration>,
    },
    /// No answer within [`Policy::timeout`].
    Timeout,
    /// No connection, a reset, a refused address: the request did not complete.
    Transport,
    /// The target took the delivery, by its protocol's own success answer (Web Push's `201`).
    Delivered,
    /// The target no longer exists (Web Push's `404` / `410`, a registration deleted meanwhile):
    /// disable the registration, never send to it again.
    Gone,
    /// A failure worth retrying on the schedule, not before `retry_after` when the target
    /// asked (clamped to [`Policy::retry_after_max`]).
    Retry {
        /// The delay the target asked for.
        retry_after: Option<Duration>,
    },
    /// This delivery can never succeed (too large, refused for good): drop it, keep the
    /// registration.
    Refused,
    /// The address policy refuses the target: its name resolved, at connect time, to a
    /// loopback, private, link-local or metadata address (or its URL no longer passes the
    /// policy). Retrying would only knock on the same door: disable the registration at once.
    Forbidden,
}

impl Outcome {
    /// The outcome of a response: its status, and its `Retry-After` read at `now`.
    #[must_use]
    pub fn response(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Self {
        Self::Status {
            status,
            retry_after: retry_after(headers, now),
        }
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum Next {
    /// A 2xx: the delivery is done; remove it from the queue.
    Delivered,
    /// Try again at `at`; `attempt` is the number of that attempt (from 1). When `durable`, the
    /// delivery leaves memory and waits in the durable queue.
    Retry {
        /// When to try again.
        at: SystemTime,
        /// The number of the next attempt.
        attempt: u32,
        /// Whether the attempt is past the fast phase.
        durable: bool,
    },
    /// `410 Gone` (or [`Outcome::Gone`]): disable the registration and stop sending.
    Disable,
    /// [`Outcome::Refused`]: this delivery is dropped; the registration stays.
    Discard,
    /// The schedule is spent: the delivery failed for good; disable the registration and say so.
    Exhausted,
    /// [`Outcome::Forbidden`]: the target's address is refused; disable the registration at
    /// once and say so (no retry).
    Forbidden,
}

/// The retry schedule and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The delay before each attempt, the first counted from the event, the others from the
    /// preceding failure. Its length is the number of attempts.
    pub schedule: Vec<Duration>,
    /// How many attempts are made from memory before the delivery waits in the durable queue
    /// (default 3: the immediate one, 5 s, 5 min).
    pub fast_attempts: u32,
    /// How long an attempt may take until it counts as failed (default 15 s).
    pub timeout: Duration,
    /// The jitter, in percent of each scheduled delay, both ways (default 20: a delay of 5 min
    /// becomes 4–6 min), so that receivers that come back are not hit by every retry at once.
    pub jitter_percent: u8,
    /// The longest `Retry-After` honoured (default 6 h): a receiver asking for more is retried
    /// after this, so one answer cannot park a delivery past the schedule.
    pub retry_after_max: Duration,
    /// How long a registration may fail without one success before it is disabled (default
    /// 5 days).
    pub disable_after: Duration,
    /// How many deliveries the engine holds in memory at once, all targets together (default
    /// 1,024). More wait in the durable queue, due, and are taken up as attempts end: a topic
    /// with 100,000 registrations costs disk rows, not 100,000 tasks.
    pub max_in_memory: usize,
    /// How many of those may be for one target origin (`scheme://host:port` of the URL: one
    /// receiver, one push service; default 64), so one slow or huge target cannot take every
    /// slot from the others.
    pub max_in_memory_per_origin: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            schedule: DEFAULT_SCHEDULE.to_vec(),
            fast_attempts: 3,
            timeout: Duration::from_secs(15),
            jitter_percent: 20,
            retry_after_max: Duration::from_secs(6 * 3600),
            disable_after: Duration::from_secs(5 * 24 * 3600),
            // A delivery in memory is a task and its record (a body of at most a few KiB): about
            // 8 MiB for 1,024, what a 1 GiB hub spares for callbacks with room to breathe.
            max_in_memory: 1024,
            max_in_memory_per_origin: 64,
        }
    }
}

impl Policy {
    /// When the first attempt of an event published at `now` is due.
    #[must_use]
    pub fn first_attempt(&self, now: SystemTime) -> SystemTime {
        add(now, self.schedule.first().copied().unwrap_or_default())
    }

    /// When an attempt started at `started` times out.
    #[must_use]
    pub fn deadline(&self, started: SystemTime) -> SystemTime {
        add(started, self.timeout)
    }

    /// Whether attempt number `attempt` (from 1) is made from memory.
    #[must_use]
    pub fn is_fast(&self, attempt: u32) -> bool {
        attempt <= self.fast_attempts
    }

    /// What follows attempt number `attempt` (from 1) ending with `outcome` at `now`.
    /// `random` is any uniformly random number: it places the jitter.
    pub fn next(&self, attempt: u32, outcome: Outcome, now: SystemTime, random: u32) -> Next {
        let retry_after = match outcome {
            Outcome::Status { status, .. } if status.is_success() => return Next::Delivered,
            Outcome::Status { status, .. } if status == StatusCode::GONE => return Next::Disable,
            Outcome::Delivered => return Next::Delivered,
            Outcome::Gone => return Next::Disable,
            Outcome::Refused => return Next::Discard,
            Outcome::Forbidden => return Next::Forbidden,
            Outcome::Retry { retry_after } => retry_after,
            Outcome::Status {
                status,
                retry_after,
            } if status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE =>
            {
                retry_after
            }
            // Redirects, other statuses, timeouts and transport failures: retry on schedule.
            Outcome::Status { .. } | Outcome::Timeout | Outcome::Transport => None,
        };
        let Some(scheduled) = usize::try_from(attempt)
            .ok()
            .and_then(|i| self.schedule.get(i))
        else {
            return Next::Exhausted;
        };
        let mut delay = self.jittered(*scheduled, random);
        if let Some(asked) = retry_after {
            delay = delay.max(asked.min(self.retry_after_max));
        }
        let next = attempt.saturating_add(1);
        Next::Retry {
            at: add(now, delay),
            attempt: next,
            durable: !self.is_fast(next),
        }
    }

    /// `scheduled` moved by up to `jitter_percent` either way, placed by `random`.
    fn jittered(&self, scheduled: Duration, random: u32) -> Duration {
        let spread = scheduled.as_millis() * u128::from(self.jitter_percent.min(100)) / 100;
        if spread == 0 {
            return scheduled;
        }
        // random / u32::MAX of the range [-spread, +spread].
        let offset = (2 * spread) * u128::from(random) / u128::from(u32::MAX);
        let millis = scheduled.as_millis() - spread + offset;
        Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }
}

/// Tracks whether a registration has failed for [`Policy::disable_after`] without a success.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    /// The first failure since the last success.
    pub failing_since: Option<SystemTime>,
}

impl Health {
    /// Records one delivery's result at `now`; true when the registration must be disabled.
    #[must_use]
    pub fn record(&mut self, success: bool, now: SystemTime, policy: &Policy) -> bool {
        if success {
            self.failing_since = None;
            return false;
        }
        let since = *self.failing_since.get_or_insert(now);
        now.duration_since(since)
            .is_ok_and(|failing| failing >= policy.disable_after)
    }
}

/// The delay a response's `Retry-After` asks for at `now`: delta-seconds (saturating) or an
/// HTTP date (zero when past). `None` when absent or malformed.
#[must_use]
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

fn add(at: SystemTime, delay: Duration) -> SystemTime {
    // Past the platform's range (centuries): the latest representable time is never reached.
    at.checked_add(delay)
        .or_else(|| at.checked_add(Duration::from_secs(u64::from(u32::MAX))))
        .unwrap_or(at)
}
