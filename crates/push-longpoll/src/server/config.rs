//! The server's limits: batch size, hold cap, default hold and jitter.

use core::time::Duration;

/// The long-poll limits of a server. Every field has a safe default.
///
/// ```
/// use std::time::Duration;
/// use push_longpoll::server::Config;
///
/// let config = Config::default()
///     .with_max_events(50)
///     .with_max_bytes(16 * 1024)
///     .with_wait_cap(Duration::from_secs(20))
///     .with_jitter(Duration::from_millis(500));
/// assert_eq!(config.wait_cap(), Duration::from_secs(20));
/// assert_eq!(config.max_events(), 50);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) max_events: usize,
    pub(crate) max_bytes: usize,
    pub(crate) wait_cap: Duration,
    pub(crate) default_wait: Option<Duration>,
    pub(crate) jitter: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_events: 100,
            max_bytes: 256 * 1024,
            wait_cap: Duration::from_secs(25),
            default_wait: None,
            jitter: Duration::from_secs(1),
        }
    }
}

impl Config {
    /// The most events in one answer (at least 1). Default 100: a client catching up after a
    /// disconnect gets its backlog in a few round trips, each answer small enough to parse at
    /// once (the byte limit below bounds it as well).
    #[must_use]
    pub fn with_max_events(mut self, count: usize) -> Self {
        self.max_events = count.max(1);
        self
    }

    /// The most bytes of encoded events in one answer. An event larger than this is still sent,
    /// alone, so a client is never stuck. Default 256 KiB: an answer is built whole before it
    /// is written, so this bounds the memory of each answer in flight (the encoded events are
    /// shared with every other poll answering with them); a thousand answers written at once
    /// to slow clients then hold at most 256 MiB, within a 1 GiB deployment.
    #[must_use]
    pub fn with_max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes.max(1);
        self
    }

    /// The longest hold: a longer `wait` asked for is capped to this, not refused. Default 25 s,
    /// under the 30 s, 55 s and 60 s idle limits of common proxies and load balancers.
    #[must_use]
    pub fn with_wait_cap(mut self, cap: Duration) -> Self {
        self.wait_cap = cap;
        self
    }

    /// The hold when the client asks for none (capped too). Default: the cap.
    #[must_use]
    pub fn with_default_wait(mut self, wait: Duration) -> Self {
        self.default_wait = Some(wait);
        self
    }

    /// The most a hold is shortened by, so clients that timed out together do not all come back
    /// together. The jitter of one hold is at most a tenth of the hold. Default 1 s: ten
    /// thousand clients whose 25 s holds ended together come back spread over a second rather
    /// than in one burst of accepts.
    #[must_use]
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// The most events in one answer.
    pub fn max_events(&self) -> usize {
        self.max_events
    }

    /// The most bytes of encoded events in one answer (one larger event is still sent alone).
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The configured cap on holds.
    pub fn wait_cap(&self) -> Duration {
        self.wait_cap
    }

    /// The most a hold is shortened by.
    pub fn jitter(&self) -> Duration {
        self.jitter
    }

    /// The hold used when the client asks for none (already capped).
    pub fn default_wait(&self) -> Duration {
        self.default_wait
            .unwrap_or(self.wait_cap)
            .min(self.wait_cap)
    }

    /// The hold for a request that asked for `wait` (`None`: asked for nothing), before jitter.
    pub fn effective_wait(&self, wait: Option<Duration>) -> Duration {
        wait.map_or_else(|| self.default_wait(), |w| w.min(self.wait_cap))
    }

    /// How much to shorten a hold of `wait`, derived deterministically from `seed`: a value in
    /// `0..=min(jitter, wait / 10)`.
    pub fn jitter_for(&self, wait: Duration, seed: u64) -> Duration {
        let max = self.jitter.min(wait / 10);
        let max_nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        if max_nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(splitmix64(seed) % (max_nanos + 1).max(1))
    }
}

/// A well-mixed 64-bit hash of a seed (SplitMix64's finaliser).
pub(crate) fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_capped_and_jitter_is_bounded() {
        let c = Config::default();
        assert_eq!(c.effective_wait(None), Duration::from_secs(25));
        assert_eq!(
            c.effective_wait(Some(Duration::from_secs(3600))),
            Duration::from_secs(25)
        );
        assert_eq!(c.effective_wait(Some(Duration::ZERO)), Duration::ZERO);
        let c = c.with_default_wait(Duration::from_secs(10));
        assert_eq!(c.effective_wait(None), Duration::from_secs(10));
        for seed in 0..1000 {
            let j = c.jitter_for(Duration::from_secs(25), seed);
            assert!(j <= Duration::from_secs(1));
            assert_eq!(j, c.jitter_for(Duration::from_secs(25), seed));
            assert!(c.jitter_for(Duration::from_secs(2), seed) <= Duration::from_millis(200));
        }
        assert_eq!(c.jitter_for(Duration::ZERO, 7), Duration::ZERO);
        assert_ne!(
            c.jitter_for(Duration::from_secs(25), 1),
            c.jitter_for(Duration::from_secs(25), 2)
        );
    }
}
