//! Registrations the fan-out found after it had passed their start.
//!
//! A registration's start (`from`, the broker's head when it was made) is read before it is
//! stored, and the fan-out matches each batch against the registry as it is when the batch
//! comes: a batch matched between the two missed the registration, though it is owed every
//! event after its start. [`Late::look`] notices such a registration before the next batch is
//! matched; after that batch the fan-out goes back: it subscribes again from the registration's
//! start, matches the events up to where it had been only against the late registrations
//! ([`Late::matches`]), and then goes on as before. Nothing is delivered twice: the other
//! registrations are matched only against events past that point, a late registration only
//! against those it missed. While it goes back the fan-out's recorded cursor stays where it
//! had been ([`Late::passed`]).
//!
//! Bounded: it holds the ids of the active registrations (bounded by the registry) and, while
//! it goes back, the late ones with the position each is owed events up to.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use push_core::Cursor;

use super::Registration;

/// The registry's snapshot of its active registrations.
type Active = Arc<Vec<Arc<Registration>>>;

/// What the fan-out knows of the registrations it matched against, and where it goes back.
#[derive(Debug, Default)]
pub(super) struct Late {
    /// The snapshot last looked at (the registry swaps it whole on every change, so an
    /// unchanged one is not looked through again) and the ids in it.
    seen: Option<Active>,
    known: HashSet<String>,
    /// Late registrations and the position each is owed the events up to (the fan-out's
    /// cursor before the first batch matched against it).
    owed: HashMap<String, Cursor>,
    /// While going back: where the fan-out had been (the events up to it were matched for
    /// every registration but the late ones), and the last event passed since.
    resume: Option<Cursor>,
    at: Option<Cursor>,
}

/// What [`Late::look`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Look {
    /// No registration the fan-out passed the start of.
    Nothing,
    /// After this batch, go back to this cursor (subscribe again from it), then call
    /// [`Late::going_back`].
    GoBack(Cursor),
    /// A registration stored while the fan-out was going back for another one, whose start is
    /// before the replay's position: the events in between are missed (a gap to count).
    Missed,
}

impl Late {
    /// Takes `active` as matched from the fan-out's cursor on: the registrations it found when
    /// it started, or after an idle wait (which went back to their starts by itself).
    pub(super) fn know(&mut self, active: Active) {
        *self = Self::default();
        self.known = active.iter().map(|r| r.id.clone()).collect();
        self.seen = Some(active);
    }

    /// Forgets every registration (the registry emptied): the next ones found are all new.
    pub(super) fn forget(&mut self) {
        *self = Self::default();
    }

    /// Looks at `active` before a batch is matched at `position` (the fan-out's cursor before
    /// it): a registration not seen before whose start is before `position`, in its epoch, is
    /// late and owed the events after its start up to `position`.
    pub(super) fn look(&mut self, active: &Active, position: Cursor) -> Look {
        if self.seen.as_ref().is_some_and(|s| Arc::ptr_eq(s, active)) {
            return Look::Nothing;
        }
        let (mut back, mut missed) = (None::<Cursor>, false);
        for registration in active.iter() {
            if self.known.contains(&registration.id) {
                continue;
            }
            let Some(start) = registration.start() else {
                continue;
            };
            if start.epoch() != position.epoch() || start >= position {
                continue;
            }
            self.owed.insert(registration.id.clone(), position);
            match (self.resume, self.at) {
                // Going back already: what the replay passed is missed.
                (Some(_), Some(at)) if start < at => missed = true,
                (Some(_), _) => {}
                (None, _) => back = Some(back.map_or(start, |b| b.min(start))),
            }
        }
        self.known = active.iter().map(|r| r.id.clone()).collect();
        self.seen = Some(Arc::clone(active));
        match back {
            Some(cursor) => Look::GoBack(cursor),
            None if missed => Look::Missed,
            None => Look::Nothing,
        }
    }

    /// The fan-out goes back now to `start`, having been at `position`.
    pub(super) fn going_back(&mut self, position: Cursor, start: Cursor) {
        self.resume = Some(position);
        self.at = Some(start);
    }

    /// Where to subscribe again after the subscription fell behind: the last event passed
    /// while going back (or where it went back to), `None` otherwise (the fan-out's own
    /// cursor).
    pub(super) fn replay_at(&self) -> Option<Cursor> {
        self.resume.and(self.at)
    }

