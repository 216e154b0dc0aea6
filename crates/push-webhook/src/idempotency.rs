//! The receiver's idempotency helper: a handler runs once per `webhook-id` within a window.
//!
//! An id counts as seen only after its handler **succeeded**: a handler that fails (and answers
//! non-2xx, so the sender retries) leaves no trace, and the retry runs it again. While a handler
//! runs, the id is *in flight*: a concurrent retry of the same id is told so (answer it with a
//! non-2xx such as `409` or `503`, and the sender retries later) rather than run twice.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The default window: one hour. It covers the sender's fast phase and its first durable
/// retries (5 s, 5 min, 30 min), the ones that follow a response lost on the way back.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60 * 60);

/// The default number of ids held: 100 000, about 10 MB with 31-byte ids, one hour at ~28
/// deliveries per second. Past it the oldest seen id is forgotten first.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// What [`Idempotency::begin`] found.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub enum Begin {
    /// Not seen: run the handler, then hand the claim to [`Idempotency::succeeded`] or
    /// [`Idempotency::failed`].
    New(Claim),
    /// Already handled successfully within the window: answer 2xx without running it again.
    Duplicate,
    /// A handler for this id is running now: answer non-2xx, the sender retries.
    InFlight,
    /// As many handlers are in flight as the capacity allows: answer `503`.
    Busy,
}

/// The right to run the handler of one id, handed back when it ends.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "hand the claim to `succeeded` or `failed`, or the id stays in flight"]
pub struct Claim {
    id: String,
}

