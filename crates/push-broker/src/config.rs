//! How much the broker keeps, and what happens to subscribers that fall behind.
//!
//! # What the defaults hold
//!
//! The defaults are sized for a small deployment (2 cores, 1 GiB of memory) that also serves its
//! connections: at most [`DEFAULT_MAX_TOPICS`] topics with history (about 1 KiB of bookkeeping
//! each, so 64 MiB when all are in use), at most [`DEFAULT_TOTAL_HISTORY_BYTES`] (256 MiB) of
//! retained events across all of them, [`DEFAULT_HISTORY_BYTES`] (16 MiB, sixteen events of the
//! examples' 1 MiB publish limit) per topic, and ten minutes of age. That leaves well over half
//! of the memory for connections, their buffers and the wire encodings cached for events being
//! delivered. Raise them together with the memory you give the process.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Journal;

/// The default [`Config::max_topics`].
pub const DEFAULT_MAX_TOPICS: usize = 65_536;
/// The default [`Config::history_bytes`] (per topic).
pub const DEFAULT_HISTORY_BYTES: usize = 16 << 20;
/// The default [`Config::total_history_bytes`] (the whole broker).
pub const DEFAULT_TOTAL_HISTORY_BYTES: usize = 256 << 20;
/// The default [`Config::max_pattern_subscriptions`].
pub const DEFAULT_MAX_PATTERN_SUBSCRIPTIONS: usize = 1024;
/// The default [`Config::max_pattern_topics`].
pub const DEFAULT_MAX_PATTERN_TOPICS: usize = 1024;

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
/// History is bounded four ways: per topic by count ([`history_count`](Self::with_history_count)),
/// age ([`history_age`](Self::with_history_age)) and bytes ([`history_bytes`](Self::with_history_bytes)),
/// and for the whole broker by bytes ([`total_history_bytes`](Self::with_total_history_bytes)) and by
/// the number of topics that hold history ([`max_topics`](Self::with_max_topics)). Every event lost to
/// a bound becomes a [`Gap`](push_core::Gap) for a subscriber that resumes before it.
///
/// ```
/// use std::time::Duration;
/// use push_broker::{Config, Overflow};
///
/// let config = Config::default()
///     .with_history_count(10_000)
///     .with_history_age(Duration::from_secs(3600))
///     .with_history_bytes(64 << 20)
///     .with_total_history_bytes(512 << 20)
///     .with_max_topics(100_000)
///     .with_queue_count(1_000)
///     .with_queue_bytes(4 << 20)
///     .with_overflow(Overflow::Close);
/// assert_eq!(config.history_count(), 10_000);
/// assert_eq!(config.max_topics(), 100_000);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) history_count: usize,
    pub(crate) history_age: Duration,
    pub(crate) history_bytes: u64,
    pub(crate) total_history_bytes: u64,
    pub(crate) max_topics: usize,
    pub(crate) queue_count: usize,
    pub(crate) queue_bytes: usize,
    pub(crate) overflow: Overflow,
    pub(crate) max_pattern_subscriptions: usize,
    pub(crate) max_pattern_topics: usize,
    pub(crate) clock: Clock,
    pub(crate) journal: Option<Arc<dyn Journal>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            history_count: 1024,
            history_age: Duration::from_secs(600),
            history_bytes: DEFAULT_HISTORY_BYTES as u64,
            total_history_bytes: DEFAULT_TOTAL_HISTORY_BYTES as u64,
            max_topics: DEFAULT_MAX_TOPICS,
            queue_count: 512,
            queue_bytes: 1 << 20,
            overflow: Overflow::DropBacklog,
            max_pattern_subscriptions: DEFAULT_MAX_PATTERN_SUBSCRIPTIONS,
            max_pattern_topics: DEFAULT_MAX_PATTERN_TOPICS,
            clock: Clock::default(),
            journal: None,
        }
    }
}

impl Config {
    /// The most events kept per topic (at least 1). Default 1024.
    #[must_use]
    pub fn with_history_count(mut self, count: usize) -> Self {
        self.history_count = count.max(1);
        self
    }

