//! [`RedisBroker`]: connect, publish, subscribe, and the reader task's life.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use push_broker::MemoryBroker;
use push_core::{
    Access, Broker, CloseReason, Cursor, Delivery, Error, Event, MAX_SELECTOR_TOPICS, Selector,
    Topic,
};
use redis::aio::ConnectionManagerConfig;
use redis::cluster::ClusterClient;
use tokio::sync::broadcast;

use crate::batch::Batcher;
use crate::cluster;
use crate::config::Config;
use crate::entry;
use crate::layout::{self, deployment_epoch, partition_of};
use crate::reader::{self, Positions};
use crate::shared::{Live, Shared};
use crate::store::{Conn, Entry, Store};
use crate::subscription::{self, RedisSubscription};

/// Why [`RedisBroker::connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a Redis URL (or names TLS without this build's support).
    #[error("invalid Redis URL")]
    Url(#[source] redis::RedisError),
    /// Redis did not answer, refused the credentials, or answered unlike a Redis 7.
    #[error("cannot reach Redis")]
    Redis(#[source] redis::RedisError),
}

/// A broker on Redis Streams, shared by every process connected to the same Redis (see the
/// crate documentation).
#[derive(Debug)]
pub struct RedisBroker {
    shared: Arc<Shared>,
    reader: tokio::task::JoinHandle<()>,
    batcher: Batcher,
}

impl RedisBroker {
    /// Connects, reads every partition's epoch (creating the ones that do not exist yet) and
    /// starts the reader task on the current tokio runtime.
    ///
    /// # Errors
    /// [`ConnectError`] when the URL is malformed or Redis cannot be reached at start (later
    /// outages are retried with backoff).
    pub async fn connect(config: Config) -> Result<Self, ConnectError> {
        let store = Store::new(config).map_err(ConnectError::Url)?;
        let response = match store.config.durable {
            Some((_, wait)) => wait + Duration::from_secs(2),
            None => Duration::from_secs(2),
        };
        let (conn, waiters) = match &store.config.cluster {
            None => {
                let manager = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(2)))
                    .set_response_timeout(Some(response))
                    .set_number_of_retries(2)
                    .set_max_delay(store.config.backoff.1);
                let conn = store
                    .client
                    .get_connection_manager_with_config(manager)
                    .await
                    .map_err(ConnectError::Redis)?;
                (Conn::Single(conn), None)
            }
            Some(nodes) => {
                let build = |timeout| {
                    let mut builder = ClusterClient::builder(nodes.iter().map(String::as_str))
                        .connection_timeout(Duration::from_secs(2))
                        .response_timeout(timeout);
                    if let Some(pem) = &store.config.root_cert {
                        builder = builder.certs(crate::store::certificates(pem));
                    }
                    builder.build().map_err(ConnectError::Url)
                };
                let client = build(response)?;
                let waiters = build(store.config.block + Duration::from_secs(5))?;
                let conn = client
                    .get_async_connection()
                    .await
                    .map_err(ConnectError::Redis)?;
                (Conn::Cluster(conn), Some(waiters))
            }
        };
        let states = store
            .states(&conn, &[], &[])
            .await
            .map_err(ConnectError::Redis)?;
        let time_ms = store.clock_ms(&conn).await.map_err(ConnectError::Redis)?;
        let epochs: Vec<u64> = states.iter().map(|s| s.epoch).collect();
        let epoch = deployment_epoch(&epochs);
        let start = time_ms.saturating_sub(1);
        let (control, _) = broadcast::channel(crate::shared::CONTROL);
        let live = Live {
            epochs,
            epoch,
            released: layout::watermark(epoch, start),
            head: Cursor::new(epoch, 0),
            control,
        };
        let local = MemoryBroker::new(store.config.fanout());
        // Expires what a subscription left unread; it ends once the fan-out is closed.
        drop(local.spawn_sweeper());
        let batcher = Batcher::start(&store, &conn);
        let shared = Shared::new(store, conn, live, local);
        // After the clock was read: every id committed before the reader's start is in Redis'
        // index now, every later one passes through the reader.
        shared.load_ids().await.map_err(ConnectError::Redis)?;
        let positions = Positions::at(start, &shared.live().epochs);
        let reader = match waiters {
            None => tokio::spawn(reader::run(Arc::clone(&shared), positions)),
            Some(waiters) => tokio::spawn(cluster::run(Arc::clone(&shared), positions, waiters)),
        };
        Ok(Self {
            shared,
            reader,
            batcher,
        })
    }

    /// Whether the last round trip to Redis succeeded (for `/healthz`).
    pub fn healthy(&self) -> bool {
        self.shared.healthy.load(Ordering::Relaxed)
    }

    /// The partition `topic` belongs to (its stream is `PREFIX{pN}:log`).
    pub fn partition(&self, topic: &Topic) -> u16 {
        partition_of(topic, self.shared.store.keys.partitions())
    }

    /// The deployment epoch every cursor carries now.
    pub fn epoch(&self) -> u64 {
        self.shared.live().epoch
    }

    /// Stops the reader; open subscriptions end with [`CloseReason::Shutdown`], publishes fail
    /// with [`Error::BrokerClosed`].
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared
            .announce(&self.shared.live(), Delivery::Closed(CloseReason::Shutdown));
        self.shared.local.close();
        self.reader.abort();
    }

    async fn publish_inner(&self, topics: &[Topic], event: Event) -> Result<Cursor, Error> {
        if self.shared.is_closed() {
            return Err(Error::BrokerClosed);
        }
        let mut distinct: Vec<Topic> = Vec::with_capacity(topics.len());
        for t in topics {
            if !distinct.contains(t) {
                if distinct.len() == MAX_SELECTOR_TOPICS {
                    return Err(Error::SelectorTooLarge);
                }
                distinct.push(t.clone());
            }
        }
        let Some(canonical) = distinct.first() else {
            return Err(Error::SelectorEmpty);
        };
        let store = &self.shared.store;
        let q = partition_of(canonical, store.keys.partitions());
        let entry = Entry {
            fields: entry::fields(&distinct, &event),
            id: event.id,
        };
        let (id, partition_epoch) = self.batcher.publish(q, entry).await?;
        let known = self.shared.live().epochs.get(usize::from(q)).copied();
        if known != Some(partition_epoch) {
            // This partition's history was lost; the others' likely with it (a flush, a
            // restart): read them all, so that subscribers hear of one new epoch, not several.
            match store.states(&self.shared.conn, &[], &[]).await {
                Ok(states) => {
                    let all = states.iter().enumerate().map(|(p, s)| (p as u16, s.epoch));
                    self.shared.set_epochs(all);
                }
                Err(_) => {
                    self.shared.set_epochs([(q, partition_epoch)]);
                }
            }
        }
        let epoch = self.shared.live().epoch;
        id.cursor(epoch, q).ok_or(Error::BrokerUnavailable)
    }
}

impl Drop for RedisBroker {
    fn drop(&mut self) {
        self.close();
    }
}

impl Broker for RedisBroker {
    type Subscription = RedisSubscription;

    fn publish(
        &self,
        topics: &[Topic],
        event: Event,
    ) -> impl Future<Output = Result<Cursor, Error>> + Send {
        self.publish_inner(topics, event)
    }

    fn subscribe(
        &self,
        selector: &Selector,
        from: Option<Cursor>,
        access: &Access,
    ) -> Result<RedisSubscription, Error> {
        if self.shared.is_closed() {
            return Err(Error::BrokerClosed);
        }
        subscription::open(Arc::clone(&self.shared), selector, from, access)
    }

    fn head(&self) -> Cursor {
        self.shared.live().head
    }

    fn resolve(&self, id: &str) -> Option<Cursor> {
        crate::shared::lock(&self.shared.ids).get(id)
    }
}
