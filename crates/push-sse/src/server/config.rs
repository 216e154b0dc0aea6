//! How a served event stream behaves.

use std::time::Duration;

/// How the server's event streams behave: keep-alive comments and the `retry` sent first.
/// Builder setters `with_x`, getters `x()`.
///
/// ```
/// use std::time::Duration;
/// use push_sse::server::Config;
///
/// let config = Config::default()
///     .with_keep_alive(Some(Duration::from_secs(30)))
///     .with_retry(Some(Duration::from_secs(2)));
/// assert_eq!(config.keep_alive(), Some(Duration::from_secs(30)));
/// assert_eq!(config.retry(), Some(Duration::from_secs(2)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    keep_alive: Option<Duration>,
    retry: Option<Duration>,
}

/// The default keep-alive interval: 15 s.
///
/// Proxies and load balancers commonly cut a connection idle for 30 to 60 s (nginx's
/// `proxy_read_timeout` is 60 s, AWS ALB's idle timeout 60 s); a comment every 15 s keeps an
/// idle stream open behind any of them, at 3 bytes per stream: 10,000 idle streams cost about
/// 2 KB/s.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

impl Default for Config {
    fn default() -> Self {
        Self {
            keep_alive: Some(DEFAULT_KEEP_ALIVE),
            retry: None,
        }
    }
}

impl Config {
    /// Sends a comment when nothing was sent for this long (default [`DEFAULT_KEEP_ALIVE`];
    /// `None` or zero: never), so proxies and load balancers do not cut an idle stream.
    #[must_use]
    pub fn with_keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval.filter(|d| !d.is_zero());
        self
    }

    /// The keep-alive interval, if any.
    pub fn keep_alive(&self) -> Option<Duration> {
        self.keep_alive
    }

    /// Sends `retry:` first, setting the client's reconnection delay (default: not sent, so
    /// clients use their own, 3 s in browsers).
    #[must_use]
    pub fn with_retry(mut self, delay: Option<Duration>) -> Self {
        self.retry = delay;
        self
    }

    /// The reconnection delay sent first, if any.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_and_getters_agree() {
        let c = Config::default();
        assert_eq!(c.keep_alive(), Some(DEFAULT_KEEP_ALIVE));
        assert_eq!(c.retry(), None);
        let c = c
            .with_keep_alive(Some(Duration::ZERO))
            .with_retry(Some(Duration::from_millis(5)));
        assert_eq!(c.keep_alive(), None);
        assert_eq!(c.retry(), Some(Duration::from_millis(5)));
    }
}
