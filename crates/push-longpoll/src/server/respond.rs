//! How an [`Endpoint`] answers one request: the admission, then the hold, two futures that
//! never coexist.
//!
//! A held poll is its response future, boxed once by [`Endpoint`]'s `Service::call`; a
//! server holding 10,000 polls keeps 10,000 of them, and a future is as large as its largest
//! state. So the request's path is split where the hold begins:
//!
//! - [`admit`] owns the request's head: the topics ([`Hooks::topics`]), the poll's own
//!   parameters, the authorization ([`Hooks::authorize`], the one await), the subscription
//!   opened with that [`Access`](push_core::Access) (registered before anything is checked) and
//!   the [`Exchange`]. It ends with the owned pieces of a [`Held`] poll, and everything that
//!   borrowed the head (the split query, the selector's hook, the hook's future) ends with it.
//! - [`hold`] owns only the subscription, the exchange and the deadline: it checks, then waits
//!   for an event, the hold's deadline or the access's `until`.
//!
//! [`respond`] chains them with `FutureExt::then` (the hold answers a refusal at once), whose
//! state is an enum of the two: the box is the larger of the two states, not their sum
//! (`tests/endpoint.rs` bounds it).
//!
//! Neither is an `async fn`: an `async fn` stores its arguments twice in its future (as the
//! call's arguments, and again as the body's locals once moved). A plain function returning an
//! `async move` block that uses its captures in place stores each one once.

use core::convert::Infallible;
use core::future::poll_fn;
use core::pin::pin;
use core::task::Poll;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::FutureExt as _;
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode, header};
use push_core::{Broker, Subscription};
use push_http::query::Query;
use push_http::{Hooks, Refusal};
use tokio::time::{Instant, Sleep};

use super::endpoint::Shared;
use super::{Body, Error};
use crate::{Exchange, PollRequest, Reply};

/// A poll admitted and registered: what its hold owns, and nothing of its request's head.
pub(super) struct Held<S> {
    subscription: S,
    exchange: Exchange,
    /// The exchange's deadline, on tokio's clock.
    deadline: Instant,
}

/// Answers the request whose head is `parts`: [`admit`], then [`hold`] (or the refusal).
pub(super) fn respond<B, H>(
    shared: Arc<Shared<B>>,
    hooks: H,
    parts: Parts,
) -> impl Future<Output = Result<Response<Body>, Infallible>> + Send + 'static
where
    B: Broker + Send + Sync + 'static,
    B::Subscription: Send,
    H: Hooks,
{
    admit(shared, hooks, parts).then(hold)
}

/// Reads the request's head (the topics, the poll's parameters, the authorization), opens the
/// subscription and starts the exchange: the pieces the hold owns, or the answer that refuses
/// the request.
#[allow(clippy::manual_async_fn)] // An `async fn` would store `parts` twice (see the module docs).
fn admit<B, H>(
    shared: Arc<Shared<B>>,
    hooks: H,
    parts: Parts,
) -> impl Future<Output = Result<Held<B::Subscription>, Response<Body>>> + Send + 'static
where
    B: Broker + Send + Sync + 'static,
    B::Subscription: Send,
    H: Hooks,
{
    async move {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return Err(
                Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
                    .with_header(header::ALLOW, HeaderValue::from_static("GET, HEAD"))
                    .into_response()
                    .map(Body::from),
            );
        }
        // One split of the query for the hooks and the poll's own parameters, in a block: the
        // split (about 470 bytes, on the stack) ends before the authorization's await, so the
        // admission's state does not carry it.
        let poll = {
            let query = Query::of(&parts.uri);
            let selector = hooks
                .topics(&parts, &query)
                .map_err(|refusal| refusal.into_response().map(Body::from))?;
            PollRequest::from_parts(selector, &parts, &query).map_err(|e| reply(Reply::Error(e)))?
        };
        let access = hooks
            .authorize(&parts, poll.selector())
            .await
            .map_err(|refusal| refusal.into_response().map(Body::from))?;
        // Register first: from here on, nothing published is missed.
        let subscription = shared
            .broker
            .subscribe(poll.selector(), poll.since(), &access)
            .map_err(|e| reply(Reply::Error(Error::Broker(e))))?;
        let now = Instant::now();
        let seed = shared
            .seed
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        let exchange =
            Exchange::new(poll, &shared.config, now.into_std(), seed).with_until(access.until());
        let deadline = Instant::from_std(exchange.deadline());
        Ok(Held {
            subscription,
            exchange,
            deadline,
        })
    }
}

/// Checks, then holds until an event, the deadline or the access's end; a refused request is
/// answered at once.
#[allow(clippy::manual_async_fn)] // An `async fn` would store `admitted` twice (module docs).
fn hold<S: Subscription + 'static>(
    mut admitted: Result<Held<S>, Response<Body>>,
) -> impl Future<Output = Result<Response<Body>, Infallible>> + Send + 'static {
    async move {
        // Borrowed where it lies: moving the pieces out would store them twice.
        let held = match admitted {
            Ok(ref mut held) => held,
            Err(refused) => return Ok(refused),
        };
        let deadline = held.deadline;
        // The timer is created only when the poll is actually held: a poll answered at once
        // (something ready, or short polling) never touches the timer wheel.
        let mut sleep = pin!(None::<Sleep>);
        let answer = poll_fn(|cx| {
            let Held {
                subscription,
                exchange,
                ..
            } = &mut *held;
            // Check, then hold: the subscription registers our waker when it has nothing.
            if let Poll::Ready(reply) = exchange.poll_subscription(subscription, cx) {
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
        .await;
        Ok(reply(answer))
    }
}

fn reply(reply: Reply) -> Response<Body> {
    reply.into_http().map(Body::from)
}
