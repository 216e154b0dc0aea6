//! The broker's delivery contract, one rule per test.

use std::sync::Arc;

use futures_util::StreamExt;
use push_broker::{Config, MemoryBroker, MemorySubscription, Overflow};
use push_core::{CloseReason, Cursor, Delivery, Error, Event, Selector, Topic};

fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

fn publish(b: &MemoryBroker, t: &str, data: &str) -> Cursor {
    b.publish_now(&topic(t), Event::new(data.to_owned()))
        .unwrap()
}

/// Everything ready now, as short strings: data for events, "gap:REASON@OFFSET" for gaps.
fn drain(sub: &mut MemorySubscription) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(d) = sub.try_recv() {
        out.push(match d {
            Delivery::Event(p) => String::from_utf8(p.event().data.to_vec()).unwrap(),
            Delivery::Gap(g) => format!("gap:{}@{}", g.reason.as_str(), g.resume.offset()),
            Delivery::Closed(r) => format!("closed:{}", r.as_str()),
        });
    }
    out
}

#[test]
fn live_subscription_gets_only_new_events_in_order() {
    let b = MemoryBroker::default();
    publish(&b, "a", "old");
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    assert_eq!(sub.cursor(), b.head());
    assert!(drain(&mut sub).is_empty());
    publish(&b, "a", "1");
    publish(&b, "b", "other topic");
    publish(&b, "a", "2");
    assert_eq!(drain(&mut sub), ["1", "2"]);
    assert_eq!(sub.cursor().offset(), 4);
}

#[test]
fn resume_replays_history_then_live_without_hole_or_duplicate() {
    let b = MemoryBroker::default();
    let cursors: Vec<_> = (0..5).map(|i| publish(&b, "a", &i.to_string())).collect();
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            Some(cursors[1]),
            &push_core::Access::public(),
        )
        .unwrap();
    publish(&b, "a", "5");
    assert_eq!(drain(&mut sub), ["2", "3", "4", "5"]);
    let mut again = b
        .subscribe(
            &Selector::one(topic("a")),
            Some(sub.cursor()),
            &push_core::Access::public(),
        )
        .unwrap();
    assert!(drain(&mut again).is_empty());
}

#[test]
fn foreign_epoch_gets_a_gap_then_everything_retained() {
    let b = MemoryBroker::with_epoch(Config::default(), 7);
    publish(&b, "a", "x");
    publish(&b, "a", "y");
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            Some(Cursor::new(8, 1)),
            &push_core::Access::public(),
        )
        .unwrap();
    assert_eq!(drain(&mut sub), ["gap:unknown-epoch@0", "x", "y"]);
    assert_eq!(sub.cursor(), Cursor::new(7, 2));
}

#[test]
fn cursor_from_the_future_gets_a_gap_then_live() {
    let b = MemoryBroker::with_epoch(Config::default(), 7);
    publish(&b, "a", "x");
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            Some(Cursor::new(7, 99)),
            &push_core::Access::public(),
        )
        .unwrap();
    publish(&b, "a", "y");
    assert_eq!(drain(&mut sub), ["gap:from-future@1", "y"]);
}

#[test]
fn evicted_history_is_announced_where_the_loss_is() {
    let b = MemoryBroker::new(Config::default().with_history_count(3));
    let first = publish(&b, "a", "0");
    for i in 1..10 {
        publish(&b, "a", &i.to_string());
    }
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            Some(first),
            &push_core::Access::public(),
        )
        .unwrap();
    assert_eq!(drain(&mut sub), ["gap:evicted@7", "7", "8", "9"]);
    assert_eq!(b.retained(&topic("a")), 3);
}

