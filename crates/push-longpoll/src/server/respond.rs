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
//! [`Respond`] is the response future: an enum of the two states, written by hand, so the box
//! is the larger of the two states, not their sum (`tests/endpoint.rs` bounds it), and polling
//! it goes through one layer (a combinator such as `FutureExt::then` adds a `Map` and a
//! `Flatten` around the admission and a closure call between them). The hold is a state of
//! that enum rather than an `async` block of its own: its poll is the check, then the timer.
//!
//! [`admit`] is not an `async fn`: an `async fn` stores its arguments twice in its future (as
//! the call's arguments, and again as the body's locals once moved). A plain function
//! returning an `async move` block that uses its captures in place stores each one once.

use core::convert::Infallible;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::sync::Arc;
use std::sync::atomic::Ordering;

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

/// What [`admit`] ends with: the pieces of a held poll, or the answer that refuses it.
type Admitted<S> = Result<Held<S>, Response<Body>>;

pin_project_lite::pin_project! {
    /// The response future: [`admit`], then the hold (or the refusal, answered at once).
    #[project = RespondProj]
    pub(super) enum Respond<A, S> {
        /// Reading the head, authorizing, opening the subscription.
        Admit {
            #[pin]
            admit: A,
        },
        /// Holding: the check, then the wait for an event, the deadline or the access's end.
        Hold {
            held: Held<S>,
            // Created only when the poll is actually held: a poll answered at once (something
            // ready, or short polling) never touches the timer wheel.
            #[pin]
            sleep: Option<Sleep>,
        },
    }
}

/// Answers the request whose head is `parts`: [`admit`], then the hold (or the refusal).
pub(super) fn respond<B, H>(
    shared: Arc<Shared<B>>,
    hooks: H,
    parts: Parts,
) -> Respond<impl Future<Output = Admitted<B::Subscription>>, B::Subscription>
where
    B: Broker + Send + Sync + 'static,
    B::Subscription: Send,
    H: Hooks,
{
    Respond::Admit {
        admit: admit(shared, hooks, parts),
    }
}

impl<A, S> Future for Respond<A, S>
where
    A: Future<Output = Admitted<S>>,
    S: Subscription,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let RespondProj::Admit { admit } = self.as_mut().project() {
            match ready!(admit.poll(cx)) {
                Ok(held) => self.set(Self::Hold { held, sleep: None }),
                // Answered at once; like any future, this one is not polled again.
                Err(refused) => return Poll::Ready(Ok(refused)),
            }
        }
        let RespondProj::Hold { held, mut sleep } = self.project() else {
            unreachable!("the admission moves to the hold when it ends")
        };
        let Held {
            subscription,
            exchange,
            deadline,
        } = held;
        // Check, then hold: the subscription registers our waker when it has nothing.
        if let Poll::Ready(answer) = exchange.poll_subscription(subscription, cx) {
            return Poll::Ready(Ok(reply(answer)));
        }
        if sleep.is_none() {
            sleep.set(Some(tokio::time::sleep_until(*deadline)));
        }
        let elapsed = sleep.as_pin_mut().is_some_and(|s| s.poll(cx).is_ready());
        if elapsed {
            exchange.handle_timeout(exchange.deadline());
            if let Some(answer) = exchange.poll_reply() {
                return Poll::Ready(Ok(reply(answer)));
            }
        }
        Poll::Pending
    }
}

/// Reads the request's head (the topics, the poll's parameters, the authorization), opens the
/// subscription and starts the exchange: the pieces the hold owns, or the answer that refuses
/// the request.
#[allow(clippy::manual_async_fn)] // An `async fn` would store `parts` twice (see the module docs).
fn admit<B, H>(
    shared: Arc<Shared<B>>,
    hooks: H,
    parts: Parts,
) -> impl Future<Output = Admitted<B::Subscription>> + Send + 'static
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
        let mut poll = {
            let query = Query::of(&parts.uri);
            let selector = hooks
                .topics(&parts, &query)
                .map_err(|refusal| refusal.into_response().map(Body::from))?;
            PollRequest::from_parts(selector, &parts, &query).map_err(|e| reply(Reply::Error(e)))?
        };
        // `since` as the broker places it: an id (one a client saw on another transport)
        // resolves, and one it cannot place is a gap, announced.
        if let Some(resume) = poll.resume() {
            poll = poll.with_since(shared.broker.place(&resume));
        }
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

fn reply(reply: Reply) -> Response<Body> {
    reply.into_http().map(Body::from)
}
