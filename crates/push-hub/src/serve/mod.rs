//! The server: the broker, the router and the listener, built from [`Args`], on one port.
//!
//! [`Hub::new`] builds everything that can fail before a socket is opened (keys, TLS files,
//! the store); [`Hub::bind`] listens; [`Bound::run`] accepts until the shutdown signal and then
//! shuts down gracefully (see [`crate::ops::shutdown`]).

mod banner;
mod body;
mod connection;
mod health;
mod router;
mod sniff;
mod tls;
mod tracked;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::server::graceful::GracefulShutdown;
use push_broker::{MemoryBroker, Overflow};
use push_net::{Acceptor, ServerConfig};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

pub use banner::{Banner, Development};
pub(crate) use body::boxed as boxed_body;
pub use body::{BoxError, HubBody};
pub use router::{HubSubscription, MercureHandler, Router, RouterFuture, SubscribeFn};
pub use sniff::{Sniffed, decide, decide_subscribe, is_subscribe, sniff};
pub use tls::{ALPN, TlsError};
pub use tracked::{Connection, Connections, Tracked};

use crate::args::{Args, OverflowArg};
use crate::auth::{Algorithm, AuthConfig, Authorizer, KeySpec};
use crate::mercure::{Mercure, MercureConfig};
use crate::ops::backend::{self, Backend};
use crate::ops::forwarded::TrustedProxies;
use crate::ops::metered::Metered;
use crate::ops::metrics::{Metrics, Refused};
use crate::ops::quota::{Limits, Quotas};
use crate::ops::shutdown::Shutdown;
use crate::token::{self, Claims};
use router::Shared;

/// The hub's broker: the embedded broker or Redis ([`Backend`]), counted in the metrics.
pub type HubBroker = Metered<Backend>;

pub use crate::auth::HubHooks;

