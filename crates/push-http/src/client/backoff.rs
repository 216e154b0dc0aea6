//! The reconnection policy of every push client, sans-IO: connection outcomes and the current
//! time in, the delay before the next attempt (or "stop") out.
//!
//! Every delay lies in `[min, max]` ([`ReconnectPolicy::min`], [`ReconnectPolicy::max`]),
//! whatever the server's `retry` and however many attempts failed: the server's number is
//! clamped into that range when it arrives, the exponential growth saturates, and the jitter is
//! computed in 128-bit nanoseconds, so no input overflows or divides by zero.

use std::time::{Duration, Instant};

/// When and how often the client reconnects.
///
/// Delays grow exponentially from the reconnection time (the server's suggestion, such as SSE's
/// `retry`, else [`initial`](Self::initial)) up to [`max`](Self::max), each drawn at random
/// between half and all of its nominal value (so a restarted server is not hit by every client
/// at once), and never below [`min`](Self::min). A connection that stayed up for
/// [`healthy_after`](Self::healthy_after) resets the growth. After
/// [`max_retries`](Self::max_retries) consecutive failed attempts the client stops. Its running
/// state, per client, is a [`Backoff`].
///
/// The reconnection time a server sets is clamped into `[min, max]`: `retry: 0` cannot make a
/// client reconnect in a tight loop, and `retry: 99999999999999999` cannot make it wait for
/// three million years.
///
/// Setters are `with_x`, getters `x`, as every configuration of the push crates.
///
/// ```
/// use std::time::Instant;
/// use push_http::client::{Backoff, ReconnectPolicy};
///
/// let mut backoff = Backoff::new(ReconnectPolicy::default().with_max_retries(Some(2)), 7);
/// let t = Instant::now();
/// assert!(backoff.disconnected(t).is_some());
/// assert!(backoff.disconnected(t).is_some());
/// assert_eq!(backoff.disconnected(t), None); // the third failure in a row: stop
/// ```
#[derive(Clone, Debug)]
pub struct ReconnectPolicy {
    initial: Duration,
    min: Duration,
    max: Duration,
    healthy_after: Duration,
    max_retries: Option<u32>,
}

/// The default floor of every delay: 250 ms.
///
/// A server that answers `retry: 0` and closes at once (a crashing backend behind a healthy
/// proxy, say) would otherwise have every client reconnect in a loop: with the floor, and the
/// growth that doubles it after each failure, 10,000 clients send at most 40,000 requests in the
/// first second and half as many in each of the following, instead of as many as the network
/// carries. A quarter of a second is still below what a person notices after a server restart.
/// Lower it with [`ReconnectPolicy::with_min`] (tests, a local server).
pub const DEFAULT_MIN_DELAY: Duration = Duration::from_millis(250);

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(3),
            min: DEFAULT_MIN_DELAY,
            max: Duration::from_secs(60),
            healthy_after: Duration::from_secs(10),
            max_retries: None,
        }
    }
}

impl ReconnectPolicy {
    /// Sets the reconnection time before the server suggests one (default 3 s, as browsers).
    #[must_use]
    pub fn with_initial(mut self, delay: Duration) -> Self {
        self.initial = delay;
        self
    }

    /// Sets the shortest delay between attempts, whatever the server suggests (default
    /// [`DEFAULT_MIN_DELAY`], 250 ms; zero allows an immediate reconnection).
    #[must_use]
    pub fn with_min(mut self, delay: Duration) -> Self {
        self.min = delay;
        self
    }

    /// Sets the longest delay between attempts, whatever the server suggests (default 60 s;
    /// when below [`min`](Self::min), `min` is the longest too).
    #[must_use]
    pub fn with_max(mut self, delay: Duration) -> Self {
        self.max = delay;
        self
    }

    /// Sets how long a connection must stay up for the backoff to start over (default 10 s).
    #[must_use]
    pub fn with_healthy_after(mut self, period: Duration) -> Self {
        self.healthy_after = period;
        self
    }

    /// Sets how many consecutive failed attempts to retry before giving up (default: `None`,
    /// forever).
    #[must_use]
    pub fn with_max_retries(mut self, retries: Option<u32>) -> Self {
        self.max_retries = retries;
        self
    }

    /// The reconnection time before the server suggests one.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The shortest delay between attempts: no delay is shorter.
    pub fn min(&self) -> Duration {
        self.min
    }

    /// The longest delay between attempts as set: no delay is longer, unless [`min`](Self::min)
    /// is, which then wins.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// How long a connection must stay up for the backoff to start over.
    pub fn healthy_after(&self) -> Duration {
        self.healthy_after
    }

    /// How many consecutive failed attempts are retried (`None`: forever).
    pub fn max_retries(&self) -> Option<u32> {
        self.max_retries
    }

    /// `delay` clamped into `[min, max]` (`max` raised to `min` when below it).
    fn clamp(&self, delay: Duration) -> Duration {
        delay.clamp(self.min, self.max.max(self.min))
    }
}

/// The state of the reconnection policy for one client.
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: ReconnectPolicy,
    /// The reconnection time, already clamped into `[min, max]`.
    retry: Duration,
    failures: u32,
    connected_at: Option<Instant>,
    rng: u64,
}

impl Backoff {
    /// A fresh backoff; `seed` drives the jitter (any value; tests pass a fixed one).
    pub fn new(policy: ReconnectPolicy, seed: u64) -> Self {
        Self {
            retry: policy.clamp(policy.initial),
            policy,
            failures: 0,
            connected_at: None,
            rng: seed | 1,
        }
    }

    /// The server suggested a reconnection time (SSE's `retry:`), applied from the next attempt
    /// on, clamped into `[min, max]` of the policy.
    pub fn set_retry(&mut self, delay: Duration) {
        self.retry = self.policy.clamp(delay);
    }

