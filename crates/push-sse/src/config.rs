//! Decoder limits.

/// Limits of a [`Decoder`](crate::Decoder), so its memory stays bounded whatever the peer sends.
///
/// What is limited is what the decoder must keep, and nothing else, so it accepts what browsers
/// accept:
/// - an event's data ([`max_event_len`](Self::with_max_event_len), default 1 MiB): the joined `data`
///   lines, including a single `data` line as long as that (it is buffered while it arrives);
/// - an `event`, `id` or `retry` line ([`max_line_len`](Self::with_max_line_len), default 64 KiB):
///   the type and the id are kept (the id is sent back as `Last-Event-ID`, and few servers take
///   a request header of more than 8 to 64 KiB);
/// - comments and fields the decoder ignores have no limit: a line that is not complete yet is
///   dropped as it arrives, in constant memory at any length (a 64 MB keep-alive comment costs
///   nothing but the chunk being read).
///
/// So one decoder holds, at worst, an event's data twice (a `data` line that spans chunks is
/// buffered while it arrives, then copied into the event; the buffer's growth adds up to as
/// much again) or one `event` / `id` / `retry` line, plus the chunk being read: about 3 MiB with
/// the defaults, so a 2-core / 1 GiB client can read a hundred streams at their worst at once,
/// while an event of a megabyte (a large JSON document) still goes through. Streams of small
/// events hold a few KiB.
///
/// ```
/// use push_sse::{Config, Decoder};
///
/// let config = Config::new().with_max_line_len(4096).with_max_event_len(64 * 1024);
/// assert_eq!(config.max_line_len(), 4096);
/// let _decoder = Decoder::with_config(config);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    max_line_len: usize,
    max_event_len: usize,
}

/// The default longest `event`, `id` or `retry` line, in bytes, not counting its line ending:
/// 64 KiB (see [`Config`] for why).
pub const DEFAULT_MAX_LINE_LEN: usize = 64 * 1024;

/// The default largest event data, in bytes, after joining its `data` lines: 1 MiB (see
/// [`Config`] for why).
pub const DEFAULT_MAX_EVENT_LEN: usize = 1024 * 1024;

impl Config {
    /// The default limits: [`DEFAULT_MAX_LINE_LEN`] and [`DEFAULT_MAX_EVENT_LEN`].
    pub const fn new() -> Self {
        Self {
            max_line_len: DEFAULT_MAX_LINE_LEN,
            max_event_len: DEFAULT_MAX_EVENT_LEN,
        }
    }

    /// Sets the longest accepted `event`, `id` or `retry` line, in bytes, not counting its line
    /// ending (at least 1). `data` lines are bounded by [`max_event_len`](Self::with_max_event_len)
    /// instead; comments and ignored fields by nothing.
    ///
    /// A longer line is [`Error::LineTooLong`](crate::Error::LineTooLong), reported as soon as
    /// that many bytes of it are buffered.
    #[must_use]
    pub const fn with_max_line_len(mut self, bytes: usize) -> Self {
        self.max_line_len = if bytes == 0 { 1 } else { bytes };
        self
    }

    /// Sets the largest accepted event data, in bytes: the joined `data` values with their
    /// separating line feeds (and the one trailing line feed removed at dispatch).
    ///
    /// Larger data is [`Error::EventTooLarge`](crate::Error::EventTooLarge), reported at the
    /// `data` line that crosses the limit, as soon as that much of it is buffered. One `data`
    /// line may be as long as this.
    #[must_use]
    pub const fn with_max_event_len(mut self, bytes: usize) -> Self {
        self.max_event_len = bytes;
        self
    }

    /// The longest accepted `event`, `id` or `retry` line, in bytes.
    pub const fn max_line_len(&self) -> usize {
        self.max_line_len
    }

    /// The largest accepted event data, in bytes.
    pub const fn max_event_len(&self) -> usize {
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
        assert_eq!(c.max_line_len(), DEFAULT_MAX_LINE_LEN);
        assert_eq!(c.max_event_len(), DEFAULT_MAX_EVENT_LEN);
        let c = c.with_max_line_len(0).with_max_event_len(7);
        assert_eq!(c.max_line_len(), 1);
        assert_eq!(c.max_event_len(), 7);
    }
}
