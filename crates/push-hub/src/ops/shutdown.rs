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
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;

/// The shutdown signal: cheap to clone, fired once.
///
/// Every event stream of the hub polls it (through [`farewell`](Self::farewell)), so a poll
/// while it has not fired reads one atomic flag and touches no lock: the waiters' list (a
/// mutex every stream shares) is taken only to register a task, not on every poll.
#[derive(Debug, Clone)]
pub struct Shutdown {
    fired: Arc<AtomicBool>,
    notify: Arc<Notify>,
    retry: Duration,
}

impl Shutdown {
    /// A signal not fired yet; `retry` is the shortest reconnection delay suggested to clients.
    pub fn new(retry: Duration) -> Self {
        Self {
            fired: Arc::default(),
            notify: Arc::default(),
            retry,
        }
    }

    /// Fires the signal (again is harmless).
    pub fn trigger(&self) {
        // The flag first: a waiter woken by the notification sees it set.
        if !self.fired.swap(true, Ordering::SeqCst) {
            self.notify.notify_waiters();
        }
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Completes when the signal fires (at once if it has).
    ///
    /// Polling it again with the waker it registered last (the same task) reads the flag only.
    pub fn wait(&self) -> Fired {
        Fired {
            fired: Arc::clone(&self.fired),
            // Made now: a `notify_waiters` from here on completes it even before its first
            // poll (tokio counts those calls).
            notified: Box::pin(Arc::clone(&self.notify).notified_owned()),
            registered: None,
        }
    }

    /// A reconnection delay for one client: uniformly random in `[retry, 2 × retry]`.
    pub fn jittered_retry(&self) -> Duration {
        Self::jitter(self.retry)
    }

    /// Uniformly random in `[retry, 2 × retry]`.
    fn jitter(retry: Duration) -> Duration {
        let extra = u32::try_from(retry.as_millis()).unwrap_or(u32::MAX);
        let random = getrandom::u32().unwrap_or(0);
        let extra = u64::from(random) * u64::from(extra) / u64::from(u32::MAX);
        retry.saturating_add(Duration::from_millis(extra))
    }

    /// Completes when the signal fires, with a reconnection delay for one client
    /// ([`jittered_retry`](Self::jittered_retry)), drawn then: what an event stream ends with
    /// (`EventStream::with_shutdown_retry`; the hub's Mercure streams, on every path).
    pub fn farewell(&self) -> Farewell {
        Farewell {
            fired: self.wait(),
            retry: self.retry,
        }
    }
}

/// [`Shutdown::wait`]'s future: completes when the signal fires.
///
/// A hand-written future, as every event stream holds one for its whole life: the flag, the
/// registration (boxed: tokio's waiter is pinned) and the waker it was made with.
#[derive(Debug)]
pub struct Fired {
    fired: Arc<AtomicBool>,
    notified: Pin<Box<OwnedNotified>>,
    /// The waker the registration holds, once polled.
    registered: Option<Waker>,
}

impl Future for Fired {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        // Registered with an equivalent waker: the notification will wake this task.
        if self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        if self.notified.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        self.registered = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// [`Shutdown::farewell`]'s future: the signal, then a jittered reconnection delay.
#[derive(Debug)]
pub struct Farewell {
    fired: Fired,
    retry: Duration,
}

impl Future for Farewell {
    type Output = Duration;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Duration> {
        std::task::ready!(Pin::new(&mut self.fired).poll(cx));
        Poll::Ready(Shutdown::jitter(self.retry))
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
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Polled again by the task it registered (the fast path: the flag only), or by another
    /// one (registered anew), the signal wakes the task that polled it last, once, and then
    /// completes; a wait that starts after the signal completes at once.
    #[test]
    fn a_wait_wakes_the_task_that_polled_it_last() {
        let shutdown = Shutdown::new(Duration::from_secs(1));
        let mut wait = std::pin::pin!(shutdown.wait());
        let (first, second) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
        let first_waker = Waker::from(Arc::clone(&first));
        let second_waker = Waker::from(Arc::clone(&second));
        for _ in 0..3 {
            let mut cx = Context::from_waker(&first_waker);
            assert!(wait.as_mut().poll(&mut cx).is_pending());
        }
        let mut cx = Context::from_waker(&second_waker);
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        shutdown.trigger();
        shutdown.trigger();
        assert_eq!(first.0.load(Ordering::SeqCst), 0, "the old waker was woken");
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        assert!(wait.as_mut().poll(&mut cx).is_ready());
        let mut late = std::pin::pin!(shutdown.wait());
        assert!(late.as_mut().poll(&mut cx).is_ready());
    }

    /// A wait made before the signal but first polled after it completes (tokio counts the
    /// notifications a `Notified` was created before).
    #[test]
    fn a_wait_first_polled_after_the_signal_completes() {
        let shutdown = Shutdown::new(Duration::from_secs(1));
        let mut wait = std::pin::pin!(shutdown.wait());
        shutdown.trigger();
        let waker = Waker::noop();
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_ready()
        );
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
    async fn the_farewell_comes_at_the_signal_with_a_jittered_delay() {
        let shutdown = Shutdown::new(Duration::from_millis(1000));
        let mut farewell = std::pin::pin!(shutdown.farewell());
        let waker = Waker::noop();
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
