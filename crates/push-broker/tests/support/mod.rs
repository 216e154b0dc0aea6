//! A journal in memory for the journal and group-commit tests, and their helpers.

#![allow(dead_code)] // each test file uses its part

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use push_broker::{
    Config, Evicted, Journal, JournalError, MemoryBroker, MemorySubscription, Record, Snapshot,
};
use push_core::{Access, Cursor, Event, Published, Selector, Topic};
pub(crate) use push_test_support::gate::Gate;

pub(crate) type Clock = Arc<Mutex<Instant>>;

/// A journal in memory, as a store would keep it: records by offset, the head, the highest
/// eviction. Its clock is the broker's, so ages are exact.
#[derive(Debug)]
pub(crate) struct MemJournal {
    pub(crate) clock: Clock,
    pub(crate) fail: AtomicBool,
    state: Mutex<State>,
    /// Appends wait while it is shut (a disk busy syncing).
    pub(crate) gate: Gate,
    /// How many appends (commits) were made.
    pub(crate) commits: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    records: BTreeMap<u64, (Vec<Topic>, Event, Instant)>,
    head: u64,
    evicted_max: u64,
}

impl MemJournal {
    pub(crate) fn new(clock: &Clock) -> Arc<Self> {
        Arc::new(Self {
            clock: Arc::clone(clock),
            fail: AtomicBool::new(false),
            state: Mutex::default(),
            gate: Gate::default(),
            commits: AtomicUsize::new(0),
        })
    }

    fn forget_in(state: &mut State, evicted: Evicted<'_>) {
        for offset in evicted.offsets {
            state.records.remove(offset);
        }
        state.evicted_max = state.evicted_max.max(evicted.evicted_max);
    }

    pub(crate) fn offsets(&self) -> Vec<u64> {
        self.state.lock().unwrap().records.keys().copied().collect()
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let now = *self.clock.lock().unwrap();
        let state = self.state.lock().unwrap();
        Snapshot {
            head: state.head,
            evicted_max: state.evicted_max,
            records: state
                .records
                .iter()
                .map(|(&offset, (topics, event, at))| Record {
                    offset,
                    topics: topics.clone(),
                    event: event.clone(),
                    age: now - *at,
                })
                .collect(),
        }
    }
}

impl Journal for MemJournal {
    fn append(
        &self,
        published: &[Arc<Published>],
        evicted: Evicted<'_>,
    ) -> Result<(), JournalError> {
        self.gate.pass();
        self.commits.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err("disk full".into());
        }
        let mut state = self.state.lock().unwrap();
        Self::forget_in(&mut state, evicted);
        let at = *self.clock.lock().unwrap();
        for published in published {
            let offset = published.cursor().offset();
            let record = (published.topics().to_vec(), published.event().clone(), at);
            state.records.insert(offset, record);
            state.head = offset;
        }
        Ok(())
    }

    fn forget(&self, evicted: Evicted<'_>) -> Result<(), JournalError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err("disk full".into());
        }
        Self::forget_in(&mut self.state.lock().unwrap(), evicted);
        Ok(())
    }
}

pub(crate) fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

pub(crate) fn config(clock: &Clock) -> Config {
    let hand = Arc::clone(clock);
    Config::default()
        .with_history_age(Duration::from_secs(60))
        .with_clock(move || *hand.lock().unwrap())
}

pub(crate) fn subscribe(
    b: &MemoryBroker,
    topics: &[&str],
    from: Option<Cursor>,
) -> MemorySubscription {
    let selector = Selector::new(topics.iter().map(|t| topic(t)).collect::<Vec<_>>()).unwrap();
    b.subscribe(&selector, from, &Access::public()).unwrap()
}

/// Everything ready now, as short strings.
pub(crate) fn drain(sub: &mut MemorySubscription) -> Vec<String> {
    push_test_support::deliveries::drain(|| sub.try_recv())
}
