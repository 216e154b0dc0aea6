//! Graceful shutdown: one signal every part of the hub watches, and the jittered reconnection
//! delay it gives each client.
//!
//! On SIGTERM or SIGINT the hub stops accepting, tells each SSE stream to reconnect after a
//! random delay between `--shutdown-retry` and twice it (an SSE `retry:` field, then the end of
//! the stream: the stream's own last frame, [`Shutdown::farewell`] wired into the hub's Mercure
//! streams, so it is the same whether hyper, HTTP/2 or the lean path serves the stream), answers each held long poll `503` with a `Retry-After` drawn the same way,
//! closes WebSocket connections (1001, going away), and exits once the connections are gone or
//! `--shutdown-timeout` has passed. The jitter spreads the reconnections of a restart over the
//! whole window instead of one thundering instant.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

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

    /// Completes when the signal fires, with a reconnection delay for one client
    /// ([`jittered_retry`](Self::jittered_retry)), drawn then: what an event stream ends with
    /// (`EventStream::with_shutdown_retry`; the hub's Mercure streams, on every path).
    pub fn farewell(&self) -> impl Future<Output = Duration> + Send + 'static {
        let signal = self.wait();
        let hint = self.clone();
        async move {
            signal.await;
            hint.jittered_retry()
        }
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
    use std::task::Context;

    use super::*;

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
    async fn the_farewell_comes_at_the_signal_with_a_jittered_delay() {
        let shutdown = Shutdown::new(Duration::from_millis(1000));
        let mut farewell = std::pin::pin!(shutdown.farewell());
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(farewell.as_mut().poll(&mut cx).is_pending());
        shutdown.trigger();
        assert!(shutdown.is_triggered());
        let delay = farewell.await;
        assert!(
            (Duration::from_millis(1000)..=Duration::from_millis(2000)).contains(&delay),
            "{delay:?}"
        );
        // After the signal, a new farewell is due at once.
        let late = shutdown.farewell().await;
        assert!(late >= Duration::from_millis(1000));
    }
}
