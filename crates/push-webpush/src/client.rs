//! Delivery over hyper with bounded work (feature `client`).
//!
//! ```text
//! send(subscription, payload, delivery)
//!   ├─ queue permit (try, never wait) ── none left ──► Error::QueueFull   (back-pressure)
//!   └─ attempt(subscription, payload, delivery)        (the delivery engine calls this directly:
//!        │                                              its slots bound how many run at once)
//!        ├─ EndpointPolicy::check ──► Error::Endpoint
//!        ├─ permit of the push service's origin (wait)  at most `per_service` requests each
//!        ├─ encryption permit (wait), then WebPush::request on the blocking pool
//!        │    (encryption, VAPID) ──► Error::{InvalidKey, TooLarge}   at most `encryptions` at once
//!        ├─ connect: every resolved address checked by the EndpointPolicy
//!        └─ POST within `timeout` ──► Outcome::classify ──► Delivered | Gone | TooLarge | Retry | Rejected
//! ```
//!
//! The sender does not retry: an [`Outcome::Retry`] goes back to the caller's delivery queue
//! (with the `engine` feature, push-webhook's delivery engine: [`crate::engine`]), which owns
//! the schedule.
//!
//! # Cancel safety
//! Dropping a `send` future gives back its permits; a request already on the wire may or may
//! not have reached the push service.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;

use crate::{Delivery, EndpointPolicy, Error, Outcome, PushSubscription, WebPush};

/// The sender's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    queue_depth: usize,
    per_service: usize,
    encryptions: usize,
    timeout: Duration,
}

impl Default for Config {
    /// 1024 messages in flight or waiting, 16 concurrent requests per push service, 30 s per
    /// request. Each message in flight holds its encrypted body (≤ 4 KiB) and a connection's
    /// buffers: 1024 of them stay in a few MiB, and a topic with 100 000 Web Push subscribers
    /// meets back-pressure instead of 100 000 tasks. 16 connections per push service keep a
    /// 2-core host busy with TLS without a push service seeing a flood from one server. One
    /// encryption at a time (each is two P-256 scalar multiplications, about a millisecond)
    /// on the blocking pool: a topic with many subscribers takes at most one core from the
    /// hub's other work.
    fn default() -> Self {
        Self {
            queue_depth: 1024,
            per_service: 16,
            encryptions: 1,
            timeout: Duration::from_secs(30),
        }
    }
}

