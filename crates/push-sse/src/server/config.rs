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
    event_id: EventId,
    coalesce: Option<Duration>,
}

/// What an event's SSE `id` is: the broker's cursor (the default) or the event's own id.
///
/// ```
/// use push_sse::server::{Config, EventId};
///
/// let config = Config::default().with_event_id(EventId::Own);
/// assert_eq!(config.event_id(), EventId::Own);
/// assert_eq!(Config::default().event_id(), EventId::Cursor);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EventId {
    /// The event's cursor ([`encode_published`](crate::encode_published)): `Last-Event-ID` is
    /// always a position the broker can resume from, with no lookup.
    #[default]
    Cursor,
    /// The event's own id ([`Event::id`](push_core::Event::id), such as a Mercure update id)
    /// when it has one SSE can carry, else its cursor
    /// ([`encode_published_with_event_id`](crate::encode_published_with_event_id)). The server
    /// must then resolve a `Last-Event-ID` holding such an id (a broker's id index): the
    /// [`Endpoint`](super::Endpoint) does not, so this is for servers that resume themselves
    /// (a Mercure hub). Gaps keep the cursor as their id.
    Own,
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
            event_id: EventId::Cursor,
            coalesce: None,
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

    /// Chooses what each event's SSE `id` is (default [`EventId::Cursor`]).
    #[must_use]
    pub fn with_event_id(mut self, event_id: EventId) -> Self {
        self.event_id = event_id;
        self
    }

    /// What each event's SSE `id` is.
    pub fn event_id(&self) -> EventId {
        self.event_id
    }

    /// Gathers the events that arrive within `window` of a write into the next write
    /// (default `None`, or zero: every event is yielded as soon as it arrives).
    ///
    /// The first event after a quiet period is yielded at once and opens the window; events
    /// arriving while it is open wait in the subscription's queue (no copy, no buffer of the
    /// stream's own) and are yielded together when it closes, one after the other, so a
    /// writer that gathers ready frames (a vectored write, hyper's write buffer) sends them in
    /// one write; if any were, the next window opens then. So a quiet stream's latency is
    /// unchanged, and a busy one waits at most `window` for its events, in exchange for up to
    /// one write per window instead of one per event. A write syscall on a socket costs the
    /// server about as much as everything else an event costs it, so at a steady rate that
    /// gives each subscriber events closer together than the window, it is most of the CPU
    /// a delivery takes.
    ///
    /// The subscription's queue must hold a window's events (its bound counts the events
    /// held back as a backlog); keep-alives, the deadline and the shutdown signal are not
    /// held back.
    ///
    /// ```
    /// use std::time::Duration;
    /// use push_sse::server::Config;
    ///
    /// let config = Config::default().with_coalesce(Some(Duration::from_millis(100)));
    /// assert_eq!(config.coalesce(), Some(Duration::from_millis(100)));
    /// assert_eq!(Config::default().coalesce(), None);
    /// ```
    #[must_use]
    pub fn with_coalesce(mut self, window: Option<Duration>) -> Self {
        self.coalesce = window.filter(|d| !d.is_zero());
        self
    }

    /// The coalescing window, if any.
    pub fn coalesce(&self) -> Option<Duration> {
        self.coalesce
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
        assert_eq!(c.event_id(), EventId::Cursor);
        assert_eq!(
            c.clone().with_event_id(EventId::Own).event_id(),
            EventId::Own
        );
        assert_eq!(c.with_coalesce(Some(Duration::ZERO)).coalesce(), None);
    }
}
