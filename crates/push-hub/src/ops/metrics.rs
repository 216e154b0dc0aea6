//! The hub's Prometheus metrics, served as text at `/metrics`.
//!
//! Every metric is registered once at start-up and its handle kept here, so the hot paths (a
//! delivery, a write) touch one atomic and never the registry's label map.

use std::fmt;
use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The label set of the labelled metrics: one `(name, value)` pair.
type Label = [(&'static str, &'static str); 1];

/// A transport a client holds a stream over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// An SSE event stream (Mercure subscribe).
    Sse,
    /// A WebSocket connection on `/ws`.
    WebSocket,
    /// A held long poll on `/poll`.
    LongPoll,
}

impl Transport {
    const ALL: [Self; 3] = [Self::Sse, Self::WebSocket, Self::LongPoll];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sse => "sse",
            Self::WebSocket => "websocket",
            Self::LongPoll => "longpoll",
        }
    }
}

/// How a TCP connection speaks, decided from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 in clear text.
    Http1,
    /// HTTP/2 in clear text with prior knowledge.
    H2c,
    /// TLS (HTTP/1.1 or HTTP/2 by ALPN).
    Tls,
}

impl Protocol {
    const ALL: [Self; 3] = [Self::Http1, Self::H2c, Self::Tls];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http1 => "http1",
            Self::H2c => "h2c",
            Self::Tls => "tls",
        }
    }
}

/// Why a request or a connection was turned away by a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `--max-connections` reached (503).
    Connections,
    /// A client address's or a token's stream quota (429).
    StreamQuota,
    /// A publish rate quota (429).
    PublishQuota,
}

impl Refused {
    const ALL: [Self; 3] = [Self::Connections, Self::StreamQuota, Self::PublishQuota];

    fn as_str(self) -> &'static str {
        match self {
            Self::Connections => "connections",
            Self::StreamQuota => "stream_quota",
            Self::PublishQuota => "publish_quota",
        }
    }
}

/// The gap reasons counted (push-core's `GapReason` names).
const GAP_REASONS: [&str; 5] = [
    "unknown-epoch",
    "from-future",
    "evicted",
    "overflow",
    "other",
];

