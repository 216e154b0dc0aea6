//! Callbacks: a client registers a target (a webhook URL) for topics, and the hub delivers
//! every event published on them — signed, retried on a schedule, from a durable queue.
//!
//! ```text
//!  POST /.well-known/push/callbacks {url, topics, id} ─► routes ─► Registry (callbacks.redb)
//!  publish ─► broker (history, durable) ─► fan-out: one subscription on every topic
//!        matches each event against the active registrations ─► Pending per target kind
//!        ─► the kind's engine: push-webhook's Engine (webhooks.redb: fast attempts from
//!           memory, then the durable queue) ─► POST to the receiver, signed
//!  engine observer ─► metrics; 410 / schedule spent ─► disabled, an event on
//!        /.well-known/mercure/callbacks/{hub id} (private)
//! ```
//!
//! - [`Registry`]: the registrations, durable, with the fan-out's cursor.
//! - [`Registration`]: the owner's access (its token's subscribe grant: a registration never
//!   receives what its token could not subscribe to), its selector, its [`Target`].
//! - `fanout`: the one broker subscription; it knows no target kind.
//! - `routes`: the HTTP API.
//!
//! Files: `callbacks.redb` (registrations, fan-out cursor) and push-webhook's `webhooks.redb`
//! (the queue) under `--data-dir`; both in memory with `--in-memory`. With `--redis` (single
//! node) all three are in Redis, shared by every hub on it: the registry (`shared`), the
//! fan-out's cursor under a lease that one hub holds at a time (`fanout`), and the queue
//! (push-webhook's `RedisQueue`).

mod fanout;
mod late;
mod metrics;
mod registration;
mod registry;
pub(crate) mod routes;
mod shared;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use push_core::{Audience, Broker, Event, Topic};
use push_webhook::sender::{
    Deliver, Engine, Kind, Lanes, Observer, Queue, QueueError, RedisLimits, RedisLink, RedisQueue,
    Sender, Signers, Store, Webhooks,
};
use push_webhook::{AddressPolicy, Next, Policy};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use metrics::CallbackMetrics;
pub use registration::{Disabled, Previous, Registration, Target, WebPushTarget, Webhook, covered};
pub use registry::{REGISTRY_FILE, Registered, Registry, RegistryError};
pub use routes::{CALLBACKS_PATH, answer, is_callbacks_path};

use crate::args::Args;
use crate::auth::Authorizer;
pub(crate) use registration::{unix_millis, unix_secs};

/// The prefix of the topic a disabled registration's event is published on (private; the
/// prefix is Mercure's reserved namespace, so no publisher can forge it).
pub const DISABLED_TOPIC: &str = "/.well-known/mercure/callbacks/";

/// How many disable notices may wait for the task that acts on them; beyond, a notice is
/// dropped and the next failed delivery of that registration sends it again.
const DISABLE_BACKLOG: usize = 1024;