    /// Whether `registration` is matched against the event at `cursor`: always, but while the
    /// fan-out goes back, when only a late registration is, and only up to its position.
    pub(super) fn matches(&self, registration: &str, cursor: Cursor) -> bool {
        match self.resume {
            Some(resume) if cursor <= resume && cursor.epoch() == resume.epoch() => self
                .owed
                .get(registration)
                .is_some_and(|&upto| cursor <= upto),
            _ => true,
        }
    }

    /// The fan-out's cursor after the event (or gap) at `cursor`: where it had been while it
    /// goes back, `cursor` once at or past it (going back is over: a quiet system ends it on
    /// the event it had been at, so a registration found next is late again, not missed).
    pub(super) fn passed(&mut self, cursor: Cursor) -> Cursor {
        match self.resume {
            Some(resume) if cursor < resume && cursor.epoch() == resume.epoch() => {
                self.at = Some(cursor);
                resume
            }
            Some(_) => {
                (self.resume, self.at) = (None, None);
                self.owed.clear();
                cursor
            }
            None => cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::tests::registration;

    fn with_start(id: &str, start: Cursor) -> Arc<Registration> {
        let mut r = registration(id, &["a"], &["a"]);
        r.from = start.to_string();
        Arc::new(r)
    }

    fn c(offset: u64) -> Cursor {
        Cursor::new(7, offset)
    }

    #[test]
    fn a_registration_found_after_the_fan_out_passed_its_start_is_owed_only_what_it_missed() {
        let mut late = Late::default();
        late.know(Arc::new(vec![with_start("old", c(1))]));
        // Stored after a batch up to 10 was matched, started at 5.
        let active = Arc::new(vec![with_start("old", c(1)), with_start("new", c(5))]);
        assert_eq!(late.look(&active, c(10)), Look::GoBack(c(5)));
        // The batch at hand (11, 12) is matched for both, then the fan-out goes back.
        assert!(late.matches("old", c(11)) && late.matches("new", c(11)));
        assert_eq!(late.passed(c(12)), c(12));
        late.going_back(c(12), c(5));
        assert_eq!(late.replay_at(), Some(c(5)));
        // 6 ..= 10 for the late one only; 11, 12 for nobody; the cursor stays at 12.
        assert!(late.matches("new", c(6)) && !late.matches("old", c(6)));
        assert!(!late.matches("new", c(11)) && !late.matches("old", c(12)));
        assert_eq!(late.passed(c(11)), c(12));
        assert_eq!(late.replay_at(), Some(c(11)));
        // At 12, where it had been: going back is over; everyone again after it.
        assert_eq!(late.passed(c(12)), c(12));
        assert_eq!(late.replay_at(), None);
        assert!(late.matches("old", c(13)) && late.matches("new", c(13)));
        assert_eq!(late.passed(c(13)), c(13));
        assert!(late.matches("old", c(12)));
    }

    #[test]
    fn registrations_started_after_the_position_or_in_another_epoch_are_not_late() {
        let mut late = Late::default();
        late.know(Arc::new(Vec::new()));
        let active = Arc::new(vec![
            with_start("after", c(10)),
            with_start("elsewhere", Cursor::new(8, 1)),
        ]);
        assert_eq!(late.look(&active, c(10)), Look::Nothing);
        // Seen once: not looked at again.
        assert_eq!(late.look(&active, c(20)), Look::Nothing);
    }

    #[test]
    fn one_stored_while_going_back_misses_only_what_the_replay_passed() {
        let mut late = Late::default();
        late.know(Arc::new(Vec::new()));
        let first = Arc::new(vec![with_start("a", c(2))]);
        assert_eq!(late.look(&first, c(10)), Look::GoBack(c(2)));
        late.going_back(c(10), c(2));
        assert_eq!(late.passed(c(6)), c(10));
        let second = Arc::new(vec![with_start("a", c(2)), with_start("b", c(4))]);
        assert_eq!(late.look(&second, c(10)), Look::Missed);
        // It still gets what is ahead of the replay.
        assert!(late.matches("b", c(7)));
        let third = Arc::new(vec![
            with_start("a", c(2)),
            with_start("b", c(4)),
            with_start("c", c(8)),
        ]);
        assert_eq!(late.look(&third, c(10)), Look::Nothing);
        assert!(late.matches("c", c(9)));
    }
}