/// How many refused connections are answered at once; beyond, they are closed at once, so a
/// flood over the limit costs no more than this many small tasks.
const MAX_REFUSING: usize = 1024;

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// TLS files.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A key file could not be read.
    #[error("reading {what}")]
    Key {
        /// Which flag.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `--jwt-alg` names no algorithm.
    #[error("--jwt-alg {0}: not an algorithm (HS256, RS256, ES256, EdDSA, …)")]
    Algorithm(String),
    /// A key does not suit its algorithm.
    #[error("the JWT keys")]
    Auth(#[from] crate::auth::ConfigError),
    /// The development token could not be signed.
    #[error("signing the development token")]
    Mint(#[from] token::MintError),
    /// The history store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// `--redis`: Redis could not be reached (or the URL is not one).
    #[error("connecting to Redis at {url}")]
    Redis {
        /// The URL, its password hidden.
        url: String,
        /// push-redis' error.
        #[source]
        source: push_redis::ConnectError,
    },
    /// [`Hub::new`] was given `--redis`, which needs the asynchronous [`Hub::open`].
    #[error("--redis needs Hub::open (connecting to Redis is asynchronous)")]
    NeedsOpen,
    /// The callbacks' registry or queue could not be opened.
    #[error(transparent)]
    Callbacks(#[from] crate::callbacks::CallbacksError),
    /// The address could not be listened on.
    #[error("listening on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The socket's error.
        #[source]
        source: std::io::Error,
    },
}

/// What every connection task shares.
pub(crate) struct Context {
    pub(crate) shared: Arc<Shared>,
    pub(crate) server: ServerConfig,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) shutdown: Shutdown,
    pub(crate) lean: crate::lean::Config,
}

/// The hub, built and not yet listening.
pub struct Hub {
    args: Args,
    broker: HubBroker,
    metrics: Arc<Metrics>,
    context: Arc<Context>,
    banner: Banner,
    callbacks: Arc<crate::callbacks::Callbacks>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("addr", &self.args.addr)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Builds the hub `args` describe, on the embedded broker.
    ///
    /// # Errors
    /// [`StartError`] for files that cannot be read or used; [`StartError::NeedsOpen`] with
    /// `--redis` (use [`Hub::open`]).
    pub fn new(args: Args) -> Result<Self, StartError> {
        if args.redis.is_some() {
            return Err(StartError::NeedsOpen);
        }
        // The history: in the store under --data-dir (a restart resumes every client), or in
        // memory only with --in-memory (a restart is an announced gap).
        let memory = if args.in_memory {
            MemoryBroker::new(broker_config(&args))
        } else {
            crate::store::open(&args.data_dir, broker_config(&args))?
        };
        Self::with_backend(args, Backend::Memory(memory))
    }

    /// Builds the hub `args` describe: on Redis with `--redis` (connected here, so an
    /// unreachable Redis or a wrong password is a start-up error, not a hub that answers 503),
    /// else as [`Hub::new`].
    ///
    /// # Errors
    /// As [`Hub::new`], and [`StartError::Redis`].
    pub async fn open(args: Args) -> Result<Self, StartError> {
        let Some(url) = args.redis.clone() else {
            return Self::new(args);
        };
        let config = if args.redis_cluster {
            push_redis::Config::cluster(url.split(',').map(str::trim))
        } else {
            push_redis::Config::new(url.as_str())
        };
        let mut config = config
            .with_history_age(args.history_age)
            .with_history_count(args.redis_history_count)
            .with_max_pattern_subscriptions(args.max_pattern_subscriptions)
            .with_max_topics(args.max_topics);
        if args.redis_wait > 0 {
            config = config.with_durable(args.redis_wait, args.redis_wait_timeout);
        }
        if let Some(path) = &args.redis_ca {
            let pem = std::fs::read(path).map_err(|source| StartError::Key {
                what: "--redis-ca",
                source,
            })?;
            config = config.with_root_certificate(pem);
        }
        let backend = Backend::redis(config)
            .await
            .map_err(|source| StartError::Redis {
                url: backend::redact(&url),
                source,
            })?;
        Self::with_backend(args, backend)
    }

    /// Builds the hub `args` describe on `backend` (its history flags are the backend's own).
    ///
    /// # Errors
    /// As [`Hub::new`], except the store's.
    pub fn with_backend(args: Args, backend: Backend) -> Result<Self, StartError> {
        let metrics = Metrics::new();
        let broker = Metered::new(backend, Arc::clone(&metrics));
        let server = ServerConfig::default()
            .with_handshake_timeout(args.request_timeout)
            .with_body_timeout(args.body_timeout)
            .with_write_stall_timeout(args.write_stall_timeout);
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            _ => None,
        };
        let shutdown = Shutdown::new(args.shutdown_retry);
        let (auth, development) = auth_config(&args)?;
        let authorizer = Arc::new(Authorizer::new(auth)?);
        let head_of = memory_head(&broker);
        let callbacks = Arc::new(crate::callbacks::Callbacks::open(
            &args,
            Arc::clone(&authorizer),
            head_of,
        )?);
        let ws_config = push_ws::server::Config::default()
            .with_handshake_timeout(args.request_timeout)
            .with_write_stall_timeout(args.write_stall_timeout);
        let stomp_ws = ws_config
            .clone()
            .with_protocols(push_stomp::Version::ALL.map(push_stomp::Version::subprotocol));
        let beat = args.stomp_heart_beat;
        let stomp_config = push_stomp::server::Config::default()
            .with_websocket(stomp_ws)
            .with_stomp(push_stomp::Config::default().with_heart_beat(beat, beat));
        let hooks =
            || HubHooks::new(Arc::clone(&authorizer)).with_public_url(args.public_url.clone());
        let hub_hooks = hooks();
        let stomp = push_stomp::server::Endpoint::new(broker.clone(), stomp_config)
            .with_hooks(hub_hooks.clone())
            .with_publish(hub_hooks);
        let ws = push_ws::server::Endpoint::new(broker.clone(), ws_config).with_hooks(hooks());
        let poll = push_longpoll::server::Endpoint::new(broker.clone(), Default::default())
            .with_hooks(hooks());
        let keep_alive = (!args.keep_alive.is_zero()).then_some(args.keep_alive);
        let mut mercure_config = MercureConfig::default()
            .with_max_body(args.max_publish_bytes)
            .with_cors_origins(args.cors_origin.iter().cloned())
            .with_subscriptions(args.subscriptions)
            .with_heartbeat(keep_alive)
            .with_coalesce(Some(args.sse_coalesce));
        if let Some(url) = &args.public_url {
            mercure_config = mercure_config.with_public_url(url.clone());
        }
        let mercure = Mercure::new(broker.clone(), Arc::clone(&authorizer), mercure_config)
            .with_shutdown(shutdown.clone());
        let shared = Arc::new(Shared {
            ws,
            stomp,
            poll,
            metrics: Arc::clone(&metrics),
            backend: broker.inner().clone(),
            quotas: Quotas::new(Limits {
                streams_per_address: args.max_streams_per_client,
                streams_per_token: args.max_streams_per_token,
                publish_rate: args.publish_rate,
            }),
            proxies: TrustedProxies::new(args.trusted_proxy.clone()),
            shutdown: shutdown.clone(),
            cookie_name: args.cookie_name.clone(),
            mercure: Some(mercure_handler(mercure.clone())),
            subscribe: Some(lean_subscribe(mercure)),
            callbacks: Some(Arc::clone(&callbacks)),
        });
        let vapid_development = callbacks
            .web_push()
            .and_then(|w| w.development().map(str::to_owned));
        let banner =
            Banner::new(tls.is_some(), development).with_vapid_development(vapid_development);
        Ok(Self {
            context: Arc::new(Context {
                shared,
                lean: crate::lean::Config::new(server.clone()),
                server,
                tls,
                shutdown,
            }),
            args,
            broker,
            metrics,
            banner,
            callbacks,
        })
    }

    /// The same hub with `handler` answering `/.well-known/mercure…` (the router keeps the
    /// quotas and the stream count around it). The handler's event streams end at the hub's
    /// [`shutdown`](Self::shutdown) as the handler makes them: a [`Mercure`] given it with
    /// [`Mercure::with_shutdown`] ends each with a jittered `retry:` hint.
    #[must_use]
    pub fn with_mercure(mut self, handler: MercureHandler) -> Self {
        // Nothing shares the context before `bind`: `Hub` hands out no clone of it.
        let context = Arc::get_mut(&mut self.context).expect("the context is not shared yet");
        let shared = Arc::get_mut(&mut context.shared).expect("the router is not shared yet");
        shared.mercure = Some(handler);
        self
    }

    /// The same hub with `subscribe` holding plain HTTP/1.1 Mercure subscribers on the lean
    /// path (`crate::lean`) instead of hyper.
    #[must_use]
    pub fn with_lean_subscribe(mut self, subscribe: SubscribeFn) -> Self {
        // As in `with_mercure`: nothing shares the context before `bind`.
        let context = Arc::get_mut(&mut self.context).expect("the context is not shared yet");
        let shared = Arc::get_mut(&mut context.shared).expect("the router is not shared yet");
        shared.subscribe = Some(subscribe);
        self
    }

    /// The broker (to publish from the process itself, or in tests).
    pub fn broker(&self) -> &HubBroker {
        &self.broker
    }

    /// The callbacks (registry, delivery engine).
    pub fn callbacks(&self) -> &Arc<crate::callbacks::Callbacks> {
        &self.callbacks
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The shutdown signal: [`Shutdown::trigger`] starts a graceful shutdown.
    pub fn shutdown(&self) -> &Shutdown {
        &self.context.shutdown
    }

    /// Listens on `--addr`.
    ///
    /// # Errors
    /// [`StartError::Bind`].
    pub fn bind(self) -> Result<Bound, StartError> {
        let addr = self.args.addr;
        let acceptor = Acceptor::bind(addr, &self.context.server)
            .map_err(|source| StartError::Bind { addr, source })?;
        let local = acceptor
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        Ok(Bound {
            hub: self,
            acceptor,
            local,
        })
    }
}

/// The hub, listening.
#[derive(Debug)]
pub struct Bound {
    hub: Hub,
    acceptor: Acceptor,
    local: SocketAddr,
}

impl Bound {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// What to print at start-up (where it listens; the development key's banner).
    pub fn banner(&self) -> String {
        self.hub.banner.render(self.local)
    }

    /// The hub (its broker, metrics and shutdown signal).
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Accepts and serves until `signal` completes (or the hub's shutdown is triggered), then
    /// shuts down gracefully: no more accepts, event streams and held polls ended with a
    /// jittered retry hint, WebSocket connections closed, and a return once every connection
    /// has ended or `--shutdown-timeout` has passed.
    ///
    /// # Errors
    /// Only when the listener itself fails (push-net's accept loop survives everything else).
    pub async fn run(self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        let Self {
            hub, mut acceptor, ..
        } = self;
        let context = Arc::clone(&hub.context);
        let connections = Connections::new(hub.args.max_connections, Arc::clone(&hub.metrics));
        let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
        let graceful = GracefulShutdown::new();
        let sweeper = hub.broker.inner().spawn_sweeper();
        if let Some(redis) = &hub.args.redis {
            tracing::info!(url = %backend::redact(redis), "on Redis");
        }
        let callbacks = hub.callbacks.start(hub.broker.inner().clone());
        let mut signal = std::pin::pin!(signal);
        let stopped = context.shutdown.wait();
        let mut stopped = std::pin::pin!(stopped);
        let accepting = loop {
            let (stream, peer) = tokio::select! {
                accepted = acceptor.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => break Err(error),
                },
                () = &mut signal => break Ok(()),
                () = &mut stopped => break Ok(()),
            };
            let Some(connection) = connections.admit(peer) else {
                hub.metrics.refused(Refused::Connections);
                if let Ok(permit) = Arc::clone(&refusing).try_acquire_owned() {
                    tokio::spawn(async move {
                        connection::refuse(stream, quota_retry()).await;
                        drop(permit);
                    });
                }
                continue;
            };
            let watcher = graceful.watcher();
            tokio::spawn(connection::serve(
                stream,
                connection,
                Arc::clone(&context),
                watcher,
            ));
        };
        drop(acceptor);
        tracing::info!(live = connections.live(), "shutting down");
        context.shutdown.trigger();
        let deadline = Instant::now() + hub.args.shutdown_timeout;
        // HTTP/1.1 connections finish their requests (event streams end with their hint);
        // then WebSockets and anything left close with the broker.
        let _ = tokio::time::timeout_at(deadline.into(), graceful.shutdown()).await;
        hub.broker.inner().close();
        while connections.live() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        for task in callbacks {
            task.abort();
        }
        hub.callbacks.resign().await;
        tracing::info!(left = connections.live(), "stopped");
        accepting
    }
}

/// The `Retry-After` of a connection over the limit.
fn quota_retry() -> Duration {
    crate::ops::quota::STREAM_RETRY
}

/// The authorization from the flags: `--publisher-jwt-key` / `--subscriber-jwt-key`, else
/// `--jwt-key`, with `--jwt-alg`; without any key, a random development key (HS256) for both
/// roles and a publisher token signed with it.
fn auth_config(args: &Args) -> Result<(AuthConfig, Option<Development>), StartError> {
    let alg: Algorithm = args
        .jwt_alg
        .parse()
        .map_err(|_| StartError::Algorithm(args.jwt_alg.clone()))?;
    // Each flag's keys, `kid=ID:KEY` naming a key's id.
    let keys = |flags: &[String], what: &'static str| -> Result<Vec<KeySpec>, StartError> {
        flags
            .iter()
            .map(|text| {
                let (kid, text) = match text
                    .strip_prefix("kid=")
                    .and_then(|named| named.split_once(':'))
                {
                    Some((kid, key)) => (Some(kid), key),
                    None => (None, text.as_str()),
                };
                let key = crate::args::key_text(text)
                    .map_err(|source| StartError::Key { what, source })?;
                let spec = KeySpec::new(key.trim_end_matches(['\r', '\n']), alg);
                Ok(match kid {
                    Some(kid) => spec.with_kid(kid),
                    None => spec,
                })
            })
            .collect()
    };
    let either = |own: Vec<KeySpec>, both: &[KeySpec]| {
        if own.is_empty() { both.to_vec() } else { own }
    };
    let both = keys(&args.jwt_key, "--jwt-key")?;
    let publisher = either(keys(&args.publisher_jwt_key, "--publisher-jwt-key")?, &both);
    let subscriber = either(
        keys(&args.subscriber_jwt_key, "--subscriber-jwt-key")?,
        &both,
    );
    let (publisher, subscriber, development) = if publisher.is_empty() && subscriber.is_empty() {
        let secret = banner::random_key();
        let spec = KeySpec::new(secret.clone(), Algorithm::HS256);
        let claims = Claims::new().publish("*").subscribe("*");
        let token = token::mint(&spec, &claims)?;
        let development = Development {
            key: secret,
            token: Some(token),
        };
        (vec![spec.clone()], vec![spec], Some(development))
    } else {
        (publisher, subscriber, None)
    };
    let mut publish_origins = args.publish_origin.clone();
    publish_origins.extend(args.cors_origin.iter().cloned());
    let config = AuthConfig {
        publisher,
        subscriber,
        // Development mode (no key given) lets token-less subscribers in, as `--anonymous`
        // does, so the demo page works with no flag; the banner says so.
        anonymous: args.anonymous || development.is_some(),
        cookie_name: args.cookie_name.clone(),
        publish_origins,
        max_grant_selectors: args.max_grant_selectors,
        ..AuthConfig::default()
    };
    Ok((config, development))
}

