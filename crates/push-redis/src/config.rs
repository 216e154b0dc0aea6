//! The broker's settings, each with a safe documented default.

use std::time::Duration;

/// The most partitions a deployment may have (the cursor has room for 65 536; a reader reads
/// every partition in one `XREAD`, so keep it small).
pub const MAX_PARTITIONS: u16 = 1024;

/// How long the local fan-out keeps an event for a subscription that has not read it: one
/// further behind replays from Redis.
const FANOUT_AGE: Duration = Duration::from_secs(60);

/// How a [`RedisBroker`](crate::RedisBroker) uses Redis.
///
/// ```
/// use std::time::Duration;
/// use push_redis::Config;
///
/// let config = Config::new("redis://127.0.0.1:6379/")
///     .with_history_count(1000)
///     .with_durable(1, Duration::from_millis(200));
/// assert_eq!(config.partitions(), 16);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) url: String,
    pub(crate) cluster: Option<Vec<String>>,
    pub(crate) prefix: String,
    pub(crate) partitions: u16,
    pub(crate) history_count: usize,
    pub(crate) history_age: Duration,
    pub(crate) durable: Option<(u32, Duration)>,
    pub(crate) backoff: (Duration, Duration),
    pub(crate) block: Duration,
    pub(crate) batch: usize,
    pub(crate) channel: usize,
    pub(crate) max_pattern_subscriptions: usize,
    pub(crate) max_topics: usize,
    pub(crate) id_index: usize,
    pub(crate) root_cert: Option<Vec<u8>>,
    pub(crate) publish_batch: (usize, usize),
    pub(crate) trim_every: usize,
    pub(crate) publish_in_flight: usize,
}

