//! The journal and the restore: every publish is journalled before it is visible (a journal
//! failure refuses it: nothing stored, nothing delivered), evictions reach the journal so it
//! stays bounded, and a restore rebuilds the same epoch, offsets, retention ages and id index,
//! so every cursor resumes as it would have on the broker that wrote the journal.

use crate::support;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use push_broker::{Config, MemoryBroker, Record, RestoreError, Snapshot};
use push_core::{Cursor, Error, Event, Topic};
use support::{MemJournal, config, drain, subscribe, topic};

#[test]
fn a_publish_the_journal_refuses_is_not_stored_or_delivered() {
    let clock = Arc::new(Mutex::new(Instant::now()));
    let journal = MemJournal::new(&clock);
    let b = MemoryBroker::new(config(&clock).with_journal(journal.clone()));
    let mut sub = subscribe(&b, &["t"], None);
    b.publish_now(&topic("t"), Event::new("kept")).unwrap();
    journal.fail.store(true, Ordering::SeqCst);
    let refused = b.publish_to(&[topic("t"), topic("new")], Event::new("lost").with_id("x"));
    assert_eq!(refused, Err(Error::BrokerUnavailable));
    assert_eq!(drain(&mut sub), ["kept@1"], "a refused event was delivered");
    assert_eq!((b.head().offset(), b.retained(&topic("t"))), (1, 1));
    assert_eq!(b.resolve("x"), None);
    assert_eq!(
        b.topic_count(),
        1,
        "the refused publish left a topic behind"
    );
    // The offset was not used up: the journal and the broker agree on what came next.
    journal.fail.store(false, Ordering::SeqCst);
    let next = b.publish_now(&topic("t"), Event::new("next")).unwrap();
    assert_eq!(next.offset(), 2);
    assert_eq!(drain(&mut sub), ["next@2"]);
    assert_eq!(journal.offsets(), [1, 2]);
}

#[test]
fn evictions_reach_the_journal_so_it_stays_bounded() {
    let clock = Arc::new(Mutex::new(Instant::now()));
    let journal = MemJournal::new(&clock);
    let b = MemoryBroker::new(
        config(&clock)
            .with_history_count(2)
            .with_journal(journal.clone()),
    );
    for i in 0..50 {
        b.publish_now(&topic("t"), Event::new(format!("e{i}")))
            .unwrap();
        // An eviction is journalled with the next write: one publish behind at most.
        assert!(journal.offsets().len() <= 3, "{:?}", journal.offsets());
    }
    // A sweep hands over what is pending.
    let _ = b.sweep();
    assert_eq!(journal.offsets(), [49, 50]);
    assert_eq!(journal.snapshot().evicted_max, 48);
    // Age: everything expires, the journal forgets it all with the sweep.
    *clock.lock().unwrap() += Duration::from_secs(61);
    let _ = b.sweep();
    assert_eq!(journal.offsets(), Vec::<u64>::new());
    assert_eq!(journal.snapshot().head, 50);
}

/// A multi-topic event is forgotten only when its last topic lets it go.
#[test]
fn a_multi_topic_event_stays_journalled_while_a_topic_holds_it() {
    let clock = Arc::new(Mutex::new(Instant::now()));
    let journal = MemJournal::new(&clock);
    let b = MemoryBroker::new(
        config(&clock)
            .with_history_count(1)
            .with_journal(journal.clone()),
    );
    b.publish_to(&[topic("busy"), topic("quiet")], Event::new("both"))
        .unwrap();
    b.publish_now(&topic("busy"), Event::new("b1")).unwrap();
    b.publish_now(&topic("busy"), Event::new("b2")).unwrap();
    let _ = b.sweep();
    assert_eq!(journal.offsets(), [1, 3]);
    b.publish_now(&topic("quiet"), Event::new("q1")).unwrap();
    let _ = b.sweep();
    assert_eq!(journal.offsets(), [3, 4]);
}

/// The broker that wrote the journal and the one restored from it answer every cursor alike.
#[test]
fn a_restored_broker_resumes_every_cursor_as_the_original() {
    let clock = Arc::new(Mutex::new(Instant::now()));
    let journal = MemJournal::new(&clock);
    let cfg = config(&clock).with_history_count(3);
    let original = MemoryBroker::new(cfg.clone().with_journal(journal.clone()));
    let publish = |topics: &[&str], data: &str, id: &str| {
        let topics: Vec<Topic> = topics.iter().map(|t| topic(t)).collect();
        original
            .publish_to(&topics, Event::new(data.to_owned()).with_id(id))
            .unwrap()
    };
    publish(&["q"], "q1", "id-q1");
    for i in 1..=5 {
        publish(&["a"], &format!("a{i}"), &format!("id-a{i}"));
    }
    publish(&["a", "q"], "both", "dup");
    publish(&["q"], "q2", "dup");
    let snapshot = journal.snapshot();
    let restored = MemoryBroker::restore(
        cfg.with_journal(journal.clone()),
        original.epoch(),
        snapshot,
    )
    .unwrap();
    assert_eq!(restored.epoch(), original.epoch());
    assert_eq!(restored.head(), original.head());
    for id in ["id-q1", "id-a1", "id-a3", "id-a5", "dup", "nope"] {
        assert_eq!(restored.resolve(id), original.resolve(id), "{id}");
    }
    for topic_set in [&["a"][..], &["q"], &["a", "q"]] {
        for offset in 0..=original.head().offset() + 1 {
            let from = Some(Cursor::new(original.epoch(), offset));
            let want = drain(&mut subscribe(&original, topic_set, from));
            let got = drain(&mut subscribe(&restored, topic_set, from));
            assert_eq!(got, want, "{topic_set:?} from {offset}");
        }
    }
    // New events continue the offsets, journalled as before.
    let next = restored
        .publish_now(&topic("q"), Event::new("after"))
        .unwrap();
    assert_eq!(next.offset(), original.head().offset() + 1);
    assert_eq!(journal.snapshot().head, next.offset());
}

