//! The server: a `tower_service::Service` answering long polls on a [`Broker`].

use core::convert::Infallible;
use core::future::poll_fn;
use core::pin::{Pin, pin};
use core::task::{Context, Poll};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use push_core::{Access, Broker};
use push_http::query::Query;
use push_http::{Hooks, Open, Refusal};
use tokio::time::{Instant, Sleep};

use super::{Body, Config, Error};
use crate::{Exchange, PollRequest, Reply};

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
/// Each request goes one way: its query split once ([`Query`]), the topics from
/// [`Hooks::topics`], the poll's own parameters from the same query
/// ([`PollRequest::from_parts`]), the authorization from [`Hooks::authorize`], the
/// subscription opened with that [`Access`] (registered before anything is checked), then the
/// [`Exchange`] held until an event, the hold's deadline or the access's
/// [`until`](Access::until), whichever comes first. A refusal of the hooks is answered as they
/// say; every other error becomes its status and a `text/plain` message. Other methods get
/// `405` with `Allow: GET, HEAD`.
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

#[derive(Debug)]
struct Shared<B> {
    broker: B,
    config: Config,
    seed: AtomicU64,
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

impl<B, H> Endpoint<B, H>
where
    B: Broker + Clone + Send + Sync + 'static,
    H: Hooks,
{
    /// Answers the request whose head is `parts` (the body is not read).
    async fn respond(&self, parts: http::request::Parts) -> Response<Body> {
        // The head is consumed by `admit` and gone before the hold: a held poll keeps its
        // parsed request and access, never the request's headers.
        match self.admit(parts).await {
            Ok((poll, access)) => reply(self.hold(poll, &access).await),
            Err(response) => response,
        }
    }

    /// Reads the request's head (the topics, the poll's parameters, the authorization) into
    /// what the hold needs, or the answer that refuses it.
    async fn admit(
        &self,
        parts: http::request::Parts,
    ) -> Result<(PollRequest, Access), Response<Body>> {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return Err(
                Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
                    .with_header(header::ALLOW, HeaderValue::from_static("GET, HEAD"))
                    .into_response()
                    .map(Body::from),
            );
        }
        // One split of the query for the hooks and the poll's own parameters.
        let query = Query::of(&parts.uri);
        let selector = self
            .hooks
            .topics(&parts, &query)
            .map_err(|refusal| refusal.into_response().map(Body::from))?;
        let poll = PollRequest::from_parts(selector, &parts, &query)
            .map_err(|e| reply(Reply::Error(e)))?;
        let access = self
            .hooks
            .authorize(&parts, poll.selector())
            .await
            .map_err(|refusal| refusal.into_response().map(Body::from))?;
        Ok((poll, access))
    }

    /// Registers (subscribes from `since` with `access`), checks, and holds until an event,
    /// the deadline or the access's end.
    async fn hold(&self, request: PollRequest, access: &Access) -> Reply {
        let shared = &*self.shared;
        // Register first: from here on, nothing published is missed.
        let mut subscription =
            match shared
                .broker
                .subscribe(request.selector(), request.since(), access)
            {
                Ok(s) => s,
                Err(e) => return Reply::Error(Error::Broker(e)),
            };
        let now = Instant::now();
        let seed = shared
            .seed
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        let mut exchange =
            Exchange::new(request, &shared.config, now.into_std(), seed).with_until(access.until());
        // The exchange's deadline, on tokio's clock.
        let deadline = Instant::from_std(exchange.deadline());
        // The timer is created only when the poll is actually held: a poll answered at once
        // (something ready, or short polling) never touches the timer wheel.
        let mut sleep = pin!(None::<Sleep>);
        poll_fn(|cx| {
            // Check, then hold: the subscription registers our waker when it has nothing.
            if let Poll::Ready(reply) = exchange.poll_subscription(&mut subscription, cx) {
                return Poll::Ready(reply);
            }
            if sleep.is_none() {
                sleep.set(Some(tokio::time::sleep_until(deadline)));
            }
            let elapsed = sleep
                .as_mut()
                .as_pin_mut()
                .is_some_and(|s| s.poll(cx).is_ready());
            if elapsed {
                exchange.handle_timeout(exchange.deadline());
                if let Some(reply) = exchange.poll_reply() {
                    return Poll::Ready(reply);
                }
            }
            Poll::Pending
        })
        .await
    }
}

fn reply(reply: Reply) -> Response<Body> {
    reply.into_http().map(Body::from)
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
        let this = self.clone();
        // A poll has no body: it is not read (and not kept, so `ReqBody` need not be `Send`).
        let (parts, _) = request.into_parts();
        Box::pin(async move { Ok(this.respond(parts).await) })
    }
}