impl Claim {
    /// The id claimed.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Remembers handled ids for a window, bounded by a capacity. Reads no clock: `now` is an
/// argument, and must not go backwards between calls.
#[derive(Debug)]
pub struct Idempotency {
    window: Duration,
    capacity: usize,
    /// id → when it was recorded (`None` while in flight).
    ids: HashMap<String, Option<Instant>>,
    /// Seen ids, oldest first.
    order: VecDeque<(Instant, String)>,
    in_flight: usize,
}

impl Default for Idempotency {
    fn default() -> Self {
        Self::new(DEFAULT_WINDOW, DEFAULT_CAPACITY)
    }
}

impl Idempotency {
    /// Remembers ids for `window`, at most `capacity` of them (at least one).
    #[must_use]
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            ids: HashMap::new(),
            order: VecDeque::new(),
            in_flight: 0,
        }
    }

    /// Looks `id` up; when new, claims it for the caller's handler.
    pub fn begin(&mut self, id: &str, now: Instant) -> Begin {
        self.expire(now);
        match self.ids.get(id) {
            Some(Some(_)) => return Begin::Duplicate,
            Some(None) => return Begin::InFlight,
            None => {}
        }
        if self.in_flight >= self.capacity {
            return Begin::Busy;
        }
        if self.ids.len() >= self.capacity {
            self.forget_oldest();
        }
        self.ids.insert(id.to_owned(), None);
        self.in_flight += 1;
        Begin::New(Claim { id: id.to_owned() })
    }

    /// The handler succeeded: from now on the id is a duplicate, for the window.
    pub fn succeeded(&mut self, claim: Claim, now: Instant) {
        if let Some(slot) = self.ids.get_mut(&claim.id) {
            if slot.is_none() {
                self.in_flight -= 1;
            }
            *slot = Some(now);
            self.order.push_back((now, claim.id));
        }
    }

    /// The handler failed: the id is forgotten, and a retry runs it again.
    pub fn failed(&mut self, claim: Claim) {
        if let Some(None) = self.ids.get(&claim.id) {
            self.ids.remove(&claim.id);
            self.in_flight -= 1;
        }
    }

    /// Runs `handler` once per id: `Ok(Some(value))` when it ran and succeeded, `Ok(None)` when
    /// it did not run (a duplicate; or, with claims of [`begin`](Self::begin) held elsewhere, in
    /// flight or busy); its error when it failed, and the id stays unseen.
    ///
    /// # Errors
    /// The handler's error.
    pub fn run<T, E>(
        &mut self,
        id: &str,
        now: Instant,
        handler: impl FnOnce() -> Result<T, E>,
    ) -> Result<Option<T>, E> {
        match self.begin(id, now) {
            Begin::New(claim) => match handler() {
                Ok(value) => {
                    self.succeeded(claim, now);
                    Ok(Some(value))
                }
                Err(e) => {
                    self.failed(claim);
                    Err(e)
                }
            },
            Begin::Duplicate | Begin::InFlight | Begin::Busy => Ok(None),
        }
    }

    /// How many ids are held (seen and in flight).
    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no id is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn expire(&mut self, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_duration_since(*at) < self.window {
                break;
            }
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        while let Some((at, id)) = self.order.pop_front() {
            // Only the entry recorded at this time: an id recorded again later stays.
            if self.ids.get(&id) == Some(&Some(at)) {
                self.ids.remove(&id);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed origin for simulated time (any instant will do; the tests only add to it).
    fn origin() -> Instant {
        #[expect(
            clippy::disallowed_methods,
            reason = "an arbitrary origin, never compared to the clock"
        )]
        Instant::now()
    }

    #[test]
    fn a_handler_runs_once_and_only_success_is_recorded() {
        let t0 = origin();
        let mut seen = Idempotency::default();
        let mut runs = 0;
        // The first attempt fails: nothing is recorded.
        let first: Result<Option<()>, &str> = seen.run("msg_a", t0, || {
            runs += 1;
            Err("database down")
        });
        assert_eq!(first, Err("database down"));
        assert!(seen.is_empty());
        // The retry runs it again and succeeds; later retries are duplicates.
        for _ in 0..3 {
            let r: Result<Option<()>, &str> = seen.run("msg_a", t0, || {
                runs += 1;
                Ok(())
            });
            assert!(r.is_ok());
        }
        assert_eq!(runs, 2);
    }

    #[test]
    fn a_concurrent_retry_is_in_flight_not_run_twice() {
        let t0 = origin();
        let mut seen = Idempotency::default();
        let Begin::New(claim) = seen.begin("msg_a", t0) else {
            panic!("new id")
        };
        assert_eq!(seen.begin("msg_a", t0), Begin::InFlight);
        seen.failed(claim);
        let Begin::New(claim) = seen.begin("msg_a", t0) else {
            panic!("a failed id is new again")
        };
        assert_eq!(claim.id(), "msg_a");
        seen.succeeded(claim, t0);
        assert_eq!(seen.begin("msg_a", t0), Begin::Duplicate);
    }

    #[test]
    fn ids_expire_after_the_window_and_capacity_bounds_memory() {
        let t0 = origin();
        let mut seen = Idempotency::new(Duration::from_secs(60), 3);
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            let Begin::New(claim) = seen.begin(id, t0 + Duration::from_secs(i as u64)) else {
                panic!()
            };
            seen.succeeded(claim, t0 + Duration::from_secs(i as u64));
        }
        // A fourth id evicts the oldest.
        let Begin::New(claim) = seen.begin("d", t0 + Duration::from_secs(3)) else {
            panic!()
        };
        seen.succeeded(claim, t0 + Duration::from_secs(3));
        assert_eq!(seen.len(), 3);
        assert_eq!(
            seen.begin("b", t0 + Duration::from_secs(4)),
            Begin::Duplicate
        );
        // Past the window, "b" is new again.
        assert!(matches!(
            seen.begin("b", t0 + Duration::from_secs(62)),
            Begin::New(_)
        ));
        // In-flight ids are bounded by the capacity too.
        let mut full = Idempotency::new(Duration::from_secs(60), 2);
        let _a = full.begin("x", t0);
        let _b = full.begin("y", t0);
        assert_eq!(full.begin("z", t0), Begin::Busy);
    }
}
