//! The async handler: parse, subscribe (register), check, hold with `tokio::time`, answer.

use core::future::poll_fn;
use core::pin::pin;
use core::task::Poll;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use push_core::Broker;
use tokio::time::{Instant, Sleep};

use crate::{Config, Error, Exchange, PollRequest, Reply, parse_http};

/// Answers long polls on a [`Broker`]: one [`Handler::handle`] call per request.
///
/// Cloning the broker handle is the caller's business: wrap the handler in an `Arc` to share
/// it between connections.
///
/// # Cancel safety
/// The future returned by [`handle`](Self::handle) may be dropped at any point (hyper drops it
/// when the client disconnects): the subscription it holds is dropped with it, which frees the
/// waiter's slot in the broker at once. Nothing is consumed on anyone else's behalf.
#[derive(Debug)]
pub struct Handler<B> {
    broker: B,
    config: Config,
    seed: AtomicU64,
}

impl<B: Broker> Handler<B> {
    /// A handler over `broker` with these limits.
    pub fn new(broker: B, config: Config) -> Self {
        Self {
            broker,
            config,
            seed: AtomicU64::new(0x853c_49e6_748f_ea9b),
        }
    }

    /// The broker.
    pub fn broker(&self) -> &B {
        &self.broker
    }

    /// The limits.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Answers one long poll given as an `http::Request` (the method and path are not checked:
    /// route before calling). The body is ignored.
    ///
    /// A hold asked for with `Prefer: wait=N` is answered with `Preference-Applied: wait=M`,
    /// `M` the hold granted in whole seconds (`N` capped by [`Config::wait_cap`], rounded up);
    /// not on error answers.
    pub async fn handle<T>(&self, request: &Request<T>) -> Response<Bytes> {
        match parse_http(request) {
            Ok(poll) => {
                // Whole seconds, rounded up: a hold under a second is not "wait=0".
                let applied = poll.wait_preferred().then(|| {
                    let hold = self.config.effective_wait(poll.wait());
                    hold.as_secs() + u64::from(hold.subsec_nanos() > 0)
                });
                let reply = self.answer(poll).await;
                let applied = applied.filter(|_| !matches!(reply, Reply::Error(_)));
                let mut response = reply.into_http();
                if let Some(secs) = applied
                    && let Ok(value) = HeaderValue::from_str(&format!("wait={secs}"))
                {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static("preference-applied"), value);
                }
                response
            }
            Err(e) => Reply::Error(e).into_http(),
        }
    }

    /// Answers one parsed long poll: registers (subscribes from `since`), checks, holds until
    /// an event or the deadline.
    pub async fn answer(&self, request: PollRequest) -> Reply {
        // Register first: from here on, nothing published is missed.
        let mut subscription = match self.broker.subscribe(
            request.selector(),
            request.since(),
            &push_core::Access::public(),
        ) {
            Ok(s) => s,
            Err(e) => return Reply::Error(Error::Broker(e)),
        };
        let now = Instant::now();
        let seed = self
            .seed
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        let mut exchange = Exchange::new(request, &self.config, now.into_std(), seed);
        // The exchange's own deadline (`now + hold`), on tokio's clock.
        let deadline = now.checked_add(exchange.hold()).unwrap_or(now);
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
                exchange.handle_timeout(deadline.into_std());
                if let Some(reply) = exchange.poll_reply() {
                    return Poll::Ready(reply);
                }
            }
            Poll::Pending
        })
        .await
    }
}