#[test]
fn eviction_that_hits_a_lagging_subscriber_is_announced_to_it() {
    // The history is shorter than the queue: the lagging reader loses events to eviction.
    let b = MemoryBroker::new(
        Config::default()
            .with_history_count(3)
            .with_queue_count(100),
    );
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    publish(&b, "a", "0");
    assert_eq!(drain(&mut sub), ["0"]);
    for i in 1..10 {
        publish(&b, "a", &i.to_string());
    }
    assert_eq!(drain(&mut sub), ["gap:evicted@7", "7", "8", "9"]);
    // A reader that kept up is not affected.
    let mut fresh = b
        .subscribe(
            &Selector::one(topic("a")),
            Some(sub.cursor()),
            &push_core::Access::public(),
        )
        .unwrap();
    publish(&b, "a", "10");
    assert_eq!(drain(&mut fresh), ["10"]);
}

#[test]
fn a_busy_topic_never_evicts_a_quiet_one() {
    let b = MemoryBroker::new(Config::default().with_history_count(3));
    let start = b.head();
    publish(&b, "quiet", "q");
    for i in 0..100 {
        publish(&b, "busy", &i.to_string());
    }
    let mut sub = b
        .subscribe(
            &Selector::one(topic("quiet")),
            Some(start),
            &push_core::Access::public(),
        )
        .unwrap();
    assert_eq!(drain(&mut sub), ["q"]);
}

#[test]
fn one_cursor_resumes_a_multi_topic_subscription_in_order() {
    let b = MemoryBroker::default();
    let start = b.head();
    for (t, d) in [
        ("a", "a1"),
        ("c", "c1"),
        ("b", "b1"),
        ("a", "a2"),
        ("b", "b2"),
    ] {
        publish(&b, t, d);
    }
    let sel = Selector::new([topic("b"), topic("a")]).unwrap();
    let mut sub = b
        .subscribe(&sel, Some(start), &push_core::Access::public())
        .unwrap();
    assert_eq!(drain(&mut sub), ["a1", "b1", "a2", "b2"]);
    // Resuming from the middle continues exactly there.
    let mut sub = b
        .subscribe(
            &sel,
            Some(Cursor::new(b.epoch(), 3)),
            &push_core::Access::public(),
        )
        .unwrap();
    assert_eq!(drain(&mut sub), ["a2", "b2"]);
}

#[test]
fn a_multi_topic_gap_comes_after_the_other_topics_earlier_events() {
    let b = MemoryBroker::new(Config::default().with_history_count(2));
    let start = b.head();
    publish(&b, "b", "b1"); // 1
    for i in 0..4 {
        publish(&b, "a", &format!("a{i}")); // 2..=5; 2 and 3 evicted
    }
    publish(&b, "b", "b2"); // 6
    let sel = Selector::new([topic("a"), topic("b")]).unwrap();
    let mut sub = b
        .subscribe(&sel, Some(start), &push_core::Access::public())
        .unwrap();
    assert_eq!(drain(&mut sub), ["b1", "gap:evicted@3", "a2", "a3", "b2"]);
}

#[test]
fn a_lagging_subscriber_loses_its_backlog_with_a_gap() {
    let b = MemoryBroker::new(Config::default().with_queue_count(4));
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    for i in 0..10 {
        publish(&b, "a", &i.to_string());
    }
    assert_eq!(drain(&mut sub), ["gap:overflow@10"]);
    publish(&b, "a", "10");
    assert_eq!(drain(&mut sub), ["10"]);
    // History replay does not count against the queue.
    let mut replay = b.subscribe(
        &Selector::one(topic("a")),
        Some(Cursor::new(b.epoch(), 0)),
        &push_core::Access::public(),
    );
    assert_eq!(drain(replay.as_mut().unwrap()).len(), 11);
}

#[test]
fn the_byte_bound_counts_too() {
    let b = MemoryBroker::new(Config::default().with_queue_bytes(10));
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    publish(&b, "a", &"x".repeat(100));
    assert_eq!(drain(&mut sub).len(), 1, "one large event alone passes");
    publish(&b, "a", "123456");
    publish(&b, "a", "123456");
    assert_eq!(drain(&mut sub), ["gap:overflow@3"]);
}