/// Every metric of the hub. Cheap to share (`Arc<Metrics>`); the handles are atomics.
pub struct Metrics {
    registry: Registry,
    streams: [Gauge; 3],
    connections: [Gauge; 3],
    refused: [Counter; 3],
    gaps: [Counter; 5],
    /// Events published (accepted by the broker).
    pub published: Counter,
    /// Events delivered to subscribers (one per subscriber and event).
    pub delivered: Counter,
    /// Seconds from a publish to each delivery of its event.
    pub latency: Histogram,
    /// Events a subscriber has not yet delivered behind the one it delivers (its
    /// [`lag`](push_core::Subscription::lag)), observed with the latency's samples.
    pub lag: Histogram,
    /// Subscribers whose queue overflowed (a gap, or a closed stream, per `--overflow`).
    pub overflows: Counter,
    /// Requests refused for authorization (401, 403).
    pub auth_failures: Counter,
    /// Bytes written to clients (TLS records included).
    pub bytes_out: Counter,
    /// 1 while the broker's store answers (always, for the embedded broker), 0 while Redis
    /// is unreachable; set when `/metrics` or `/healthz` is read.
    pub broker_up: Gauge,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("push_hub");
        let streams = Family::<Label, Gauge>::default();
        registry.register(
            "streams",
            "Streams held open, per transport (SSE streams, WebSocket connections, held polls)",
            streams.clone(),
        );
        let connections = Family::<Label, Gauge>::default();
        registry.register(
            "connections",
            "TCP connections open, per protocol",
            connections.clone(),
        );
        let refused = Family::<Label, Counter>::default();
        registry.register(
            "refused",
            "Requests and connections turned away by a limit",
            refused.clone(),
        );
        let gaps = Family::<Label, Counter>::default();
        registry.register(
            "gaps",
            "Gaps announced to subscribers, per reason",
            gaps.clone(),
        );
        let published = Counter::default();
        registry.register("events_published", "Events published", published.clone());
        let delivered = Counter::default();
        registry.register(
            "events_delivered",
            "Events delivered (one per subscriber)",
            delivered.clone(),
        );
        // 10 µs to about 20 s.
        let latency = Histogram::new(exponential_buckets(0.000_01, 4.0, 12));
        registry.register(
            "delivery_latency_seconds",
            "Time from a publish to a delivery of its event (one delivery in 16 of each subscription)",
            latency.clone(),
        );
        // 0, then 1 to 65,536 events by fours.
        let lag = Histogram::new(core::iter::once(0.0).chain(exponential_buckets(1.0, 4.0, 9)));
        registry.register(
            "subscriber_lag_events",
            "Events published on a subscriber's topics that it had not yet delivered, after the \
             delivery it was making (0 while it keeps up; sampled as the latency is)",
            lag.clone(),
        );
        let overflows = Counter::default();
        registry.register(
            "queue_overflows",
            "Subscribers that fell behind their queue bound",
            overflows.clone(),
        );
        let auth_failures = Counter::default();
        registry.register(
            "auth_failures",
            "Requests refused with 401 or 403",
            auth_failures.clone(),
        );
        let bytes_out = Counter::default();
        registry.register("bytes_out", "Bytes written to clients", bytes_out.clone());
        let broker_up = Gauge::default();
        broker_up.set(1);
        registry.register(
            "broker_up",
            "1 while the broker's store (Redis with --redis) answers, 0 while it is unreachable",
            broker_up.clone(),
        );
        Arc::new(Self {
            streams: Transport::ALL
                .map(|t| streams.get_or_create(&[("transport", t.as_str())]).clone()),
            connections: Protocol::ALL.map(|p| {
                connections
                    .get_or_create(&[("protocol", p.as_str())])
                    .clone()
            }),
            refused: Refused::ALL.map(|r| refused.get_or_create(&[("limit", r.as_str())]).clone()),
            gaps: GAP_REASONS.map(|r| gaps.get_or_create(&[("reason", r)]).clone()),
            registry,
            published,
            delivered,
            latency,
            lag,
            overflows,
            auth_failures,
            bytes_out,
            broker_up,
        })
    }

    /// The gauge of streams held over `transport`.
    pub fn streams(&self, transport: Transport) -> &Gauge {
        &self.streams[transport as usize]
    }

    /// The gauge of TCP connections speaking `protocol`.
    pub fn connections(&self, protocol: Protocol) -> &Gauge {
        &self.connections[protocol as usize]
    }

    /// Counts one refusal by `limit`.
    pub fn refused(&self, limit: Refused) {
        self.refused[limit as usize].inc();
    }

    /// Counts one gap with push-core's reason name.
    pub fn gap(&self, reason: &str) {
        let index = GAP_REASONS
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(GAP_REASONS.len() - 1);
        self.gaps[index].inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("published", &self.published.get())
            .field("delivered", &self.delivered.get())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_exposition_names_every_metric() {
        let metrics = Metrics::new();
        metrics.streams(Transport::WebSocket).inc();
        metrics.connections(Protocol::Tls).inc();
        metrics.refused(Refused::Connections);
        metrics.gap("evicted");
        metrics.gap("something-new");
        metrics.published.inc();
        metrics.latency.observe(0.002);
        metrics.lag.observe(3.0);
        let text = metrics.encode();
        for line in [
            "push_hub_streams{transport=\"websocket\"} 1",
            "push_hub_streams{transport=\"sse\"} 0",
            "push_hub_connections{protocol=\"tls\"} 1",
            "push_hub_refused_total{limit=\"connections\"} 1",
            "push_hub_gaps_total{reason=\"evicted\"} 1",
            "push_hub_gaps_total{reason=\"other\"} 1",
            "push_hub_events_published_total 1",
            "push_hub_delivery_latency_seconds_count 1",
            "push_hub_subscriber_lag_events_sum 3.0",
            "push_hub_subscriber_lag_events_bucket{le=\"4.0\"} 1",
            "push_hub_subscriber_lag_events_bucket{le=\"1.0\"} 0",
            "push_hub_auth_failures_total 0",
            "push_hub_bytes_out_total 0",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
