//! How much the broker keeps, and what happens to subscribers that fall behind.

use std::time::Duration;

/// What to do with a subscriber that falls further behind than its queue allows.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overflow {
    /// Drop the subscriber's backlog and deliver a [`Gap`](push_core::Gap) with reason
    /// [`Overflow`](push_core::GapReason::Overflow); the subscription then continues live.
    #[default]
    DropBacklog,
    /// End the subscription with [`CloseReason::Overflow`](push_core::CloseReason::Overflow).
    Close,
}

/// The broker's limits. Every one of them bounds memory; none of them can be turned off.
///
/// ```
/// use std::time::Duration;
/// use push_broker::{Config, Overflow};
///
/// let config = Config::default()
///     .history_count(10_000)
///     .history_age(Duration::from_secs(3600))
///     .queue_count(1_000)
///     .queue_bytes(4 << 20)
///     .overflow(Overflow::Close);
/// assert_eq!(config.get_history_count(), 10_000);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) history_count: usize,
    pub(crate) history_age: Duration,
    pub(crate) queue_count: usize,
    pub(crate) queue_bytes: usize,
    pub(crate) overflow: Overflow,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            history_count: 1024,
            history_age: Duration::from_secs(600),
            queue_count: 512,
            queue_bytes: 1 << 20,
            overflow: Overflow::DropBacklog,
        }
    }
}

impl Config {
    /// The most events kept per topic (at least 1). Default 1024.
    #[must_use]
    pub fn history_count(mut self, count: usize) -> Self {
        self.history_count = count.max(1);
        self
    }

    /// How long an event stays in its topic's history. Default 10 minutes.
    #[must_use]
    pub fn history_age(mut self, age: Duration) -> Self {
        self.history_age = age;
        self
    }

    /// The most live events a subscriber may be behind (at least 1). Default 512.
    #[must_use]
    pub fn queue_count(mut self, count: usize) -> Self {
        self.queue_count = count.max(1);
        self
    }

    /// The most bytes of live events ([`Event::weight`](push_core::Event::weight)) a subscriber
    /// may be behind. A single event larger than this still gets through when it is the whole
    /// backlog. Default 1 MiB.
    #[must_use]
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes.max(1);
        self
    }

    /// What happens when a subscriber falls behind by more than its queue. Default
    /// [`Overflow::DropBacklog`].
    #[must_use]
    pub fn overflow(mut self, policy: Overflow) -> Self {
        self.overflow = policy;
        self
    }

    /// The configured history count.
    pub fn get_history_count(&self) -> usize {
        self.history_count
    }

    /// The configured history age.
    pub fn get_history_age(&self) -> Duration {
        self.history_age
    }
}
