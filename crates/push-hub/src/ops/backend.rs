//! `Backend`: the broker under the hub. Either the embedded [`MemoryBroker`] (the history in
//! this process, journalled to the store under `--data-dir` or in memory only), or push-redis's
//! [`RedisBroker`] (`--redis`: the history in Redis, shared by every hub connected to it, so a
//! client may hold its stream on one hub while the event is published on another).
//!
//! Both implement push-core's [`Broker`], and so does this enum: every endpoint (Mercure, `/ws`,
//! `/poll`, `/stomp`) is written against the trait and does not know which one it runs on.
//! The hub asks the backend only what the trait cannot say: whether its store is reachable
//! ([`Backend::healthy`], for `/healthz`, `/metrics` and the refusal of new streams), its
//! sweeper and its close.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use push_broker::{MemoryBroker, MemorySubscription};
use push_core::{Access, Broker, Cursor, Delivery, Error, Event, Selector, Subscription, Topic};
use push_redis::{RedisBroker, RedisSubscription};

/// The broker the hub runs on (cheap to clone: one pointer).
#[derive(Clone, Debug)]
pub enum Backend {
    /// The embedded broker.
    Memory(MemoryBroker),
    /// Redis, shared with the other hubs on it.
    Redis(Arc<RedisBroker>),
}

/// A subscription of a [`Backend`].
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "the embedded broker's subscription is the common case: boxing it would add an \
              allocation to every held connection to save bytes only on Redis hubs"
)]
pub enum BackendSubscription {
    /// On the embedded broker.
    Memory(MemorySubscription),
    /// On Redis.
    Redis(RedisSubscription),
}

impl Backend {
    /// Connects to the Redis `config` names (at most about `config`'s connection timeout, two
    /// seconds), reads its partitions' state and starts the reader.
    ///
    /// # Errors
    /// push-redis's [`ConnectError`](push_redis::ConnectError): a malformed URL, or a Redis
    /// that does not answer or refuses the credentials.
    pub async fn redis(config: push_redis::Config) -> Result<Self, push_redis::ConnectError> {
        Ok(Self::Redis(Arc::new(RedisBroker::connect(config).await?)))
    }

    /// Whether the store answers: always for the embedded broker; for Redis, whether the last
    /// round trip succeeded (the reader makes one at least every `XREAD` block, one second).
    pub fn healthy(&self) -> bool {
        match self {
            Self::Memory(_) => true,
            Self::Redis(redis) => redis.healthy(),
        }
    }

    /// The backend's name, for logs and the health answer: `memory` or `redis`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Redis(_) => "redis",
        }
    }

    /// The embedded broker, when the hub runs on it.
    pub fn memory(&self) -> Option<&MemoryBroker> {
        match self {
            Self::Memory(memory) => Some(memory),
            Self::Redis(_) => None,
        }
    }

    /// The Redis broker, when the hub runs on it.
    pub fn as_redis(&self) -> Option<&RedisBroker> {
        match self {
            Self::Memory(_) => None,
            Self::Redis(redis) => Some(redis),
        }
    }

    /// Starts the embedded broker's expiry sweeper (Redis trims its streams itself).
    pub fn spawn_sweeper(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.memory().map(MemoryBroker::spawn_sweeper)
    }

    /// Closes the broker: open subscriptions end, publishes fail.
    pub fn close(&self) {
        match self {
            Self::Memory(memory) => memory.close(),
            Self::Redis(redis) => redis.close(),
        }
    }

    /// How long a client refused while the store is unreachable should wait before retrying:
    /// about the reader's first reconnection attempts.
    pub fn retry_hint(&self) -> Duration {
        Duration::from_secs(2)
    }
}

impl Broker for Backend {
    type Subscription = BackendSubscription;

    async fn publish(&self, topics: &[Topic], event: Event) -> Result<Cursor, Error> {
        match self {
            Self::Memory(memory) => memory.publish(topics, event).await,
            Self::Redis(redis) => redis.publish(topics, event).await,
        }
    }

    fn subscribe(
        &self,
        selector: &Selector,
        from: Option<Cursor>,
        access: &Access,
    ) -> Result<BackendSubscription, Error> {
        Ok(match self {
            Self::Memory(memory) => {
                BackendSubscription::Memory(memory.subscribe(selector, from, access)?)
            }
            Self::Redis(redis) => {
                BackendSubscription::Redis(redis.subscribe(selector, from, access)?)
            }
        })
    }

    fn head(&self) -> Cursor {
        match self {
            Self::Memory(memory) => memory.head(),
            Self::Redis(redis) => redis.head(),
        }
    }

    fn resolve(&self, id: &str) -> Option<Cursor> {
        match self {
            Self::Memory(memory) => memory.resolve(id),
            Self::Redis(redis) => redis.resolve(id),
        }
    }
}

impl Stream for BackendSubscription {
    type Item = Delivery;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        match self.get_mut() {
            Self::Memory(memory) => Pin::new(memory).poll_next(cx),
            Self::Redis(redis) => Pin::new(redis).poll_next(cx),
        }
    }
}

impl Subscription for BackendSubscription {
    fn cursor(&self) -> Cursor {
        match self {
            Self::Memory(memory) => memory.cursor(),
            Self::Redis(redis) => redis.cursor(),
        }
    }

    fn lag(&self) -> Option<u64> {
        match self {
            Self::Memory(memory) => Subscription::lag(memory),
            Self::Redis(redis) => redis.lag(),
        }
    }
}

/// `redis://user:password@host` with the password replaced by `***`, for messages and logs
/// (each of a comma-separated list of URLs, as `--redis-cluster` takes).
pub fn redact(url: &str) -> String {
    url.split(',')
        .map(|one| redact_one(one.trim()))
        .collect::<Vec<_>>()
        .join(",")
}

fn redact_one(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(an unparsable URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            redact("redis://user:s3cret@10.0.0.1:6379/2"),
            "redis://user:***@10.0.0.1:6379/2"
        );
        assert_eq!(redact("rediss://h:6380"), "rediss://h:6380");
        assert!(!redact("redis://:s3cret@h").contains("s3cret"));
        assert_eq!(redact("not a url"), "(an unparsable URL)");
        assert_eq!(
            redact("redis://:a@h1:7000, redis://:b@h2:7000"),
            "redis://:***@h1:7000,redis://:***@h2:7000"
        );
    }

    #[tokio::test]
    async fn the_embedded_backend_is_a_broker() {
        let backend = Backend::Memory(MemoryBroker::default());
        assert!(backend.healthy());
        assert_eq!(backend.name(), "memory");
        let topic = Topic::new("t").unwrap();
        let mut sub = backend
            .subscribe(&Selector::one(topic.clone()), None, &Access::public())
            .unwrap();
        let cursor = backend
            .publish(std::slice::from_ref(&topic), Event::new("x").with_id("i"))
            .await
            .unwrap();
        assert_eq!(backend.head(), cursor);
        assert_eq!(backend.resolve("i"), Some(cursor));
        let Some(Delivery::Event(got)) = futures_util::StreamExt::next(&mut sub).await else {
            panic!("no event");
        };
        assert_eq!(got.cursor(), cursor);
        assert_eq!(sub.cursor(), cursor);
    }
}
