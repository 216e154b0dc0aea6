//! `Pace`: when a stream's batch of frames is written, counted in the runtime's turns.
//!
//! Each write to a socket costs far more than the bytes it carries (on loopback, about as much
//! as the receiver's whole TCP receive path), so a subscriber of a busy topic should write
//! several events at once; a subscriber of a quiet one should write its lone event at once.
//! No clock decides between them, and no timer per connection: a batch waits in *turns* — a
//! turn hands the worker thread back to the runtime, which polls every other ready task and
//! its I/O driver (the publisher's next request among them) before this one again.
//!
//! - A new batch waits one turn: the events published in that turn join it.
//! - It waits another each time a turn brought events: a burst is still going on.
//! - After a batch grew while it waited (the stream is in a burst), the next one also waits
//!   through a few turns that bring nothing: in a burst the next event is often one request
//!   away, and a turn that only polls costs a fraction of the write it saves.
//! - Never more than [`MAX_TURNS`] turns: on a busy runtime a turn can be long.
//!
//! On an idle runtime a turn is the time it takes to poll the task again, so a lone event
//! waits for nothing but the tasks that were ready anyway.

/// The most turns a batch waits before it is written.
pub(crate) const MAX_TURNS: u8 = 32;

/// The turns that bring nothing a batch still waits through while the stream is in a burst.
pub(crate) const PATIENCE: u8 = 16;

/// A batch's waiting so far, and whether the last one grew while it waited.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Pace {
    /// Turns this batch has waited.
    turns: u8,
    /// Of those, turns that brought no frame.
    quiet: u8,
    /// This batch grew after its first turn.
    grew: bool,
    /// The last batch written grew while it waited: the stream is in a burst.
    burst: bool,
}

impl Pace {
    /// Whether the batch waits another turn, given whether frames `came` since the last poll.
    /// The caller waits the turn when it says so (and writes otherwise).
    pub(crate) fn wait(&mut self, came: bool) -> bool {
        if self.turns > 0 {
            if came {
                self.grew = true;
            } else {
                self.quiet += 1;
            }
        }
        let patience = if self.burst { PATIENCE } else { 0 };
        let wait = self.turns == 0 || (self.turns < MAX_TURNS && (came || self.quiet <= patience));
        if wait {
            self.turns += 1;
        }
        wait
    }

    /// The batch was written: the next one starts afresh.
    pub(crate) fn wrote(&mut self) {
        *self = Self {
            burst: self.grew,
            ..Self::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The turns a batch waits when frames come in the given polls (the first: the frame that
    /// started the batch).
    fn turns(pace: &mut Pace, comes: &[bool]) -> usize {
        for (waited, &came) in comes.iter().enumerate() {
            if !pace.wait(came) {
                pace.wrote();
                return waited;
            }
        }
        panic!("still waiting after {comes:?}");
    }

    #[test]
    fn a_lone_event_waits_one_turn() {
        let mut pace = Pace::default();
        assert_eq!(turns(&mut pace, &[true, false]), 1);
        // And so does the next: the stream is not in a burst.
        assert_eq!(turns(&mut pace, &[true, false]), 1);
    }

    #[test]
    fn a_batch_waits_while_events_come() {
        let mut pace = Pace::default();
        assert_eq!(turns(&mut pace, &[true, true, true, false]), 3);
    }

    #[test]
    fn after_a_burst_a_batch_waits_through_a_few_quiet_turns() {
        let mut pace = Pace::default();
        assert_eq!(turns(&mut pace, &[true, true, false]), 2);
        let quiet = vec![false; usize::from(PATIENCE) + 1];
        let comes: Vec<bool> = std::iter::once(true).chain(quiet).collect();
        assert_eq!(turns(&mut pace, &comes), usize::from(PATIENCE) + 1);
        // That batch did not grow: the burst is over, the next waits one turn.
        assert_eq!(turns(&mut pace, &[true, false]), 1);
    }

    #[test]
    fn no_batch_waits_more_than_the_most_turns() {
        let mut pace = Pace::default();
        let always = vec![true; usize::from(MAX_TURNS) * 2];
        assert_eq!(turns(&mut pace, &always), usize::from(MAX_TURNS));
    }
}
