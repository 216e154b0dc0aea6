//! The pool shared by the connections of one [`Config`](super::Config) for the bytes
//! of unfinished incoming messages beyond each connection's own share, the limits a
//! [`FrameMeter`](super::meter::FrameMeter) keeps, and its verdicts.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The pool shared by the connections of one [`Config`](super::Config) (and its
/// clones): bytes received into unfinished incoming messages beyond each connection's share.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    in_use: AtomicUsize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            in_use: AtomicUsize::new(0),
        })
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    pub(crate) fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    /// Takes `bytes` if they fit under the limit.
    pub(crate) fn reserve(&self, bytes: usize) -> bool {
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    pub(crate) fn release(&self, bytes: usize) {
        // Only what was reserved is released, so this never goes below zero.
        self.in_use.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// What one connection's meter enforces (from its [`Config`](super::Config)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The largest frame tungstenite accepts (the frame limit, at most the message limit).
    pub(crate) max_frame: u64,
    /// The largest message tungstenite accepts.
    pub(crate) max_message: u64,
    /// The most data frames of one message.
    pub(crate) max_frames: u32,
    /// The bytes of an unfinished message that never draw on the shared pool.
    pub(crate) share: usize,
}

/// Why the meter stopped a connection; the runner closes with [`Exceeded::close_code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exceeded {
    /// The connection holds more than its share and the shared pool has no room (1009).
    Budget,
    /// A frame header declares more than the frame or message limit allows (1009).
    TooLarge,
    /// A control frame header declares more than RFC 6455's 125 bytes (1002).
    Control,
    /// A message arrived in more frames than allowed (1008).
    Frames,
}

impl Exceeded {
    pub(crate) fn close_code(self) -> u16 {
        match self {
            Self::Budget | Self::TooLarge => 1009,
            Self::Control => 1002,
            Self::Frames => 1008,
        }
    }

    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Budget => "server busy: unfinished messages over budget",
            Self::TooLarge => "frame or message too large",
            Self::Control => "control frame over 125 bytes",
            Self::Frames => "too many frames in one message",
        }
    }

    /// The meter's verdict carried by an I/O error (the only way out of tungstenite's read).
    pub(crate) fn from_io(error: &std::io::Error) -> Option<Self> {
        error.get_ref()?.downcast_ref::<Self>().copied()
    }
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for Exceeded {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_refuses_what_does_not_fit_and_takes_back_what_is_released() {
        let budget = Budget::new(100);
        assert!(budget.reserve(60));
        assert!(!budget.reserve(41));
        assert!(budget.reserve(40));
        assert!(!budget.reserve(usize::MAX), "no overflow");
        budget.release(100);
        assert_eq!((budget.in_use(), budget.limit()), (0, 100));
    }

    #[test]
    fn the_verdict_survives_the_trip_through_an_io_error() {
        let error = std::io::Error::other(Exceeded::Frames);
        assert_eq!(Exceeded::from_io(&error), Some(Exceeded::Frames));
        assert_eq!(Exceeded::from_io(&std::io::Error::other("x")), None);
        assert_eq!(Exceeded::Budget.close_code(), 1009);
        assert_eq!(Exceeded::TooLarge.close_code(), 1009);
        assert_eq!(Exceeded::Control.close_code(), 1002);
    }
}
