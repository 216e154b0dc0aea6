//! The server: a `tower_service::Service` answering long polls on a [`Broker`].

use core::convert::Infallible;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use http::{Request, Response};
use push_core::Broker;
use push_http::{Hooks, Open};

use super::respond::respond;
use super::{Body, Config};

/// Answers long polls (`GET`, `HEAD`) on a [`Broker`]: a
/// [`tower_service::Service`] of any `http::Request`, mounted where the application wants it.
///
/// ```
/// use push_broker::MemoryBroker;
/// use push_longpoll::server::{Config, Endpoint};
///
/// let broker = MemoryBroker::default();
/// let poll = Endpoint::new(broker.clone(), Config::default());
/// let _app: axum::Router = axum::Router::new().route_service("/poll", poll);
/// ```
///
/// Each request goes one way: its query split once ([`Query`](push_http::query::Query)), the
/// topics from [`Hooks::topics`], the poll's own parameters from the same query
/// ([`PollRequest::from_parts`](crate::PollRequest::from_parts)), the authorization from
/// [`Hooks::authorize`], the subscription opened with that [`Access`](push_core::Access)
/// (registered before anything is checked), then the [`Exchange`](crate::Exchange) held until
/// an event, the hold's deadline or the access's [`until`](push_core::Access::until),
/// whichever comes first. A refusal of the hooks is answered as they say; every other error
/// becomes its status and a `text/plain` message. Other methods get `405` with
/// `Allow: GET, HEAD`.
///
/// # Memory
/// A held poll is its response future: one allocation, 872 bytes with the [`Open`] hooks and
/// a [`MemoryBroker`](https://docs.rs/push-broker) subscription. The hold keeps the
/// subscription, the exchange and its timer, never the request's head: the head, the split
/// query and the hooks' futures belong to the admission before it, which ends when the hold
/// begins. The allocation is sized for the larger of the two, so a hook whose `authorize`
/// future is large (a big buffer held across an await) makes every poll larger: box such a
/// future inside the hook.
///
/// Cloning is cheap (the broker, the configuration and the jitter seed are shared).
///
/// # Cancel safety
/// The response future may be dropped at any point (hyper drops it when the client
/// disconnects): the subscription it holds is dropped with it, which frees the waiter's slot in
/// the broker at once. Nothing is consumed on anyone else's behalf.
#[derive(Debug)]
pub struct Endpoint<B, H = Open> {
    shared: Arc<Shared<B>>,
    hooks: H,
}

/// What every clone of an endpoint shares.
#[derive(Debug)]
pub(super) struct Shared<B> {
    pub(super) broker: B,
    pub(super) config: Config,
    /// The next hold's jitter seed.
    pub(super) seed: AtomicU64,
}

impl<B, H: Clone> Clone for Endpoint<B, H> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            hooks: self.hooks.clone(),
        }
    }
}

impl<B: Broker + Clone> Endpoint<B> {
    /// An endpoint over `broker` with these limits and the [`Open`] hooks (the `topic` query
    /// parameters, public events only).
    pub fn new(broker: B, config: Config) -> Self {
        Self {
            shared: Arc::new(Shared {
                broker,
                config,
                seed: AtomicU64::new(0x853c_49e6_748f_ea9b),
            }),
            hooks: Open,
        }
    }
}

impl<B, H> Endpoint<B, H> {
    /// The same endpoint with other hooks: which topics a request asks for, and what it may
    /// have.
    pub fn with_hooks<K: Hooks>(self, hooks: K) -> Endpoint<B, K> {
        Endpoint {
            shared: self.shared,
            hooks,
        }
    }

    /// The broker.
    pub fn broker(&self) -> &B {
        &self.shared.broker
    }

    /// The limits.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The hooks.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }
}

impl<B, H, ReqBody> tower_service::Service<Request<ReqBody>> for Endpoint<B, H>
where
    B: Broker + Clone + Send + Sync + 'static,
    B::Subscription: Send,
    H: Hooks,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // A poll has no body: it is not read (and not kept, so `ReqBody` need not be `Send`).
        let (parts, _) = request.into_parts();
        // One allocation per request, sized for the larger of the admission and the hold
        // (`respond.rs`): what each held poll keeps.
        Box::pin(respond(Arc::clone(&self.shared), self.hooks.clone(), parts))
    }
}
