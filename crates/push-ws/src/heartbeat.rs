//! Dead-peer detection as a sans-IO state machine: time goes in, "send a ping" or "the peer is
//! dead" comes out.

use std::time::{Duration, Instant};

/// What the [`Heartbeat`] asks the connection to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Beat {
    /// Send a ping with this payload.
    Ping([u8; 8]),
    /// Nothing was received since the last ping and its deadline passed: close the connection.
    Dead,
}

/// Pings a peer every `interval` and declares it dead when nothing comes back within `timeout`.
///
/// Anything received from the peer (a pong, but also a message or a ping) proves it is alive:
/// a busy peer is never closed for answering a ping late behind its own messages.
///
/// ```
/// use std::time::{Duration, Instant};
/// use push_ws::{Beat, Heartbeat};
///
/// let t0 = Instant::now();
/// let mut hb = Heartbeat::new(t0, Duration::from_secs(30), Duration::from_secs(10));
/// assert_eq!(hb.poll_timeout(), t0 + Duration::from_secs(30));
/// let Some(Beat::Ping(payload)) = hb.handle_timeout(t0 + Duration::from_secs(30)) else { panic!() };
/// // No answer within 10 s: dead.
/// assert_eq!(hb.poll_timeout(), t0 + Duration::from_secs(40));
/// assert_eq!(hb.handle_timeout(t0 + Duration::from_secs(40)), Some(Beat::Dead));
/// # let _ = payload;
/// ```
#[derive(Clone, Debug)]
pub struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    /// When the next ping is due (when not awaiting an answer).
    next_ping: Instant,
    /// The deadline of the outstanding ping, if one is.
    awaiting: Option<Instant>,
    sent: u64,
}

impl Heartbeat {
    /// A heartbeat starting at `now`: first ping at `now + interval`.
    pub fn new(now: Instant, interval: Duration, timeout: Duration) -> Self {
        Self {
            interval,
            timeout,
            next_ping: now + interval,
            awaiting: None,
            sent: 0,
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Instant {
        self.awaiting.unwrap_or(self.next_ping)
    }

    /// Advances to `now`. Returns a ping to send when one is due, or [`Beat::Dead`] when the
    /// outstanding ping went unanswered past its deadline. Call again after
    /// [`poll_timeout`](Self::poll_timeout) passes.
    #[must_use]
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Beat> {
        match self.awaiting {
            Some(deadline) if now >= deadline => Some(Beat::Dead),
            Some(_) => None,
            None if now >= self.next_ping => {
                self.sent += 1;
                self.awaiting = Some(now + self.timeout);
                Some(Beat::Ping(self.sent.to_be_bytes()))
            }
            None => None,
        }
    }

    /// Records that something arrived from the peer at `now`: it is alive, the next ping is
    /// due `interval` later.
    pub fn handle_received(&mut self, now: Instant) {
        self.awaiting = None;
        self.next_ping = now + self.interval;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answered_pings_keep_the_peer_alive() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut hb = Heartbeat::new(t0, s(5), s(2));
        assert_eq!(hb.handle_timeout(t0 + s(4)), None);
        assert_eq!(
            hb.handle_timeout(t0 + s(5)),
            Some(Beat::Ping(1u64.to_be_bytes()))
        );
        assert_eq!(hb.handle_timeout(t0 + s(6)), None);
        hb.handle_received(t0 + s(6));
        assert_eq!(hb.poll_timeout(), t0 + s(11));
        assert_eq!(
            hb.handle_timeout(t0 + s(11)),
            Some(Beat::Ping(2u64.to_be_bytes()))
        );
        assert_eq!(hb.handle_timeout(t0 + s(13)), Some(Beat::Dead));
    }

    #[test]
    fn traffic_postpones_the_ping() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut hb = Heartbeat::new(t0, s(5), s(2));
        hb.handle_received(t0 + s(3));
        assert_eq!(hb.handle_timeout(t0 + s(5)), None);
        assert_eq!(hb.poll_timeout(), t0 + s(8));
    }
}
