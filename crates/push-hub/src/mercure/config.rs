//! The Mercure module's configuration: limits, CORS, the subscriptions API and the SSE stream.

use std::time::Duration;

/// The largest publish body by default: 1 MiB, as Mercure 1.0's `max_request_body_size`.
///
/// A publish body is read whole before it is parsed; at 1 MiB, 64 concurrent publishes hold at
/// most 64 MiB, which a 1 GiB machine takes beside the broker's history (256 MiB by default).
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// The longest publisher-supplied update id by default: 256 bytes.
///
/// Ids are kept with every retained event and in the broker's id index; UUID URNs are 45 bytes
/// and URLs rarely pass 200, so 256 bytes fits real ids while 100,000 retained events cost at
/// most 25 MiB of ids.
pub const DEFAULT_MAX_ID_LEN: usize = 256;

/// The heartbeat by default: 40 s, Mercure's (`heartbeat`): below the 60 s idle timeouts of
/// nginx and the common load balancers, at 3 bytes per stream.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(40);

/// How a [`Mercure`](super::Mercure) hub behaves. Builder setters `with_x`, getters `x()`.
///
/// ```
/// use push_hub::mercure::MercureConfig;
///
/// let config = MercureConfig::default()
///     .with_cors_origins(["https://app.example"])
///     .with_subscriptions(true);
/// assert_eq!(config.max_body(), 1 << 20);
/// assert!(config.subscriptions());
/// ```
#[derive(Clone, Debug)]
pub struct MercureConfig {
    max_body: usize,
    max_id_len: usize,
    cors_origins: Vec<String>,
    subscriptions: bool,
    heartbeat: Option<Duration>,
    public_url: Option<url::Url>,
    coalesce: Option<Duration>,
}

impl Default for MercureConfig {
    fn default() -> Self {
        Self {
            max_body: DEFAULT_MAX_BODY,
            max_id_len: DEFAULT_MAX_ID_LEN,
            cors_origins: Vec::new(),
            subscriptions: false,
            heartbeat: Some(DEFAULT_HEARTBEAT),
            public_url: None,
            coalesce: None,
        }
    }
}

impl MercureConfig {
    /// The largest request body, in bytes (default [`DEFAULT_MAX_BODY`]): a publish, or the
    /// parameters of 1.0's `QUERY` subscribe; larger is a `413`.
    #[must_use]
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The largest publish body, in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// The longest publisher-supplied id, in bytes (default [`DEFAULT_MAX_ID_LEN`]); longer is
    /// a `400` (0.x) or `413` (1.0).
    #[must_use]
    pub fn with_max_id_len(mut self, bytes: usize) -> Self {
        self.max_id_len = bytes;
        self
    }

    /// The longest publisher-supplied id, in bytes.
    pub fn max_id_len(&self) -> usize {
        self.max_id_len
    }

    /// The origins browsers may call the hub from (CORS). Empty (the default): no CORS
    /// headers. An explicit origin (`https://app.example`) gets credentialed requests (the
    /// cookie); `*` allows any origin, without credentials, as browsers require.
    #[must_use]
    pub fn with_cors_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cors_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// The CORS origins.
    pub fn cors_origins(&self) -> &[String] {
        &self.cors_origins
    }

    /// Turns on the active-subscriptions API and the subscription events (default off: each
    /// connection then publishes two events, and Mercure makes it opt-in too).
    #[must_use]
    pub fn with_subscriptions(mut self, on: bool) -> Self {
        self.subscriptions = on;
        self
    }

    /// Whether the subscriptions API and events are on.
    pub fn subscriptions(&self) -> bool {
        self.subscriptions
    }

    /// The heartbeat: a comment when a stream was quiet this long (default
    /// [`DEFAULT_HEARTBEAT`]; `None`: never).
    #[must_use]
    pub fn with_heartbeat(mut self, interval: Option<Duration>) -> Self {
        self.heartbeat = interval.filter(|d| !d.is_zero());
        self
    }

    /// The heartbeat interval.
    pub fn heartbeat(&self) -> Option<Duration> {
        self.heartbeat
    }

    /// The hub's public URL (`https://example.com/.well-known/mercure`): what relative
    /// `match_urlpattern` selectors resolve against. Default: `http://` and the request's
    /// `Host` (behind a TLS-terminating proxy, set it).
    #[must_use]
    pub fn with_public_url(mut self, url: url::Url) -> Self {
        self.public_url = Some(url);
        self
    }

    /// The hub's public URL, if configured.
    pub fn public_url(&self) -> Option<&url::Url> {
        self.public_url.as_ref()
    }

    /// Gathers the events a busy SSE stream receives within `window` into one write (default
    /// `None`: each written as it comes); see push-sse's
    /// [`Config::with_coalesce`](push_sse::server::Config::with_coalesce) for the trade.
    #[must_use]
    pub fn with_coalesce(mut self, window: Option<Duration>) -> Self {
        self.coalesce = window.filter(|d| !d.is_zero());
        self
    }

    /// The SSE coalescing window, if any.
    pub fn coalesce(&self) -> Option<Duration> {
        self.coalesce
    }
}