    /// The current reconnection time (clamped).
    pub fn retry(&self) -> Duration {
        self.retry
    }

    /// The policy this backoff follows.
    pub fn policy(&self) -> &ReconnectPolicy {
        &self.policy
    }

    /// A connection was established (for SSE, a `200 text/event-stream` answer) at `now`.
    pub fn connected(&mut self, now: Instant) {
        self.connected_at = Some(now);
    }

    /// The connection ended, or an attempt failed, at `now`: the delay before trying again
    /// (within `[min, max]`), or `None` when the policy says stop.
    pub fn disconnected(&mut self, now: Instant) -> Option<Duration> {
        if let Some(at) = self.connected_at.take()
            && now.saturating_duration_since(at) >= self.policy.healthy_after
        {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        if self
            .policy
            .max_retries
            .is_some_and(|max| self.failures > max)
        {
            return None;
        }
        let exponent = self.failures.saturating_sub(1).min(16);
        let nominal = self.policy.clamp(self.retry.saturating_mul(1 << exponent));
        // Equal jitter: between half and all of the nominal delay, in nanoseconds as u128 (a
        // `Duration` has at most 94 bits of them, so nothing here overflows).
        let nominal = nominal.as_nanos();
        let half = nominal / 2;
        let random = (u128::from(self.next_random()) << 64) | u128::from(self.next_random());
        let jitter = random % (nominal - half + 1);
        Some(self.policy.clamp(from_nanos(half + jitter)))
    }

    /// How many attempts in a row have failed.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: plenty for jitter.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A duration of `nanos` nanoseconds (at most `Duration::MAX`'s, which this module never exceeds).
fn from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    // The remainder is below 10^9, so it fits a u32.
    let sub = (nanos % NANOS_PER_SEC) as u32;
    Duration::new(secs, sub)
}
#[cfg(test)]
#[allow(clippy::disallowed_methods)] // Tests need a starting instant; the policy never reads one.
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn delays_grow_with_jitter_and_are_capped() {
        let mut b = Backoff::new(
            ReconnectPolicy::default()
                .with_initial(secs(1))
                .with_max(secs(8)),
            42,
        );
        let t = Instant::now();
        let mut nominal = secs(1);
        for _ in 0..8 {
            let d = b.disconnected(t).unwrap();
            assert!(
                d >= nominal / 2 && d <= nominal,
                "{d:?} outside [{:?}, {nominal:?}]",
                nominal / 2
            );
            nominal = (nominal * 2).min(secs(8));
        }
    }

    #[test]
    fn a_healthy_connection_resets_the_backoff() {
        let mut b = Backoff::new(
            ReconnectPolicy::default()
                .with_initial(secs(1))
                .with_max_retries(Some(3)),
            1,
        );
        let t = Instant::now();
        for _ in 0..3 {
            b.disconnected(t).unwrap();
        }
        b.connected(t);
        // Up 11 s (> healthy_after): the count starts over, so this is the first failure.
        assert!(b.disconnected(t + secs(11)).unwrap() <= secs(1));
        assert_eq!(b.failures(), 1);
        // A short-lived connection does not reset it.
        b.connected(t + secs(12));
        b.disconnected(t + secs(13)).unwrap();
        assert_eq!(b.failures(), 2);
    }

    #[test]
    fn max_retries_really_stops() {
        let mut b = Backoff::new(ReconnectPolicy::default().with_max_retries(Some(0)), 1);
        assert_eq!(b.disconnected(Instant::now()), None);
        assert_eq!(b.disconnected(Instant::now()), None);
    }

    #[test]
    fn the_server_retry_sets_the_base_delay() {
        let mut b = Backoff::new(ReconnectPolicy::default().with_min(Duration::ZERO), 9);
        b.set_retry(Duration::from_millis(100));
        let d = b.disconnected(Instant::now()).unwrap();
        assert!(d <= Duration::from_millis(100) && d >= Duration::from_millis(50));
        b.set_retry(Duration::ZERO);
        assert_eq!(b.disconnected(Instant::now()), Some(Duration::ZERO));
    }

    #[test]
    fn a_retry_of_zero_is_raised_to_the_floor_and_still_grows() {
        let mut b = Backoff::new(ReconnectPolicy::default(), 3);
        b.set_retry(Duration::ZERO);
        assert_eq!(b.retry(), DEFAULT_MIN_DELAY);
        let t = Instant::now();
        let delays: Vec<Duration> = (0..4).map(|_| b.disconnected(t).unwrap()).collect();
        assert!(delays.iter().all(|&d| d >= DEFAULT_MIN_DELAY), "{delays:?}");
        // The fourth attempt's nominal delay is 8 x 250 ms: at least half of it.
        assert!(delays[3] >= Duration::from_secs(1), "{delays:?}");
    }

    #[test]
    fn a_huge_server_retry_is_capped_instead_of_overflowing() {
        // `retry: 99999999999999999` (ms) made the jitter's spread overflow: a panic.
        let mut b = Backoff::new(ReconnectPolicy::default(), 5);
        b.set_retry(Duration::from_millis(99_999_999_999_999_999));
        assert_eq!(b.retry(), secs(60));
        let t = Instant::now();
        for _ in 0..20 {
            let d = b.disconnected(t).unwrap();
            assert!(d >= secs(30) && d <= secs(60), "{d:?}");
        }
        let mut b = Backoff::new(ReconnectPolicy::default().with_max(Duration::MAX), 5);
        b.set_retry(Duration::MAX);
        assert!(b.disconnected(t).unwrap() >= Duration::MAX / 2);
    }
}