impl Config {
    /// Settings for the Redis at `url`: `redis://[USER:PASSWORD@]HOST:PORT[/DB]`, or `rediss://…`
    /// for TLS (the server's certificate is checked against the Web PKI roots).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            cluster: None,
            prefix: "push:".to_owned(),
            partitions: 16,
            history_count: 10_000,
            history_age: Duration::from_secs(3600),
            durable: None,
            backoff: (Duration::from_millis(50), Duration::from_secs(5)),
            block: Duration::from_secs(1),
            batch: 512,
            channel: 4096,
            max_pattern_subscriptions: push_broker::DEFAULT_MAX_PATTERN_SUBSCRIPTIONS,
            max_topics: push_broker::DEFAULT_MAX_TOPICS,
            id_index: 160_000,
            root_cert: None,
            publish_batch: (256, 1 << 20),
            trim_every: 64,
            publish_in_flight: 4,
        }
    }

    /// Settings for a Redis Cluster reached through any of `nodes` (the same URL forms; the
    /// client learns the rest of the topology from them). Every script and command touches one
    /// slot; the reader reads each partition on its master.
    ///
    /// ```
    /// let config = push_redis::Config::cluster(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]);
    /// assert!(config.is_cluster());
    /// ```
    pub fn cluster<I, S>(nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let nodes: Vec<String> = nodes.into_iter().map(Into::into).collect();
        let mut config = Self::new(nodes.first().cloned().unwrap_or_default());
        config.cluster = Some(nodes);
        config
    }

    /// Whether this is a Cluster's configuration.
    pub fn is_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// The prefix of every key (default `push:`): several deployments may share one Redis.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The number of partitions (default 16, clamped to 1..=[`MAX_PARTITIONS`]). Fixed for the
    /// life of the data: every hub of a deployment must use the same number. Sixteen spread over
    /// the masters of a Cluster of up to sixteen and cost a reader one short `XREAD`.
    #[must_use]
    pub fn with_partitions(mut self, partitions: u16) -> Self {
        self.partitions = partitions.clamp(1, MAX_PARTITIONS);
        self
    }

    /// The entries each partition keeps (default 10 000, approximately: `MAXLEN ~`). Sixteen
    /// partitions of 10 000 entries of half a kilobyte are about 80 MB of Redis memory.
    #[must_use]
    pub fn with_history_count(mut self, count: usize) -> Self {
        self.history_count = count.max(1);
        self
    }

    /// How long entries are kept (default one hour, approximately: `MINID ~`): longer than a
    /// client is expected to stay away and still want what it missed. Zero keeps them until
    /// the count bound removes them.
    #[must_use]
    pub fn with_history_age(mut self, age: Duration) -> Self {
        self.history_age = age;
        self
    }

    /// Durable mode: a publish also waits (`WAIT`) until `replicas` replicas have the event, at
    /// most `timeout`, and fails when fewer acknowledged (the event may then still be
    /// delivered). Off by default: Redis' default persistence may lose an acknowledged event in
    /// a crash or failover.
    #[must_use]
    pub fn with_durable(mut self, replicas: u32, timeout: Duration) -> Self {
        self.durable = Some((replicas, timeout));
        self
    }

    /// The reader's reconnection backoff: first delay, doubling up to the last (default 50 ms to
    /// 5 s: quick after a blip, gentle on a Redis that is restarting).
    #[must_use]
    pub fn with_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = (first.max(Duration::from_millis(1)), max.max(first));
        self
    }

    /// How long one `XREAD` blocks when nothing is pending (default 1 s): an idle hub costs
    /// Redis one command a second.
    #[must_use]
    pub fn with_block(mut self, block: Duration) -> Self {
        self.block = block.clamp(Duration::from_millis(1), Duration::from_secs(30));
        self
    }

    /// How many events of one topic the local fan-out keeps for its slowest subscriber
    /// (default 4096; also at most 16 MiB behind per subscriber and 64 MiB in all). A
    /// subscriber further behind replays from Redis instead of losing events.
    #[must_use]
    pub fn with_channel(mut self, events: usize) -> Self {
        self.channel = events.max(16);
        self
    }

    /// The most local subscriptions with patterns (`*`, templates, URL patterns) open at once
    /// (default 1024, as push-broker's); one more is refused with
    /// [`Error::SubscriptionLimit`](push_core::Error::SubscriptionLimit).
    #[must_use]
    pub fn with_max_pattern_subscriptions(mut self, count: usize) -> Self {
        self.max_pattern_subscriptions = count.max(1);
        self
    }

    /// The most topics the local fan-out holds events for at once (default 65 536, as
    /// push-broker's). An event on one more topic is not kept there: the local subscriptions
    /// that want it replay it from Redis instead, so nothing is lost and memory stays bounded
    /// under a flood of new topics.
    #[must_use]
    pub fn with_max_topics(mut self, count: usize) -> Self {
        self.max_topics = count.max(1);
        self
    }

    /// The local fan-out's settings: a relaying [`MemoryBroker`](push_broker::MemoryBroker)
    /// whose topic rings hold the live events a subscription has not read yet.
    pub(crate) fn fanout(&self) -> push_broker::Config {
        push_broker::Config::default()
            .with_history_count(self.channel)
            .with_queue_count(self.channel)
            .with_queue_bytes(16 << 20)
            .with_history_bytes(16 << 20)
            .with_total_history_bytes(64 << 20)
            // A relay refused at this limit is replayed from Redis by whoever wants it.
            .with_max_topics(self.max_topics)
            .with_history_age(FANOUT_AGE)
            .with_max_pattern_subscriptions(self.max_pattern_subscriptions)
    }

    /// How many publisher ids the local index keeps for [`resolve`](push_core::Broker::resolve)
    /// (default 160 000, about 16 MB: every id the default history can hold, sixteen partitions
    /// of 10 000 entries). Past it the oldest ids are forgotten: resuming from one is then an
    /// announced gap, as for an id never published.
    #[must_use]
    pub fn with_id_index(mut self, ids: usize) -> Self {
        self.id_index = ids;
        self
    }

    /// Trust the certificate authority `pem` (PEM) for `rediss://` instead of the Web PKI roots:
    /// a Redis with a certificate of a private CA, or self-signed.
    #[must_use]
    pub fn with_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_cert = Some(pem.into());
        self
    }

    /// The most publishes, and bytes of events, one script call appends to a partition
    /// (default 256 and 1 MiB). Concurrent publishes to a partition are batched: while one call
    /// is in flight the next publishes queue, and go together in the next call, each publisher
    /// still getting its own id or error. 256 events of a few hundred bytes keep one call
    /// (which Redis runs atomically, blocking its other clients) well under a millisecond; an
    /// event larger than the byte bound goes alone.
    #[must_use]
    pub fn with_publish_batch(mut self, count: usize, bytes: usize) -> Self {
        self.publish_batch = (count.max(1), bytes.max(1));
        self
    }

    /// How many publishes a process sends to a partition between two trims (default 64; a
    /// trim also runs when a second passed since the last one). Trimming costs Redis several
    /// commands, so it is not done per publish; the history then exceeds
    /// [`with_history_count`](Self::with_history_count) by at most this many entries per
    /// publishing process (on top of `MAXLEN ~`'s rounding to whole stream nodes). 1 trims
    /// on every call.
    #[must_use]
    pub fn with_trim_every(mut self, publishes: usize) -> Self {
        self.trim_every = publishes.max(1);
        self
    }

    /// How many script calls one partition's publish lane keeps in flight at once (default 4;
    /// at least 1). With one, publishes that arrive while a call is in flight wait for its
    /// round trip before theirs starts; with a few, they go at once, pipelined on the same
    /// connection, and still share calls under load. More costs Redis more script calls per
    /// publish (smaller batches) for less waiting; 4 keeps a lane's queue moving on a
    /// loopback or LAN round trip without splitting batches of a busy partition much.
    #[must_use]
    pub fn with_publish_in_flight(mut self, calls: usize) -> Self {
        self.publish_in_flight = calls.max(1);
        self
    }

    /// The number of partitions.
    pub fn partitions(&self) -> u16 {
        self.partitions
    }
}