/// Why the callbacks could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbacksError {
    /// The registry.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The delivery queue.
    #[error("the callbacks' delivery queue")]
    Queue(#[from] QueueError),
    /// Web Push's VAPID key.
    #[error(transparent)]
    WebPush(#[from] crate::webpush::WebPushError),
    /// `--redis-ca` could not be read.
    #[error("--redis-ca {}", path.display())]
    RedisCa {
        /// The file named.
        path: std::path::PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
}

/// The broker's head: where a new registration starts.
pub type Head = Arc<dyn Fn() -> push_core::Cursor + Send + Sync>;

/// What the callbacks are configured with (from [`crate::args::CallbacksArgs`]).
#[derive(Debug, Clone)]
pub struct Config {
    /// The addresses callbacks may go to.
    pub addresses: AddressPolicy,
    /// The most deliveries of one registration in flight.
    pub max_in_flight: u32,
    /// How long a rotated-out secret keeps signing.
    pub rotation: Duration,
}

/// The callbacks: registry, engine, metrics (see the module docs). Shared as `Arc`.
pub struct Callbacks {
    pub(crate) inner: Arc<Inner>,
    disabled: std::sync::Mutex<Option<mpsc::Receiver<(String, Next)>>>,
}

pub(crate) struct Inner {
    pub(crate) registry: Arc<Registry>,
    pub(crate) engine: Engine,
    pub(crate) metrics: Arc<CallbackMetrics>,
    pub(crate) authorizer: Arc<Authorizer>,
    pub(crate) config: Config,
    /// The broker's head, for a new registration's start.
    pub(crate) head: Head,
    /// Web Push (the VAPID key, the endpoint policy).
    pub(crate) web_push: Option<Arc<crate::webpush::WebPush>>,
    /// This hub's token for the fan-out's lease under `--redis` (128 random bits).
    pub(crate) lease_token: String,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("registry", &self.inner.registry)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Callbacks {
    /// Opens the registry and the queue `args` name (under `--data-dir`, or in memory), and
    /// builds the engine. Nothing runs until [`start`](Self::start).
    ///
    /// # Errors
    /// [`CallbacksError`] when a file cannot be opened.
    pub fn open(
        args: &Args,
        authorizer: Arc<Authorizer>,
        head: Head,
    ) -> Result<Self, CallbacksError> {
        let flags = &args.callbacks;
        let (registry, queue): (_, Box<dyn Store>) = match &args.redis {
            // Shared by every hub on this Redis or Redis Cluster.
            Some(_) => (
                Registry::open_redis(redis_link(args)?, flags.callbacks_max)?,
                Box::new(RedisQueue::on(
                    redis_link(args)?,
                    push_webhook::sender::DEFAULT_PREFIX,
                    RedisLimits::default(),
                )?),
            ),
            _ if args.in_memory => (
                Registry::open(None, flags.callbacks_max)?,
                Box::new(Queue::in_memory()?),
            ),
            _ => (
                Registry::open(Some(&args.data_dir), flags.callbacks_max)?,
                Box::new(Queue::open(&args.data_dir)?),
            ),
        };
        let registry = Arc::new(registry);
        let addresses = AddressPolicy {
            allow_private: flags.callbacks_allow_private,
            allow_http: flags.callbacks_allow_http || flags.callbacks_allow_private,
        };
        let policy = Policy {
            schedule: flags.callbacks_schedule.clone(),
            fast_attempts: flags.callbacks_fast_attempts,
            timeout: flags.callbacks_timeout,
            retry_after_max: flags.callbacks_retry_after_max,
            ..Policy::default()
        };
        let metrics = Arc::new(CallbackMetrics::new());
        let (notices, disabled) = mpsc::channel(DISABLE_BACKLOG);
        let signers: Signers = {
            let registry = Arc::clone(&registry);
            Arc::new(move |id: &str| {
                let registration = registry.get(id)?;
                if registration.disabled.is_some() {
                    return None;
                }
                match &registration.target {
                    Target::Webhook(webhook) => Some(webhook.signer(SystemTime::now())),
                    Target::WebPush(_) => None,
                }
            })
        };
        let observer: Observer = {
            let registry = Arc::clone(&registry);
            let metrics = Arc::clone(&metrics);
            Arc::new(move |delivery, next| {
                // A registration that is gone or disabled was not attempted: no count.
                if registry
                    .get(&delivery.registration)
                    .is_none_or(|r| r.disabled.is_some())
                {
                    return;
                }
                metrics.attempted.inc();
                match next {
                    Next::Delivered => {
                        metrics.succeeded.inc();
                    }
                    Next::Disable | Next::Exhausted | Next::Forbidden => {
                        metrics.failed.inc();
                        // The registration is disabled by the task `start` runs.
                        let _ = notices.try_send((delivery.registration.clone(), next));
                    }
                    // A retry, or a delivery dropped for good (the registration stays).
                    _ => {
                        metrics.failed.inc();
                    }
                }
            })
        };
        let sender = Sender::new(addresses, policy.timeout);
        let webhooks: Arc<dyn Deliver> = Arc::new(Webhooks::new(sender, signers));
        // Every target kind runs on this one engine (one queue, schedule and run loop).
        let lanes: Lanes = {
            let registry = Arc::clone(&registry);
            Arc::new(move |id: &str| registry.get(id).map_or(1, |r| r.in_flight))
        };
        // Every target kind runs on this one engine (one queue, schedule and run loop), each
        // registration in its lane (`in_flight`, default 1: in cursor order).
        let web_push = Arc::new(crate::webpush::WebPush::open(args, Arc::clone(&registry))?);
        let kinds = [(Kind::WEBHOOK, webhooks), (Kind::WEB_PUSH, web_push.kind())];
        let engine = Engine::with_kinds(queue, policy, kinds, Some(observer)).with_lanes(lanes);
        Ok(Self {
            inner: Arc::new(Inner {
                registry,
                engine,
                metrics,
                authorizer,
                config: Config {
                    addresses,
                    max_in_flight: flags.callbacks_max_in_flight.max(1),
                    rotation: flags.callbacks_rotation,
                },
                head,
                web_push: Some(web_push),
                lease_token: fanout::token(),
            }),
            disabled: std::sync::Mutex::new(Some(disabled)),
        })
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.inner.registry
    }

    /// The delivery engine (every target kind).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Web Push (its VAPID key and endpoint policy), when it is on.
    pub fn web_push(&self) -> Option<&Arc<crate::webpush::WebPush>> {
        self.inner.web_push.as_ref()
    }

    /// The metrics' text (for `/metrics`, without `# EOF`).
    pub fn metrics_text(&self) -> String {
        let queue = self.inner.engine.queue();
        let depth = queue.len().unwrap_or(0);
        let oldest = queue.oldest().ok().flatten();
        self.inner
            .metrics
            .encode(depth, oldest, self.inner.registry.len())
    }

    /// Gives the fan-out's lease up (under `--redis`, when this hub holds it), so another hub
    /// fans out at its next try (within 2 s) rather than when the lease runs out (10 s): the
    /// last step of a graceful shutdown, after the tasks [`start`](Self::start) returned
    /// were aborted. Waits at most [`RESIGN_WAIT`] (a Redis that does not answer must not hold
    /// the exit up); a failure leaves the lease to run out.
    pub async fn resign(&self) {
        if tokio::time::timeout(RESIGN_WAIT, fanout::resign(&self.inner))
            .await
            .is_err()
        {
            tracing::warn!("callbacks: Redis did not take the fan-out's lease back in time");
        }
    }

    /// Starts the fan-out on `broker`, the engine's queue loop and the task that disables
    /// registrations; the tasks to abort at shutdown. Call once.
    pub fn start<B: Broker + Clone>(&self, broker: B) -> Vec<JoinHandle<()>> {
        let mut tasks = vec![tokio::spawn(fanout::run(
            broker.clone(),
            Arc::clone(&self.inner),
        ))];
        let engine = self.inner.engine.clone();
        tasks.push(tokio::spawn(async move { engine.run().await }));
        if self.inner.registry.is_shared() {
            tasks.push(tokio::spawn(refresh(Arc::clone(&self.inner.registry))));
        }
        let receiver = self
            .disabled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(receiver) = receiver {
            tasks.push(tokio::spawn(disable_on_notice(
                broker,
                Arc::clone(&self.inner),
                receiver,
            )));
        }
        tasks
    }
}

/// The Redis link `--redis` (with `--redis-cluster`, the comma-separated nodes of a Cluster)
/// and `--redis-ca` describe; nothing connects yet.
fn redis_link(args: &Args) -> Result<RedisLink, CallbacksError> {
    let url = args.redis.as_deref().unwrap_or_default();
    let nodes: Vec<&str> = if args.redis_cluster {
        url.split(',').map(str::trim).collect()
    } else {
        vec![url]
    };
    let ca = match &args.redis_ca {
        Some(path) => Some(
            std::fs::read(path).map_err(|source| CallbacksError::RedisCa {
                path: path.clone(),
                source,
            })?,
        ),
        None => None,
    };
    RedisLink::build(&nodes, args.redis_cluster, ca.as_deref())
        .map_err(|e| CallbacksError::Registry(RegistryError::Redis(e)))
}

/// How long [`Callbacks::resign`] waits for Redis at shutdown.
pub const RESIGN_WAIT: Duration = Duration::from_secs(2);

/// How often a hub reads the other hubs' registry changes under `--redis` (a disable, a
/// deletion or a rotation made on another hub holds here after at most this; a registration
/// this hub does not know yet is read at once when asked for, see [`Registry::get`]).
const REFRESH: Duration = Duration::from_secs(1);

/// Keeps this hub's copy of the shared registry current.
async fn refresh(registry: Arc<Registry>) {
    let mut every = tokio::time::interval(REFRESH);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let registry = Arc::clone(&registry);
        if let Ok(Err(error)) = tokio::task::spawn_blocking(move || registry.refresh()).await {
            tracing::warn!(%error, "callbacks: cannot read the shared registry");
        }
    }
}

/// Disables the registrations the engine reports (410, the schedule spent, a refused address)
/// and publishes a private event saying so on `DISABLED_TOPIC` + the hub id.
async fn disable_on_notice<B: Broker>(
    broker: B,
    inner: Arc<Inner>,
    mut notices: mpsc::Receiver<(String, Next)>,
) {
    while let Some((id, next)) = notices.recv().await {
        // A push service said the browser's subscription is gone: it is removed, not kept
        // disabled (the browser makes a new subscription, with a new endpoint).
        if next == Next::Disable
            && inner
                .registry
                .get(&id)
                .is_some_and(|r| matches!(r.target, Target::WebPush(_)))
        {
            let registry = Arc::clone(&inner.registry);
            let removing = id.clone();
            if matches!(
                tokio::task::spawn_blocking(move || registry.remove(&removing)).await,
                Ok(Ok(true))
            ) {
                tracing::info!(registration = %id, "Web Push: the subscription is gone; removed");
            }
            continue;
        }
        let reason = match next {
            Next::Disable => "gone",
            // The target's name resolved to an address the policy refuses.
            Next::Forbidden => "address",
            _ => "exhausted",
        };
        let registry = Arc::clone(&inner.registry);
        let at = unix_millis(SystemTime::now());
        let disabled = tokio::task::spawn_blocking(move || registry.disable(&id, reason, at)).await;
        // Disabled already, removed, or the registry failed (the next failure retries).
        let Ok(Ok(Some(registration))) = disabled else {
            continue;
        };
        inner.metrics.disabled.inc();
        tracing::warn!(
            registration = %registration.id,
            reason,
            "callbacks: registration disabled"
        );
        let Ok(topic) = Topic::new(&format!("{DISABLED_TOPIC}{}", registration.id)) else {
            continue;
        };
        let data = serde_json::json!({
            "type": push_webhook::DISABLED_TYPE,
            "registration": registration.answer(false),
            "reason": reason,
        });
        let event = Event::new(data.to_string())
            .with_event(push_webhook::DISABLED_TYPE)
            .with_audience(Audience::Private);
        if let Err(error) = broker.publish(&[topic], event).await {
            tracing::warn!(%error, "callbacks: cannot publish the disabled event");
        }
    }
}

#[cfg(test)]
mod shared_tests;
#[cfg(test)]
mod tests;