/// The Mercure endpoint as the router calls it.
fn mercure_handler(mercure: Mercure<HubBroker>) -> MercureHandler {
    Arc::new(move |request| {
        let mut mercure = mercure.clone();
        Box::pin(async move {
            let Ok(response) = tower_service::Service::call(&mut mercure, request).await;
            response.map(body::boxed)
        })
    })
}

/// Mercure's subscribe as the lean path calls it.
// The refusal is a whole `Response`, as the lean path takes it (a cold path).
#[allow(clippy::result_large_err)]
fn lean_subscribe(mercure: Mercure<HubBroker>) -> SubscribeFn {
    Arc::new(move |parts| {
        mercure
            .subscribe(parts)
            .map_err(|refused| refused.map(body::boxed))
    })
}

/// The broker's head, for the callbacks' new registrations.
fn memory_head(broker: &HubBroker) -> crate::callbacks::Head {
    let memory = broker.inner().clone();
    Arc::new(move || push_core::Broker::head(&memory))
}

/// The broker's limits from the flags.
fn broker_config(args: &Args) -> push_broker::Config {
    push_broker::Config::default()
        .with_history_count(args.history_count)
        .with_history_age(args.history_age)
        .with_history_bytes(args.history_bytes)
        .with_total_history_bytes(args.total_history_bytes)
        .with_max_topics(args.max_topics)
        .with_max_pattern_subscriptions(args.max_pattern_subscriptions)
        .with_queue_count(args.queue_count)
        .with_queue_bytes(args.queue_bytes)
        .with_overflow(match args.overflow {
            OverflowArg::Gap => Overflow::DropBacklog,
            OverflowArg::Close => Overflow::Close,
        })
}
