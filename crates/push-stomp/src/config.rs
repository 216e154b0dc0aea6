//! The server session's configuration: the codec's limits, the heart-beats it offers, and the
//! bounds on what one connection may hold (subscriptions, unacknowledged messages, transactions).

use std::time::Duration;

use crate::Limits;

/// How a server [`Session`](crate::Session) runs: builder setters `with_x`, getters `x()`.
///
/// The defaults: the codec's [`Limits`]; heart-beats offered every 10 s both ways (a client
/// asking for less often gets its rate, one asking for none gets none; a peer silent for twice
/// the agreed interval is closed); 32 subscriptions per connection; 100 unacknowledged messages
/// per subscription in the `client` modes (RabbitMQ's prefetch-count, applied per
/// subscription); 8 open transactions holding at most 256 KiB of frames together. With these a
/// connection holds at most one frame in its decoder and 256 KiB of transactions, so 10,000
/// connections on a 1 GiB server stay within memory even if every client fills its
/// transactions (which well-behaved clients never do).
///
/// ```
/// use std::time::Duration;
/// use push_stomp::Config;
///
/// let config = Config::default().with_heart_beat(Duration::from_secs(5), Duration::ZERO);
/// assert_eq!(config.heart_beat(), (Duration::from_secs(5), Duration::ZERO));
/// assert_eq!(config.prefetch(), 100);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    limits: Limits,
    heart_beat: (Duration, Duration),
    max_subscriptions: usize,
    prefetch: usize,
    max_transactions: usize,
    max_transaction_bytes: usize,
    server: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            heart_beat: (Duration::from_secs(10), Duration::from_secs(10)),
            max_subscriptions: 32,
            prefetch: 100,
            max_transactions: 8,
            max_transaction_bytes: 256 << 10,
            server: concat!("push-stomp/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl Config {
    /// The decoder's limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The decoder's limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The heart-beats the server offers: how often it can send one, how often it wants one
    /// (zero: never). Millisecond precision, as on the wire.
    #[must_use]
    pub fn with_heart_beat(mut self, send: Duration, receive: Duration) -> Self {
        self.heart_beat = (send, receive);
        self
    }

    /// The heart-beats the server offers (send, receive).
    pub fn heart_beat(&self) -> (Duration, Duration) {
        self.heart_beat
    }

    /// The most subscriptions one connection holds at once.
    #[must_use]
    pub fn with_max_subscriptions(mut self, count: usize) -> Self {
        self.max_subscriptions = count;
        self
    }

    /// The most subscriptions one connection holds at once.
    pub fn max_subscriptions(&self) -> usize {
        self.max_subscriptions
    }

    /// The most messages a subscription in the `client` or `client-individual` ack mode has
    /// delivered and not had acknowledged; past it the subscription waits for an `ACK` (at least
    /// 1).
    #[must_use]
    pub fn with_prefetch(mut self, count: usize) -> Self {
        self.prefetch = count.max(1);
        self
    }

    /// The most unacknowledged messages per subscription.
    pub fn prefetch(&self) -> usize {
        self.prefetch
    }

    /// The most transactions open at once on one connection.
    #[must_use]
    pub fn with_max_transactions(mut self, count: usize) -> Self {
        self.max_transactions = count;
        self
    }

    /// The most transactions open at once on one connection.
    pub fn max_transactions(&self) -> usize {
        self.max_transactions
    }

    /// The most bytes of frames (bodies and headers) the open transactions of a connection
    /// hold together until their `COMMIT`.
    #[must_use]
    pub fn with_max_transaction_bytes(mut self, bytes: usize) -> Self {
        self.max_transaction_bytes = bytes;
        self
    }

    /// The most bytes of frames the open transactions of a connection hold.
    pub fn max_transaction_bytes(&self) -> usize {
        self.max_transaction_bytes
    }

    /// The `server` header of `CONNECTED` (default `push-stomp/VERSION`).
    #[must_use]
    pub fn with_server(mut self, server: impl Into<String>) -> Self {
        self.server = server.into();
        self
    }

    /// The `server` header of `CONNECTED`.
    pub fn server(&self) -> &str {
        &self.server
    }
}