impl Config {
    /// Messages in flight or waiting for their push service (at least 1); one more is refused
    /// with [`Error::QueueFull`].
    #[must_use]
    pub fn with_queue_depth(mut self, depth: usize) -> Self {
        self.queue_depth = depth.clamp(1, Semaphore::MAX_PERMITS);
        self
    }
    /// Concurrent requests to one push service origin (at least 1).
    #[must_use]
    pub fn with_per_service(mut self, per_service: usize) -> Self {
        self.per_service = per_service.clamp(1, Semaphore::MAX_PERMITS);
        self
    }
    /// Messages encrypted at once, on the blocking pool (at least 1): the most cores Web Push
    /// encryption takes.
    #[must_use]
    pub fn with_encryptions(mut self, encryptions: usize) -> Self {
        self.encryptions = encryptions.clamp(1, Semaphore::MAX_PERMITS);
        self
    }
    /// The longest a request may take, connection included.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// The queue depth.
    pub fn queue_depth(&self) -> usize {
        self.queue_depth
    }
    /// The concurrency per push service.
    pub fn per_service(&self) -> usize {
        self.per_service
    }
    /// The encryptions at once.
    pub fn encryptions(&self) -> usize {
        self.encryptions
    }
    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector<PolicyResolver>>;

/// Sends push messages to push services.
#[derive(Debug)]
pub struct Sender {
    web_push: Arc<WebPush>,
    config: Config,
    client: Client<Connector, Full<Bytes>>,
    queue: Arc<Semaphore>,
    encrypting: Semaphore,
    services: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Sender {
    /// A sender building its requests with `web_push` (whose policy also checks every address
    /// a push service's name resolves to).
    pub fn new(web_push: WebPush, config: Config) -> Result<Self, Error> {
        let tls = push_http::client::tls_config([]).map_err(|e| Error::Http(Box::new(e)))?;
        let mut http =
            HttpConnector::new_with_resolver(PolicyResolver::new(web_push.policy().clone()));
        http.enforce_http(false);
        http.set_connect_timeout(Some(config.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            queue: Arc::new(Semaphore::new(config.queue_depth)),
            encrypting: Semaphore::new(config.encryptions),
            services: Mutex::new(HashMap::new()),
            web_push: Arc::new(web_push),
            config,
        })
    }

    /// The request builder.
    pub fn web_push(&self) -> &WebPush {
        &self.web_push
    }

    /// Encrypts and sends `payload` to `subscription`, answering what the push service said.
    /// Errors: [`Error::QueueFull`] at once when `queue_depth` messages are in flight; the
    /// refusals of [`WebPush::request`]; [`Error::Timeout`]; [`Error::Http`] when no answer
    /// came (connection refused, TLS, an address the policy refuses).
    pub async fn send(
        &self,
        subscription: &PushSubscription,
        payload: &[u8],
        delivery: &Delivery,
    ) -> Result<Outcome, Error> {
        let Ok(_queued) = self.queue.clone().try_acquire_owned() else {
            return Err(Error::QueueFull(self.config.queue_depth));
        };
        self.attempt(subscription, payload, delivery).await
    }

    /// As [`Sender::send`], but not counted against `queue_depth`: for a caller that bounds
    /// how many attempts it makes at once itself (the delivery engine's slots). The limits per
    /// push service and on encryption apply.
    pub async fn attempt(
        &self,
        subscription: &PushSubscription,
        payload: &[u8],
        delivery: &Delivery,
    ) -> Result<Outcome, Error> {
        let url = self.web_push.policy().check(&subscription.endpoint)?;
        let origin = url.origin().ascii_serialization();
        let service = self.service(&origin);
        let result = async {
            // Invariant: the semaphores are never closed.
            let _sending = service.acquire().await.expect("open semaphore");
            let request = {
                let _encrypting = self.encrypting.acquire().await.expect("open semaphore");
                let (web_push, subscription) = (self.web_push.clone(), subscription.clone());
                let (payload, delivery) = (payload.to_vec(), delivery.clone());
                tokio::task::spawn_blocking(move || {
                    web_push.request(&subscription, &payload, &delivery, now())
                })
                .await
                .map_err(|e| Error::Http(Box::new(e)))??
            };
            let exchange = async {
                let response = self
                    .client
                    .request(request.map(Full::new))
                    .await
                    .map_err(|e| Error::Http(Box::new(e)))?;
                let (parts, body) = response.into_parts();
                // Read (a bounded amount of) the answer so the connection can be reused.
                let _ = Limited::new(body, 8 * 1024).collect().await;
                Ok(Outcome::classify(parts.status, &parts.headers, now()))
            };
            tokio::time::timeout(self.config.timeout, exchange)
                .await
                .map_err(|_| Error::Timeout(self.config.timeout))?
        }
        .await;
        self.release(&origin, service);
        result
    }

    fn service(&self, origin: &str) -> Arc<Semaphore> {
        let mut services = self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        services
            .entry(origin.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_service)))
            .clone()
    }

    /// Forgets an origin's semaphore once nobody else holds it, so the map holds only origins
    /// with messages in flight (at most `queue_depth`).
    fn release(&self, origin: &str, service: Arc<Semaphore>) {
        let mut services = self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(service);
        if services
            .get(origin)
            .is_some_and(|s| Arc::strong_count(s) == 1)
        {
            services.remove(origin);
        }
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "the one place the sender reads the clock"
)]
fn now() -> SystemTime {
    SystemTime::now()
}

/// The sender's DNS resolver: the system's (`getaddrinfo` through tokio), keeping only the
/// addresses the [`EndpointPolicy`] admits, so a push service name that resolves to a private
/// or metadata address is never connected to.
#[derive(Debug, Clone)]
pub struct PolicyResolver {
    policy: Arc<EndpointPolicy>,
}

impl PolicyResolver {
    /// A resolver checking addresses with `policy`.
    pub fn new(policy: EndpointPolicy) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }
}

type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, Error>> + Send>>;

impl tower_service::Service<Name> for PolicyResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let policy = self.policy.clone();
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(|e| Error::Http(Box::new(e)))?;
            let mut refused = None;
            let admitted: Vec<SocketAddr> = found
                .filter(|addr| match policy.check_address(addr.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused = Some(e);
                        false
                    }
                })
                .collect();
            match (admitted.is_empty(), refused) {
                (false, _) => Ok(admitted.into_iter()),
                (true, Some(e)) => Err(e),
                (true, None) => Err(Error::Endpoint(format!("{} has no address", name.as_str()))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_service::Service as _;

    #[tokio::test]
    async fn the_resolver_checks_what_a_name_resolves_to() {
        let name: Name = "localhost".parse().unwrap();
        let refused = PolicyResolver::new(EndpointPolicy::default())
            .call(name.clone())
            .await;
        assert!(matches!(refused, Err(Error::Endpoint(m)) if m.contains("loopback")));
        let admitted = PolicyResolver::new(EndpointPolicy::default().with_loopback(true))
            .call(name)
            .await
            .unwrap();
        assert!(admitted.into_iter().all(|a| a.ip().is_loopback()));
    }
}