#[test]
fn the_close_policy_ends_the_subscription_with_a_reason() {
    let b = MemoryBroker::new(
        Config::default()
            .with_queue_count(2)
            .with_overflow(Overflow::Close),
    );
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    for i in 0..3 {
        publish(&b, "a", &i.to_string());
    }
    assert_eq!(drain(&mut sub), ["closed:overflow"]);
    publish(&b, "a", "later");
    assert!(sub.try_recv().is_none());
}

#[test]
fn subscribers_share_one_allocation_per_event() {
    let b = MemoryBroker::default();
    let sel = Selector::one(topic("a"));
    let mut s1 = b
        .subscribe(&sel, None, &push_core::Access::public())
        .unwrap();
    let mut s2 = b
        .subscribe(&sel, None, &push_core::Access::public())
        .unwrap();
    publish(&b, "a", "shared");
    let (Some(Delivery::Event(p1)), Some(Delivery::Event(p2))) = (s1.try_recv(), s2.try_recv())
    else {
        panic!("both receive the event")
    };
    assert!(Arc::ptr_eq(&p1, &p2));
}

#[test]
fn dropping_a_subscription_frees_its_slot_at_once() {
    let b = MemoryBroker::default();
    let sel = Selector::new([topic("a"), topic("b")]).unwrap();
    let subs: Vec<_> = (0..1000)
        .map(|_| {
            b.subscribe(&sel, None, &push_core::Access::public())
                .unwrap()
        })
        .collect();
    assert_eq!(b.subscriber_count(&topic("a")), 1000);
    drop(subs);
    assert_eq!(b.subscriber_count(&topic("a")), 0);
    assert_eq!(
        b.topic_count(),
        0,
        "topics without history or subscribers are forgotten"
    );
}

#[test]
fn a_forgotten_topic_still_announces_its_loss() {
    let b = MemoryBroker::new(Config::default().with_history_age(std::time::Duration::ZERO));
    let start = b.head();
    publish(&b, "a", "expires");
    // Expire and forget (age zero: anything published before now is too old).
    while b.retained(&topic("a")) > 0 || b.topic_count() > 0 {
        let _ = b.sweep();
    }
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            Some(start),
            &push_core::Access::public(),
        )
        .unwrap();
    assert_eq!(drain(&mut sub), ["gap:evicted@1"]);
}

#[test]
fn close_ends_every_subscription_and_refuses_publishes() {
    let b = MemoryBroker::default();
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    publish(&b, "a", "before");
    b.close();
    assert_eq!(drain(&mut sub), ["before", "closed:shutdown"]);
    assert_eq!(
        b.publish_now(&topic("a"), Event::new("x")),
        Err(Error::BrokerClosed)
    );
    assert!(
        b.subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public()
        )
        .is_err()
    );
}

#[tokio::test]
async fn a_waiting_subscriber_is_woken_by_a_publish() {
    let b = MemoryBroker::default();
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    let waiter = tokio::spawn(async move {
        match sub.next().await {
            Some(Delivery::Event(p)) => p.event().data.clone(),
            other => panic!("unexpected {other:?}"),
        }
    });
    tokio::task::yield_now().await;
    publish(&b, "a", "wake");
    assert_eq!(waiter.await.unwrap(), "wake");
}

#[tokio::test]
async fn a_closed_subscription_ends_the_stream() {
    let b = MemoryBroker::default();
    let sub = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    let handle = tokio::spawn(sub.collect::<Vec<_>>());
    tokio::task::yield_now().await;
    b.close();
    let items = handle.await.unwrap();
    assert!(matches!(
        items.as_slice(),
        [Delivery::Closed(CloseReason::Shutdown)]
    ));
    // Closed for good: no new subscription, no publish, and nothing left behind.
    let refused = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .err();
    assert_eq!(refused, Some(Error::BrokerClosed));
    let published = b.publish_now(&topic("a"), Event::new("late")).err();
    assert_eq!(published, Some(Error::BrokerClosed));
    assert_eq!(b.subscriber_count(&topic("a")), 0);
}
