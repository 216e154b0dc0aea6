//! The callbacks' metrics, in the hub's `/metrics` text under `push_hub_callbacks_…`: the
//! counters are atomics the engine's observer adds to; the queue's depth and oldest age are
//! read from the queue when `/metrics` is scraped (one read transaction).

use std::time::SystemTime;

use prometheus_client::encoding::text::encode_registry;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::registration::unix_millis;

/// The callbacks' metrics.
pub struct CallbackMetrics {
    registry: Registry,
    /// Delivery attempts made (each retry counts).
    pub attempted: Counter,
    /// Attempts answered 2xx.
    pub succeeded: Counter,
    /// Attempts that failed (any other status, a timeout, no connection).
    pub failed: Counter,
    /// Registrations disabled (410, or the schedule spent).
    pub disabled: Counter,
    /// Events that left the history before the fan-out queued them.
    pub gaps: Counter,
    depth: Gauge,
    oldest: Gauge,
    registrations: Gauge,
}

impl std::fmt::Debug for CallbackMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackMetrics")
            .field("attempted", &self.attempted.get())
            .field("succeeded", &self.succeeded.get())
            .field("failed", &self.failed.get())
            .finish_non_exhaustive()
    }
}

impl CallbackMetrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("push_hub_callbacks");
        let attempted = Counter::default();
        registry.register("attempts", "Delivery attempts made", attempted.clone());
        let succeeded = Counter::default();
        registry.register(
            "succeeded",
            "Delivery attempts answered 2xx",
            succeeded.clone(),
        );
        let failed = Counter::default();
        registry.register(
            "failed",
            "Delivery attempts that failed (status, timeout, connection)",
            failed.clone(),
        );
        let disabled = Counter::default();
        registry.register(
            "disabled",
            "Registrations disabled (410 Gone, or the schedule spent)",
            disabled.clone(),
        );
        let gaps = Counter::default();
        registry.register(
            "gaps",
            "Gaps: events evicted from the history before the fan-out queued them",
            gaps.clone(),
        );
        let depth = Gauge::default();
        registry.register("queue_depth", "Deliveries queued", depth.clone());
        let oldest = Gauge::default();
        registry.register(
            "oldest_pending_seconds",
            "Age of the oldest queued delivery (0 when none)",
            oldest.clone(),
        );
        let registrations = Gauge::default();
        registry.register(
            "registrations",
            "Registrations kept (active and disabled)",
            registrations.clone(),
        );
        Self {
            registry,
            attempted,
            succeeded,
            failed,
            disabled,
            gaps,
            depth,
            oldest,
            registrations,
        }
    }

    /// The text of every metric (no `# EOF`), with the gauges set from `depth`, `oldest`
    /// (when the oldest delivery was queued, Unix milliseconds) and `registrations`.
    pub fn encode(&self, depth: u64, oldest: Option<u64>, registrations: usize) -> String {
        self.depth.set(i64::try_from(depth).unwrap_or(i64::MAX));
        let now = unix_millis(SystemTime::now());
        let age = oldest.map_or(0, |at| now.saturating_sub(at) / 1000);
        self.oldest.set(i64::try_from(age).unwrap_or(i64::MAX));
        self.registrations
            .set(i64::try_from(registrations).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode_registry(&mut text, &self.registry);
        text
    }
}

impl Default for CallbackMetrics {
    fn default() -> Self {
        Self::new()
    }
}