#[test]
fn a_restore_keeps_each_events_age() {
    let clock = Arc::new(Mutex::new(Instant::now()));
    let journal = MemJournal::new(&clock);
    let cfg = config(&clock).with_history_age(Duration::from_secs(10));
    let original = MemoryBroker::new(cfg.clone().with_journal(journal.clone()));
    original
        .publish_now(&topic("t"), Event::new("old"))
        .unwrap();
    *clock.lock().unwrap() += Duration::from_secs(6);
    original
        .publish_now(&topic("t"), Event::new("new"))
        .unwrap();
    *clock.lock().unwrap() += Duration::from_secs(1);
    let restored =
        MemoryBroker::restore(cfg.with_journal(journal.clone()), 7, journal.snapshot()).unwrap();
    assert_eq!(restored.retained(&topic("t")), 2);
    // "old" is 7 s old: it has 3 s left, "new" 9 s.
    *clock.lock().unwrap() += Duration::from_secs(4);
    let _ = restored.sweep();
    assert_eq!(restored.retained(&topic("t")), 1);
    assert_eq!(journal.offsets(), [2]);
    *clock.lock().unwrap() += Duration::from_secs(5);
    let _ = restored.sweep();
    assert_eq!(
        restored.retained(&topic("t")),
        1,
        "due only once strictly older"
    );
    *clock.lock().unwrap() += Duration::from_millis(1);
    let _ = restored.sweep();
    assert_eq!(restored.retained(&topic("t")), 0);
}

/// A restore under smaller limits keeps what they allow, and the journal forgets the rest.
#[test]
fn a_restore_applies_the_current_bounds() {
    let clock = Arc::new(Mutex::new(Instant::now()));
    let journal = MemJournal::new(&clock);
    let original = MemoryBroker::new(config(&clock).with_journal(journal.clone()));
    for i in 0..10 {
        original
            .publish_now(&topic("t"), Event::new(format!("e{i}")))
            .unwrap();
    }
    let smaller = config(&clock)
        .with_history_count(4)
        .with_journal(journal.clone());
    let restored = MemoryBroker::restore(smaller, 1, journal.snapshot()).unwrap();
    assert_eq!(restored.retained(&topic("t")), 4);
    assert_eq!(journal.offsets(), [7, 8, 9, 10]);
    let mut sub = subscribe(&restored, &["t"], Some(Cursor::new(1, 2)));
    assert_eq!(
        drain(&mut sub),
        ["gap:evicted@6", "e6@7", "e7@8", "e8@9", "e9@10"]
    );
}

/// With nothing retained, the head and the loss survive: offsets are never reused, and an old
/// cursor is told it lost events.
#[test]
fn an_empty_history_keeps_its_head_and_its_loss() {
    let clock = Arc::new(Mutex::new(Instant::now()));
    let snapshot = Snapshot {
        head: 10,
        evicted_max: 10,
        records: Vec::new(),
    };
    let b = MemoryBroker::restore(config(&clock), 5, snapshot).unwrap();
    assert_eq!(b.head(), Cursor::new(5, 10));
    let mut sub = subscribe(&b, &["t"], Some(Cursor::new(5, 4)));
    let next = b.publish_now(&topic("t"), Event::new("x")).unwrap();
    assert_eq!(next, Cursor::new(5, 11));
    assert_eq!(drain(&mut sub), ["gap:evicted@10", "x@11"]);
}

#[test]
fn a_snapshot_no_broker_could_write_is_refused() {
    let record = |offset: u64, topics: &[&str]| Record {
        offset,
        topics: topics.iter().map(|t| topic(t)).collect(),
        event: Event::new("x"),
        age: Duration::ZERO,
    };
    let restore = |records| {
        let snapshot = Snapshot {
            head: 9,
            evicted_max: 0,
            records,
        };
        MemoryBroker::restore(Config::default(), 1, snapshot).map(|_| ())
    };
    assert_eq!(
        restore(vec![record(2, &["t"]), record(2, &["t"])]),
        Err(RestoreError::OutOfOrder { offset: 2 })
    );
    assert_eq!(
        restore(vec![record(0, &["t"])]),
        Err(RestoreError::OutOfOrder { offset: 0 })
    );
    assert_eq!(
        restore(vec![record(1, &[])]),
        Err(RestoreError::NoTopic { offset: 1 })
    );
    assert_eq!(
        restore(vec![record(1, &["t"]), record(3, &["u", "t"])]),
        Ok(())
    );
}