    /// How long an event stays in its topic's history. Default 10 minutes.
    ///
    /// Expiry does not wait for traffic: [`MemoryBroker::sweep`](crate::MemoryBroker::sweep)
    /// frees what is due, and the `sweeper` feature's
    /// [`MemoryBroker::spawn_sweeper`](crate::MemoryBroker::spawn_sweeper) calls it at each
    /// [`poll_timeout`](crate::MemoryBroker::poll_timeout).
    #[must_use]
    pub fn with_history_age(mut self, age: Duration) -> Self {
        self.history_age = age;
        self
    }

    /// The most bytes of history one topic keeps, counted as each event's
    /// [`weight`](push_core::Event::weight) plus a fixed estimate of its bookkeeping. The newest
    /// event of a topic is kept even when it alone is larger. At most
    /// [`total_history_bytes`](Self::with_total_history_bytes) (a larger value counts as that).
    /// Default 16 MiB ([`DEFAULT_HISTORY_BYTES`]).
    #[must_use]
    pub fn with_history_bytes(mut self, bytes: usize) -> Self {
        self.history_bytes = bytes as u64;
        self
    }

    /// The most bytes of history the whole broker keeps, counted like
    /// [`history_bytes`](Self::with_history_bytes). When a publish goes past it, the topic with the
    /// most history loses its oldest event until the total fits again: a topic at or under its
    /// fair share (this budget divided by the topics holding history) never loses an event to
    /// another topic's publishes. Default 256 MiB ([`DEFAULT_TOTAL_HISTORY_BYTES`]).
    ///
    /// A topic's own budget is never larger than this one: a smaller value lowers
    /// [`history_bytes`](Self::with_history_bytes) to it (whatever the order of the two calls), so
    /// a topic filling its own budget never makes the broker trim it. The event just
    /// published on a topic that holds nothing else is never evicted by this budget (a
    /// caught-up subscriber gets it, not a gap): an event larger than the budget is kept until
    /// the next publish.
    #[must_use]
    pub fn with_total_history_bytes(mut self, bytes: usize) -> Self {
        self.total_history_bytes = bytes as u64;
        self
    }

    /// The most topics that hold history at once (at least 1). A publish that would start one
    /// more fails with [`Error::TopicLimit`](push_core::Error::TopicLimit). Topics that only have
    /// subscribers do not count: their state belongs to the subscriptions and goes with the
    /// last of them. Default 65,536 ([`DEFAULT_MAX_TOPICS`]).
    #[must_use]
    pub fn with_max_topics(mut self, count: usize) -> Self {
        self.max_topics = count.max(1);
        self
    }

    /// The most live events a subscriber may be behind (at least 1). Default 512.
    #[must_use]
    pub fn with_queue_count(mut self, count: usize) -> Self {
        self.queue_count = count.max(1);
        self
    }

