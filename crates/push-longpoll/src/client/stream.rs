//! The client as a stream: poll, yield the events, poll again from `next`; retry transient
//! failures under the reconnect policy.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::VecDeque;

use futures_core::Stream;
use push_core::Cursor;

use super::poller::Poller;
use push_http::client::Backoff;

use super::{Error, Item, ReconnectPolicy};

/// A long-poll client: a [`Stream`] of the [`Item`]s after its cursor, polling again from each
/// answer's `next` (or `Push-Cursor` on `204`/`304`).
///
/// Errors are yielded one by one. A transient one ([`Error::is_transient`]: the transport, a
/// malformed answer, `408`, `429`, `5xx`) is retried after the delay of the
/// [`ReconnectPolicy`] (exponential, jittered, bounded); the stream ends after another error,
/// or when the policy's `max_retries` failures came in a row. A successful answer starts the
/// growth of the delays over. The cursor moves only when a whole answer has been parsed, so
/// dropping the stream, or a pending `next`, loses nothing the server still has.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use push_longpoll::client::{Client, Item};
///
/// #[tokio::main]
/// async fn main() -> Result<(), push_longpoll::client::Error> {
///     let mut events = Client::new("http://127.0.0.1:8080/poll?topic=news")?;
///     while let Some(item) = events.next().await {
///         match item {
///             Ok(Item::Event { id, data, .. }) => println!("{id}: {data}"),
///             Ok(Item::Gap { .. }) => eprintln!("some events were lost"),
///             Ok(_) => {}
///             Err(e) => eprintln!("{e}"),
///         }
///     }
///     Ok(())
/// }
/// ```
pub struct Client {
    /// The cursor of the last answer parsed (kept here while a poll owns the poller).
    since: Option<Cursor>,
    pending: VecDeque<Item>,
    backoff: Backoff,
    /// Drives the jitter of each new backoff.
    seed: u64,
    state: State,
}

type PollFuture = Pin<Box<dyn Future<Output = (Box<Poller>, Result<Vec<Item>, Error>)> + Send>>;

enum State {
    /// Ready to poll, after `delay` (a retry) if any.
    Idle(Box<Poller>, Option<core::time::Duration>),
    /// A poll in flight; it owns the poller and gives it back.
    Polling(PollFuture),
    /// Gave up: the stream has ended.
    Done,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("since", &self.since)
            .field("pending", &self.pending.len())
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for a poll URL such as `http://127.0.0.1:8080/poll?topic=news`; `https://` with
    /// the `tls` feature (the server's certificate checked against the Mozilla roots of
    /// `webpki-roots`, plus any added with
    /// [`with_root_certificate`](Self::with_root_certificate)). A `since` in the URL is the
    /// starting cursor.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for another scheme or a URL without a host,
    /// [`Error::InvalidSince`] for a malformed `since`.
    pub fn new(url: &str) -> Result<Self, Error> {
        let poller = Poller::new(url)?;
        let seed = url.bytes().fold(0x2545_f491_4f6c_dd1d_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Ok(Self {
            since: poller.since,
            pending: VecDeque::new(),
            backoff: Backoff::new(ReconnectPolicy::default(), seed),
            seed,
            state: State::Idle(Box::new(poller), None),
        })
    }

    /// Also trusts this certificate authority (a DER certificate) for `https://`: a private PKI,
    /// or a self-signed certificate in a test. Without effect on an `http://` client.
    ///
    /// # Errors
    /// [`Error::Tls`] when the certificate cannot be used as a trust anchor.
    #[cfg(feature = "tls")]
    pub fn with_root_certificate(mut self, der: &[u8]) -> Result<Self, Error> {
        if let State::Idle(poller, _) = &mut self.state {
            poller.tls = poller
                .tls
                .take()
                .map(|tls| tls.with_root(der))
                .transpose()?;
        }
        Ok(self)
    }

    /// Starts after `cursor` (before the first poll).
    #[must_use]
    pub fn with_since(mut self, cursor: Cursor) -> Self {
        if let State::Idle(poller, _) = &mut self.state {
            poller.since = Some(cursor);
            self.since = Some(cursor);
        }
        self
    }

    /// When to retry after a transient error, and when to give up (default: the
    /// [`ReconnectPolicy`] defaults, retrying forever).
    #[must_use]
    pub fn with_reconnect_policy(mut self, policy: ReconnectPolicy) -> Self {
        self.backoff = Backoff::new(policy, self.next_seed());
        self
    }

    /// The cursor the next poll asks with (`None`: from now, before the first answer): the one
    /// given to [`with_since`](Self::with_since) (or in the URL) until an answer moves it.
    pub fn since(&self) -> Option<Cursor> {
        self.since
    }

    /// When this client retries and when it gives up (set by
    /// [`with_reconnect_policy`](Self::with_reconnect_policy)).
    pub fn reconnect_policy(&self) -> &ReconnectPolicy {
        self.backoff.policy()
    }

    /// The answer of a poll: queue its items, or decide whether (and when) to retry.
    fn finish(&mut self, poller: Box<Poller>, result: Result<Vec<Item>, Error>) -> Option<Error> {
        self.since = poller.since;
        match result {
            Ok(items) => {
                // An answer: the growth of the delays starts over.
                if self.backoff.failures() > 0 {
                    self.backoff = Backoff::new(self.backoff.policy().clone(), self.next_seed());
                }
                self.pending.extend(items);
                self.state = State::Idle(poller, None);
                None
            }
            Err(e) => {
                let now = tokio::time::Instant::now().into_std();
                self.state = match e.is_transient().then(|| self.backoff.disconnected(now)) {
                    Some(Some(delay)) => State::Idle(poller, Some(delay)),
                    _ => State::Done,
                };
                Some(e)
            }
        }
    }

    fn next_seed(&mut self) -> u64 {
        self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.seed
    }
}

impl Stream for Client {
    type Item = Result<Item, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            match core::mem::replace(&mut this.state, State::Done) {
                State::Done => return Poll::Ready(None),
                State::Idle(mut poller, delay) => {
                    this.state = State::Polling(Box::pin(async move {
                        if let Some(delay) = delay {
                            tokio::time::sleep(delay).await;
                        }
                        let result = poller.poll().await;
                        (poller, result)
                    }));
                }
                State::Polling(mut future) => match future.as_mut().poll(cx) {
                    Poll::Pending => {
                        this.state = State::Polling(future);
                        return Poll::Pending;
                    }
                    Poll::Ready((poller, result)) => {
                        if let Some(e) = this.finish(poller, result) {
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                },
            }
        }
    }
}
