//! The age sweep's driver on tokio (feature `sweeper`): a task that sleeps until the broker's
//! next deadline and sweeps.

use std::sync::Arc;
use std::time::Duration;

use crate::MemoryBroker;

/// The shortest sleep between two sweeps: deadlines closer together than this are swept
/// together, so a million topics expiring a microsecond apart cost a few sweeps, not a million.
/// An event therefore outlives its age by at most this much.
const MIN_NAP: Duration = Duration::from_millis(100);

/// The longest sleep: the task checks this often whether its broker still exists.
const MAX_NAP: Duration = Duration::from_secs(60);

impl MemoryBroker {
    /// Starts the task that expires history on time, on the current tokio runtime.
    ///
    /// It sleeps until [`poll_timeout`](Self::poll_timeout) (within 100 ms, so close deadlines
    /// share one sweep), calls [`sweep`](Self::sweep), and repeats. It holds no strong
    /// reference: it ends within a minute of the last handle to the broker being dropped, or at
    /// its next wake-up after [`close`](Self::close). Start one per broker; a server starts it
    /// next to its listener. Without it, expired events stay (unseen by replays) until a publish on
    /// their topic, or a call to `sweep`.
    ///
    /// The sleeps use tokio's clock and the deadlines the broker's
    /// [`Config::with_clock`](crate::Config::with_clock); with the default clock both are the system's
    /// monotonic time. Under `tokio::time::pause` give the broker
    /// `|| tokio::time::Instant::now().into_std()` as its clock.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn` does).
    pub fn spawn_sweeper(&self) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        let age = self.inner.config.history_age;
        tokio::spawn(async move {
            loop {
                let nap = {
                    let Some(inner) = weak.upgrade() else { return };
                    let broker = Self { inner };
                    if broker.is_closed() {
                        return;
                    }
                    let next = broker.sweep();
                    let now = broker.now();
                    next.map_or(age, |at| at.saturating_duration_since(now))
                };
                tokio::time::sleep(nap.clamp(MIN_NAP, MAX_NAP)).await;
            }
        })
    }
}