    /// The most bytes of live events ([`Event::weight`](push_core::Event::weight)) a subscriber
    /// may be behind. A single event larger than this still gets through when it is the whole
    /// backlog. Default 1 MiB.
    #[must_use]
    pub fn with_queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes.max(1);
        self
    }

    /// What happens when a subscriber falls behind by more than its queue. Default
    /// [`Overflow::DropBacklog`].
    #[must_use]
    pub fn with_overflow(mut self, policy: Overflow) -> Self {
        self.overflow = policy;
        self
    }

    /// The most subscriptions with patterns (`*`, templates, URL patterns) open at once (at
    /// least 1); one more is refused with
    /// [`Error::SubscriptionLimit`](push_core::Error::SubscriptionLimit). Each is matched once
    /// against every topic created while it is open, so this bounds the work a new topic costs
    /// (a thousand template matches: well under a millisecond). Default 1024
    /// ([`DEFAULT_MAX_PATTERN_SUBSCRIPTIONS`]).
    #[must_use]
    pub fn with_max_pattern_subscriptions(mut self, count: usize) -> Self {
        self.max_pattern_subscriptions = count.max(1);
        self
    }

    /// The most topics one pattern subscription follows besides its exact ones (at least 1).
    /// A pattern matching more existing topics is refused with
    /// [`Error::SubscriptionLimit`](push_core::Error::SubscriptionLimit); past it later, the
    /// subscription stops following matched topics that hold nothing for it, and closes with
    /// [`CloseReason::Overflow`](push_core::CloseReason::Overflow) if that is not enough. Each
    /// followed topic costs the subscription about a hundred bytes and a lock on each refill:
    /// with the default pattern-subscription limit, 1024 × 1024 followed topics hold about
    /// 100 MiB at worst. Default 1024 ([`DEFAULT_MAX_PATTERN_TOPICS`]).
    #[must_use]
    pub fn with_max_pattern_topics(mut self, count: usize) -> Self {
        self.max_pattern_topics = count.max(1);
        self
    }

    /// The clock the broker stamps and expires events with. Default: [`Instant::now`]. Tests
    /// pass a clock they move by hand, or tokio's paused clock
    /// (`|| tokio::time::Instant::now().into_std()`), so expiry is tested without sleeping.
    #[must_use]
    pub fn with_clock(mut self, now: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Clock(Some(Arc::new(now)));
        self
    }

    /// Makes the history durable: `journal` hears every publish (its cursor, topics and
    /// event) inside the broker's critical section, before any subscriber can see the event,
    /// and a journal error fails the publish with
    /// [`Error::BrokerUnavailable`](push_core::Error::BrokerUnavailable) (nothing stored,
    /// nothing delivered). It also hears which events left the history, by any bound, so what
    /// it keeps is bounded like the broker. [`MemoryBroker::restore`](crate::MemoryBroker::restore)
    /// rebuilds a broker from what it kept. Default: none (the history lives in memory only).
    ///
    /// A journal's write happens under the lock that orders publishes: its latency is the
    /// publish latency, and publishes are serialised through it. Subscribers never wait for it.
    #[must_use]
    pub fn with_journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The configured journal, if any.
    pub fn journal(&self) -> Option<&Arc<dyn Journal>> {
        self.journal.as_ref()
    }

    /// The configured history count.
    pub fn history_count(&self) -> usize {
        self.history_count
    }

    /// The configured history age.
    pub fn history_age(&self) -> Duration {
        self.history_age
    }

    /// The per-topic byte budget in force: [`history_bytes`](Self::with_history_bytes), at most
    /// [`total_history_bytes`](Self::with_total_history_bytes).
    pub fn history_bytes(&self) -> usize {
        usize::try_from(self.topic_budget()).unwrap_or(usize::MAX)
    }

    /// The broker-wide byte budget.
    pub fn total_history_bytes(&self) -> usize {
        usize::try_from(self.total_history_bytes).unwrap_or(usize::MAX)
    }

    /// A topic never holds more than the whole broker may (whatever the order of the calls).
    pub(crate) fn topic_budget(&self) -> u64 {
        self.history_bytes.min(self.total_history_bytes)
    }

    /// The configured topic limit.
    pub fn max_topics(&self) -> usize {
        self.max_topics
    }

    /// The configured subscriber queue bound, in events.
    pub fn queue_count(&self) -> usize {
        self.queue_count
    }

    /// The configured subscriber queue bound, in bytes.
    pub fn queue_bytes(&self) -> usize {
        self.queue_bytes
    }

    /// The configured overflow policy.
    pub fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// The configured limit on open pattern subscriptions.
    pub fn max_pattern_subscriptions(&self) -> usize {
        self.max_pattern_subscriptions
    }

    /// The configured limit on topics one pattern subscription follows.
    pub fn max_pattern_topics(&self) -> usize {
        self.max_pattern_topics
    }
}

/// Where the broker reads the time: the system's monotonic clock unless a test gave another.
#[derive(Clone, Default)]
pub(crate) struct Clock(Option<Arc<dyn Fn() -> Instant + Send + Sync>>);

impl Clock {
    pub(crate) fn now(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(now) => now(),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Custom" } else { "System" })
    }
}
