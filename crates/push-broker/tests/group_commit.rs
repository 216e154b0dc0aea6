//! The group commit: with a journal, publishes made while a commit runs share the next one.

use crate::support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use push_broker::MemoryBroker;
use push_core::{Error, Event};
use support::{MemJournal, config, drain, subscribe, topic};

/// The group commit: publishes made while a commit runs share the next one (one journal call
/// for all of them), none resolves before the commit that holds it, none is visible before it,
/// and they keep the order they were made in.
#[tokio::test]
async fn concurrent_publishes_share_one_commit_and_wait_for_it() {
    use futures_util::FutureExt as _;
    use push_core::Broker as _;

    let clock = Arc::new(Mutex::new(Instant::now()));
    let journal = MemJournal::new(&clock);
    let b = MemoryBroker::new(config(&clock).with_journal(journal.clone()));
    let mut sub = subscribe(&b, &["t"], None);
    let t = [topic("t")];
    journal.gate.shut();
    let mut first = Box::pin(b.publish(&t, Event::new("0")));
    // The committer holds the first publish in its commit, which waits at the shut door.
    journal.gate.until_waited();
    let mut rest: Vec<_> = (1..=10)
        .map(|i| Box::pin(b.publish(&t, Event::new(i.to_string()))))
        .collect();
    assert!(
        (&mut first).now_or_never().is_none(),
        "acknowledged before its commit"
    );
    assert!(rest.iter_mut().all(|p| p.now_or_never().is_none()));
    assert_eq!(
        drain(&mut sub),
        Vec::<String>::new(),
        "visible before its commit"
    );
    assert_eq!(b.head().offset(), 0);
    journal.gate.open();
    assert_eq!(first.await.unwrap().offset(), 1);
    let mut offsets = Vec::new();
    for p in rest {
        offsets.push(p.await.unwrap().offset());
    }
    assert_eq!(offsets, (2..=11).collect::<Vec<_>>());
    // The first commit held the first publish, the second the ten made meanwhile.
    assert_eq!(journal.commits.load(Ordering::SeqCst), 2);
    assert_eq!(journal.offsets(), (1..=11).collect::<Vec<_>>());
    let seen = drain(&mut sub);
    let expected: Vec<_> = (0..=10).map(|i| format!("{i}@{}", i + 1)).collect();
    assert_eq!(seen, expected);
}

/// A group is all or nothing for the journal: a refused commit refuses each of its publishes,
/// stores and delivers none; the topic limit is still each publish's own.
#[tokio::test]
async fn a_refused_group_commit_refuses_each_publish_and_the_topic_limit_stays_per_publish() {
    use push_core::Broker as _;

    let clock = Arc::new(Mutex::new(Instant::now()));
    let journal = MemJournal::new(&clock);
    let b = MemoryBroker::new(
        config(&clock)
            .with_max_topics(2)
            .with_journal(journal.clone()),
    );
    let mut sub = subscribe(&b, &["a", "b", "c"], None);
    let (a, bt, c) = ([topic("a")], [topic("b")], [topic("c")]);
    journal.gate.shut();
    let first = b.publish(&a, Event::new("a0"));
    journal.gate.until_waited();
    // Queued together: b takes the second topic, c would be a third (refused on its own),
    // a again needs no new topic.
    let group = [
        b.publish(&bt, Event::new("b1")),
        b.publish(&c, Event::new("c1")),
        b.publish(&a, Event::new("a1")),
    ];
    journal.gate.open();
    assert_eq!(first.await.unwrap().offset(), 1);
    let [pb, pc, pa] = group;
    assert_eq!(pb.await.unwrap().offset(), 2);
    assert_eq!(pc.await, Err(Error::TopicLimit));
    assert_eq!(pa.await.unwrap().offset(), 3);
    assert_eq!(drain(&mut sub), ["a0@1", "b1@2", "a1@3"]);

    journal.fail.store(true, Ordering::SeqCst);
    journal.gate.shut();
    let first = b.publish(&a, Event::new("lost0"));
    journal.gate.until_waited();
    let second = b.publish(&bt, Event::new("lost1"));
    journal.gate.open();
    assert_eq!(first.await, Err(Error::BrokerUnavailable));
    assert_eq!(second.await, Err(Error::BrokerUnavailable));
    assert_eq!(drain(&mut sub), Vec::<String>::new());
    assert_eq!(b.head().offset(), 3);
    assert_eq!(journal.offsets(), [1, 2, 3]);
    journal.fail.store(false, Ordering::SeqCst);
    assert_eq!(b.publish(&a, Event::new("a2")).await.unwrap().offset(), 4);
}
