//! Decoder limits.

/// Limits of a [`Decoder`](crate::Decoder), so its memory stays bounded whatever the peer sends.
///
/// ```
/// use push_sse::{Config, Decoder};
///
/// let config = Config::new().max_line_len(4096).max_event_len(64 * 1024);
/// assert_eq!(config.line_limit(), 4096);
/// let _decoder = Decoder::with_config(config);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    max_line_len: usize,
    max_event_len: usize,
}

/// The default longest line, in bytes, not counting its line ending: 64 KiB.
pub const DEFAULT_MAX_LINE_LEN: usize = 64 * 1024;

/// The default largest event data, in bytes, after joining its `data` lines: 1 MiB.
pub const DEFAULT_MAX_EVENT_LEN: usize = 1024 * 1024;

impl Config {
    /// The default limits: [`DEFAULT_MAX_LINE_LEN`] and [`DEFAULT_MAX_EVENT_LEN`].
    pub const fn new() -> Self {
        Self {
            max_line_len: DEFAULT_MAX_LINE_LEN,
            max_event_len: DEFAULT_MAX_EVENT_LEN,
        }
    }

    /// Sets the longest accepted line, in bytes, not counting its line ending (at least 1).
    ///
    /// A longer line is [`Error::LineTooLong`](crate::Error::LineTooLong), reported as soon as
    /// that many bytes of it are buffered.
    #[must_use]
    pub const fn max_line_len(mut self, bytes: usize) -> Self {
        self.max_line_len = if bytes == 0 { 1 } else { bytes };
        self
    }

    /// Sets the largest accepted event data, in bytes: the joined `data` values with their
    /// separating line feeds (and the one trailing line feed removed at dispatch).
    ///
    /// Larger data is [`Error::EventTooLarge`](crate::Error::EventTooLarge), reported at the
    /// `data` line that crosses the limit.
    #[must_use]
    pub const fn max_event_len(mut self, bytes: usize) -> Self {
        self.max_event_len = bytes;
        self
    }

    /// The longest accepted line, in bytes.
    pub const fn line_limit(&self) -> usize {
        self.max_line_len
    }

    /// The largest accepted event data, in bytes.
    pub const fn event_limit(&self) -> usize {
        self.max_event_len
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_limits() {
        let c = Config::default();
        assert_eq!(c.line_limit(), DEFAULT_MAX_LINE_LEN);
        assert_eq!(c.event_limit(), DEFAULT_MAX_EVENT_LEN);
        let c = c.max_line_len(0).max_event_len(7);
        assert_eq!(c.line_limit(), 1);
        assert_eq!(c.event_limit(), 7);
    }
}
