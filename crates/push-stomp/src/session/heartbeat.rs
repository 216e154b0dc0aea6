//! The heart-beats of a session: a frame or a beat out at least every agreed interval, and a
//! peer silent for twice its interval found dead, without reading the clock per frame sent.
//!
//! The send side does not note when each frame went out (that would be a clock read per
//! `MESSAGE`, a few per cent of a fan-out's CPU). It notes only *that* something went out, and
//! checks the note every half interval: a check that finds nothing sent since the one before
//! queues a beat. So between two frames at most one interval passes: a frame sent at `s` falls
//! after some check `c` and at or before the next, `c + h` (`h` half the interval), which sees it
//! and clears the note; the check after that, `c + 2h`, sends a beat unless something else went
//! out, and `c + 2h - s < 2h`. An idle session beats once every interval, as before, and a busy
//! one wakes its timer every half interval instead of moving it on every frame.

use std::time::{Duration, Instant};

/// The heart-beat state of one session.
#[derive(Debug)]
pub(super) struct Heartbeat {
    /// How often the session must send something (zero: never agreed).
    send: Duration,
    /// How long the peer may stay silent: twice its agreed interval (zero: never agreed).
    allowance: Duration,
    /// When the send side next checks its note.
    check: Instant,
    /// Something went out since the last check.
    sent: bool,
    last_received: Instant,
    /// Either side was agreed (the common fan-out case has neither: one test per poll).
    agreed: bool,
}

/// What [`Heartbeat::on_timeout`] found due.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Due {
    Nothing,
    /// Nothing went out for an interval: send a beat.
    Beat,
    /// The peer has been silent past its allowance.
    Dead,
}

impl Heartbeat {
    /// No heart-beats agreed yet; the peer counts as heard from at `now`.
    pub(super) fn new(now: Instant) -> Self {
        Self {
            send: Duration::ZERO,
            allowance: Duration::ZERO,
            check: now,
            sent: false,
            last_received: now,
            agreed: false,
        }
    }

    /// The agreed intervals in milliseconds (send, receive; 0 is none), agreed in answer to
    /// bytes received last: the first check is half an interval after them.
    pub(super) fn agree(&mut self, (send, receive): (u64, u64)) {
        self.send = Duration::from_millis(send);
        self.allowance = Duration::from_millis(receive).saturating_mul(2);
        self.check = self.last_received + self.send / 2;
        self.agreed = send > 0 || receive > 0;
    }

    /// Bytes arrived from the peer at `now`.
    #[inline]
    pub(super) fn received(&mut self, now: Instant) {
        self.last_received = now;
    }

    /// Something went out: no beat is due at the next check.
    #[inline]
    pub(super) fn sent(&mut self) {
        self.sent = true;
    }

    /// When [`on_timeout`](Self::on_timeout) is due next; `None` when nothing was agreed.
    #[inline]
    pub(super) fn deadline(&self) -> Option<Instant> {
        if !self.agreed {
            return None;
        }
        let send = (!self.send.is_zero()).then_some(self.check);
        let receive = (!self.allowance.is_zero()).then(|| self.last_received + self.allowance);
        match (send, receive) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time has reached `now`: the peer is dead, a beat is due, or neither.
    pub(super) fn on_timeout(&mut self, now: Instant) -> Due {
        if !self.agreed {
            return Due::Nothing;
        }
        if !self.allowance.is_zero() && now >= self.last_received + self.allowance {
            return Due::Dead;
        }
        if self.send.is_zero() || now < self.check {
            return Due::Nothing;
        }
        self.check = now + self.send / 2;
        if core::mem::take(&mut self.sent) {
            Due::Nothing
        } else {
            Due::Beat
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks simulated time from deadline to deadline until `end`, sending a frame at each of
    /// `frames` (offsets from the start), and gives the offsets of everything sent: frames and
    /// beats.
    fn run(agreed: (u64, u64), frames: &[u64], end: u64) -> Vec<(u64, &'static str)> {
        // Simulated time: the clock is read once, for a starting point.
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut beat = Heartbeat::new(start);
        beat.agree(agreed);
        // `CONNECTED` goes out at once.
        beat.sent();
        let mut out = vec![(0, "frame")];
        let mut frames = frames.iter().copied().peekable();
        loop {
            let deadline = beat.deadline().unwrap();
            let next_frame = frames.peek().map(|&ms| at(ms));
            if let Some(frame) = next_frame.filter(|&f| f <= deadline) {
                frames.next();
                beat.sent();
                out.push((frame.duration_since(start).as_millis() as u64, "frame"));
                continue;
            }
            if deadline > at(end) {
                return out;
            }
            match beat.on_timeout(deadline) {
                Due::Beat => {
                    beat.sent();
                    out.push((deadline.duration_since(start).as_millis() as u64, "beat"));
                }
                Due::Nothing => {}
                Due::Dead => panic!("no receive side was agreed"),
            }
        }
    }

    #[test]
    fn an_idle_session_beats_once_every_interval() {
        let sent = run((10_000, 0), &[], 60_000);
        let times: Vec<u64> = sent.iter().map(|&(t, _)| t).collect();
        assert_eq!(times, [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
    }

    #[test]
    fn frames_closer_than_the_interval_need_no_beat() {
        let frames: Vec<u64> = (1..20).map(|n| n * 3_000).collect();
        let sent = run((10_000, 0), &frames, 57_000);
        assert!(sent.iter().all(|&(_, what)| what == "frame"), "{sent:?}");
    }

    #[test]
    fn nothing_goes_out_for_more_than_an_interval_whenever_frames_stop() {
        for last in (0..10_000).step_by(250) {
            let frames = [1_000, 2_500, 2_500 + last];
            let sent = run((10_000, 0), &frames, 80_000);
            let gaps = sent.windows(2).map(|w| w[1].0 - w[0].0);
            assert!(gaps.clone().all(|gap| gap <= 10_000), "{sent:?}");
            assert!(sent.len() >= 8, "the session went quiet: {sent:?}");
        }
    }

    #[test]
    fn a_peer_silent_past_twice_its_interval_is_dead() {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let mut beat = Heartbeat::new(start);
        beat.agree((0, 4_000));
        assert_eq!(beat.deadline(), Some(start + Duration::from_secs(8)));
        beat.received(start + Duration::from_secs(7));
        assert_eq!(
            beat.on_timeout(start + Duration::from_secs(8)),
            Due::Nothing
        );
        assert_eq!(beat.on_timeout(start + Duration::from_secs(15)), Due::Dead);
    }

    #[test]
    fn a_peer_interval_too_large_to_double_saturates() {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let mut beat = Heartbeat::new(start);
        beat.agree((0, u64::MAX));
        assert_eq!(
            beat.on_timeout(start + Duration::from_secs(3600)),
            Due::Nothing
        );
    }
}
