//! The reconnection policy of the client, sans-IO: connection outcomes and the current time in,
//! the delay before the next attempt (or "stop") out.

use std::time::{Duration, Instant};

/// When and how often the client reconnects.
///
/// Delays grow exponentially from the reconnection time (the server's `retry`, else
/// [`initial`](Self::initial)) up to [`max`](Self::max), each drawn at random between half and
/// all of its nominal value (so a restarted server is not hit by every client at once). A
/// connection that stayed up for [`healthy_after`](Self::healthy_after) resets the growth.
/// After [`max_retries`](Self::max_retries) consecutive failed attempts the client stops.
///
/// ```
/// use std::time::Instant;
/// use push_sse::{Backoff, ReconnectPolicy};
///
/// let mut backoff = Backoff::new(ReconnectPolicy::default().max_retries(Some(2)), 7);
/// let t = Instant::now();
/// assert!(backoff.disconnected(t).is_some());
/// assert!(backoff.disconnected(t).is_some());
/// assert_eq!(backoff.disconnected(t), None); // the third failure in a row: stop
/// ```
#[derive(Clone, Debug)]
pub struct ReconnectPolicy {
    initial: Duration,
    max: Duration,
    healthy_after: Duration,
    max_retries: Option<u32>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(3),
            max: Duration::from_secs(60),
            healthy_after: Duration::from_secs(10),
            max_retries: None,
        }
    }
}

impl ReconnectPolicy {
    /// The reconnection time before the server sets one with `retry` (default 3 s, as browsers).
    #[must_use]
    pub fn initial(mut self, delay: Duration) -> Self {
        self.initial = delay;
        self
    }

    /// The longest delay between attempts (default 60 s).
    #[must_use]
    pub fn max(mut self, delay: Duration) -> Self {
        self.max = delay;
        self
    }

    /// How long a connection must stay up for the backoff to start over (default 10 s).
    #[must_use]
    pub fn healthy_after(mut self, period: Duration) -> Self {
        self.healthy_after = period;
        self
    }

    /// How many consecutive failed attempts to retry before giving up (default: forever).
    #[must_use]
    pub fn max_retries(mut self, retries: Option<u32>) -> Self {
        self.max_retries = retries;
        self
    }
}

/// The state of the reconnection policy for one client.
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: ReconnectPolicy,
    retry: Duration,
    failures: u32,
    connected_at: Option<Instant>,
    rng: u64,
}

impl Backoff {
    /// A fresh backoff; `seed` drives the jitter (any value; tests pass a fixed one).
    pub fn new(policy: ReconnectPolicy, seed: u64) -> Self {
        Self {
            retry: policy.initial,
            policy,
            failures: 0,
            connected_at: None,
            rng: seed | 1,
        }
    }

    /// The server set the reconnection time (`retry:`), applied from the next attempt on.
    pub fn set_retry(&mut self, delay: Duration) {
        self.retry = delay;
    }

    /// The current reconnection time.
    pub fn retry(&self) -> Duration {
        self.retry
    }

    /// A connection was established (a `200 text/event-stream` answer) at `now`.
    pub fn connected(&mut self, now: Instant) {
        self.connected_at = Some(now);
    }

    /// The connection ended, or an attempt failed, at `now`: the delay before trying again, or
    /// `None` when the policy says stop.
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
        let exponent = (self.failures - 1).min(16);
        let nominal = self
            .retry
            .saturating_mul(1 << exponent)
            .min(self.policy.max.max(self.retry));
        // Equal jitter: between half and all of the nominal delay.
        let half = nominal / 2;
        let spread = u64::try_from((nominal - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            self.next_random() % (spread + 1)
        };
        Some(half + Duration::from_nanos(jitter))
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

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // Tests need a starting instant; the policy never reads one.
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn delays_grow_with_jitter_and_are_capped() {
        let mut b = Backoff::new(ReconnectPolicy::default().initial(secs(1)).max(secs(8)), 42);
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
                .initial(secs(1))
                .max_retries(Some(3)),
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
        let mut b = Backoff::new(ReconnectPolicy::default().max_retries(Some(0)), 1);
        assert_eq!(b.disconnected(Instant::now()), None);
        assert_eq!(b.disconnected(Instant::now()), None);
    }

    #[test]
    fn the_server_retry_sets_the_base_delay() {
        let mut b = Backoff::new(ReconnectPolicy::default(), 9);
        b.set_retry(Duration::from_millis(100));
        let d = b.disconnected(Instant::now()).unwrap();
        assert!(d <= Duration::from_millis(100) && d >= Duration::from_millis(50));
        b.set_retry(Duration::ZERO);
        assert_eq!(b.disconnected(Instant::now()), Some(Duration::ZERO));
    }
}
