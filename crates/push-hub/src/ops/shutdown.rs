//! Graceful shutdown: one signal every part of the hub watches, and the bodies that end event
//! streams with a jittered reconnection hint when it fires.
//!
//! On SIGTERM or SIGINT the hub stops accepting, tells each SSE stream to reconnect after a
//! random delay between `--shutdown-retry` and twice it (an SSE `retry:` field, then the end of
//! the stream), answers each held long poll `503` with a `Retry-After` drawn the same way,
//! closes WebSocket connections (1001, going away), and exits once the connections are gone or
//! `--shutdown-timeout` has passed. The jitter spreads the reconnections of a restart over the
//! whole window instead of one thundering instant.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::watch;

/// The shutdown signal: cheap to clone, fired once.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: Arc<watch::Sender<bool>>,
    retry: Duration,
}

impl Shutdown {
    /// A signal not fired yet; `retry` is the shortest reconnection delay suggested to clients.
    pub fn new(retry: Duration) -> Self {
        Self {
            sender: Arc::new(watch::Sender::new(false)),
            retry,
        }
    }

    /// Fires the signal (again is harmless).
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Completes when the signal fires (at once if it has).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.sender.subscribe();
        async move {
            // An error means the sender is gone, which cannot happen while `self` lives; ending
            // the wait then is the safe answer.
            let _ = receiver.wait_for(|fired| *fired).await;
        }
    }

    /// A reconnection delay for one client: uniformly random in `[retry, 2 × retry]`.
    pub fn jittered_retry(&self) -> Duration {
        let extra = u32::try_from(self.retry.as_millis()).unwrap_or(u32::MAX);
        let random = getrandom::u32().unwrap_or(0);
        let extra = u64::from(random) * u64::from(extra) / u64::from(u32::MAX);
        self.retry.saturating_add(Duration::from_millis(extra))
    }

    /// Wraps an SSE response body so that it ends with a `retry:` hint when the signal fires.
    pub fn event_stream<B>(&self, body: B) -> Ending<B> {
        Ending {
            body,
            signal: Some(Box::pin(self.wait())),
            hint: Some(self.clone()),
        }
    }
}

/// An event-stream body that ends at the shutdown signal with an SSE `retry:` field holding a
/// jittered delay (see [`Shutdown::jittered_retry`]).
pub struct Ending<B> {
    body: B,
    signal: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    hint: Option<Shutdown>,
}

impl<B> std::fmt::Debug for Ending<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ending")
            .field("ended", &self.signal.is_none())
            .finish_non_exhaustive()
    }
}

impl<B> Body for Ending<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        if let Some(signal) = &mut this.signal {
            if signal.as_mut().poll(cx).is_ready() {
                this.signal = None;
            } else {
                match Pin::new(&mut this.body).poll_frame(cx) {
                    // The body watches the same signal (the Mercure stream ends at shutdown
                    // too) and may see it first: its end is then the shutdown's, hint included.
                    Poll::Ready(None) if this.hint.as_ref().is_some_and(Shutdown::is_triggered) => {
                        this.signal = None;
                    }
                    other => return other,
                }
            }
        }
        // Shutting down: the hint once, then the end.
        let Some(hint) = this.hint.take() else {
            return Poll::Ready(None);
        };
        let millis = hint.jittered_retry().as_millis();
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(format!(
            "retry: {millis}\n\n"
        ))))))
    }

    fn is_end_stream(&self) -> bool {
        self.signal.is_none() && self.hint.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C).
///
/// # Errors
/// When the signal handlers cannot be installed.
pub async fn signals() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            _ = int.recv() => Ok("SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}

/// Polls `future` to completion or until `shutdown` fires, whichever is first.
pub(crate) async fn or_shutdown<F: Future>(future: F, shutdown: &Shutdown) -> Option<F::Output> {
    let signal = shutdown.wait();
    tokio::select! {
        output = future => Some(output),
        () = signal => None,
    }
}

#[cfg(test)]
mod tests {
    use std::task::ready;

    use super::*;

    /// A body that never yields.
    struct Pending;

    impl Body for Pending {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    fn poll_data<B: Body<Data = Bytes> + Unpin>(
        body: &mut B,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Bytes>> {
        let frame = ready!(Pin::new(body).poll_frame(cx));
        Poll::Ready(frame.and_then(|f| f.ok()).and_then(|f| f.into_data().ok()))
    }

    #[test]
    fn jitter_stays_in_its_window() {
        let shutdown = Shutdown::new(Duration::from_secs(5));
        let delays: Vec<_> = (0..200).map(|_| shutdown.jittered_retry()).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_secs(5) && *d <= Duration::from_secs(10))
        );
        // Random: 200 draws are not all the same millisecond.
        assert!(delays.iter().any(|d| *d != delays[0]));
        assert_eq!(
            Shutdown::new(Duration::ZERO).jittered_retry(),
            Duration::ZERO
        );
    }

    #[tokio::test]
    async fn a_stream_ends_with_a_retry_hint_at_the_signal() {
        let shutdown = Shutdown::new(Duration::from_millis(1000));
        let mut body = shutdown.event_stream(Pending);
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(poll_data(&mut body, &mut cx).is_pending());
        shutdown.trigger();
        assert!(shutdown.is_triggered());
        let hint = std::future::poll_fn(|cx| poll_data(&mut body, cx))
            .await
            .unwrap();
        let text = std::str::from_utf8(&hint).unwrap();
        let millis: u64 = text
            .strip_prefix("retry: ")
            .and_then(|t| t.strip_suffix("\n\n"))
            .unwrap()
            .parse()
            .unwrap();
        assert!((1000..=2000).contains(&millis), "{text}");
        assert!(body.is_end_stream());
        assert_eq!(
            std::future::poll_fn(|cx| poll_data(&mut body, cx)).await,
            None
        );
    }

    #[tokio::test]
    async fn a_body_that_ends_at_the_signal_before_the_wrapper_sees_it_gets_the_hint() {
        // The race of a shutdown: the wrapper polled its signal just before the trigger, then
        // the body (which watches the same signal) saw it and ended.
        let shutdown = Shutdown::new(Duration::from_millis(1000));
        shutdown.trigger();
        let mut body = Ending {
            body: http_body_util::Empty::<Bytes>::new(),
            signal: Some(Box::pin(std::future::pending())),
            hint: Some(shutdown.clone()),
        };
        let hint = std::future::poll_fn(|cx| poll_data(&mut body, cx)).await;
        let hint = hint.expect("a retry hint, not the end");
        assert!(std::str::from_utf8(&hint).unwrap().starts_with("retry: "));
        assert_eq!(
            std::future::poll_fn(|cx| poll_data(&mut body, cx)).await,
            None
        );
    }
}
