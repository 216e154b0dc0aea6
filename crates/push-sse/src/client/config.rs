//! How a client reconnects and decodes.

use super::ReconnectPolicy;

/// How an [`EventSource`](super::EventSource) behaves: its reconnection policy and its decoder
/// limits. Builder setters `with_x`, getters `x()`.
///
/// ```
/// use std::time::Duration;
/// use push_sse::client::{Config, ReconnectPolicy};
///
/// let config = Config::default()
///     .with_reconnect_policy(ReconnectPolicy::default().with_max(Duration::from_secs(30)))
///     .with_decoder(push_sse::Config::new().with_max_event_len(64 * 1024));
/// assert_eq!(config.decoder().max_event_len(), 64 * 1024);
/// assert_eq!(config.reconnect_policy().max(), Duration::from_secs(30));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Config {
    reconnect_policy: ReconnectPolicy,
    decoder: crate::Config,
}

impl Config {
    /// When and how often to reconnect (default: [`ReconnectPolicy::default`]).
    #[must_use]
    pub fn with_reconnect_policy(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect_policy = policy;
        self
    }

    /// The reconnection policy.
    pub fn reconnect_policy(&self) -> &ReconnectPolicy {
        &self.reconnect_policy
    }

    /// The decoder's limits (default: [`crate::Config::default`], which bounds a stream's memory
    /// to about 3 MiB at worst).
    #[must_use]
    pub fn with_decoder(mut self, limits: crate::Config) -> Self {
        self.decoder = limits;
        self
    }

    /// The decoder's limits.
    pub fn decoder(&self) -> crate::Config {
        self.decoder
    }
}
