//! An event published to several topics is one event: stored once, with one cursor, delivered
//! once to each subscriber however many of its topics the subscriber follows. The publish is
//! all or none: the topic limit is decided for all topics before anything is stored, so a
//! refusal leaves nothing behind and a retry duplicates nothing.

use std::sync::Arc;

use futures_util::FutureExt;
use push_broker::{Config, MemoryBroker};
use push_core::{Access, Broker, Delivery, Error, Event, MAX_SELECTOR_TOPICS, Selector, Topic};

fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

fn topics(names: &[&str]) -> Vec<Topic> {
    names.iter().map(|n| topic(n)).collect()
}

fn selector(names: &[&str]) -> Selector {
    Selector::new(topics(names)).unwrap()
}

fn events(sub: &mut push_broker::MemorySubscription) -> Vec<Arc<push_core::Published>> {
    let mut seen = Vec::new();
    while let Some(item) = sub.try_recv() {
        let Delivery::Event(p) = item else {
            panic!("unexpected {item:?}")
        };
        seen.push(p);
    }
    seen
}

/// Two topics of room taken by `a`, then `b` and `c` together: `b` would fit, `c` not.
fn nearly_full() -> MemoryBroker {
    let b = MemoryBroker::new(Config::default().with_max_topics(2));
    b.publish_now(&topic("a"), Event::new("a1")).unwrap();
    b
}

#[test]
fn a_refused_multi_topic_publish_publishes_nothing() {
    let b = nearly_full();
    let head = b.head();
    let refused = b.publish_to(&topics(&["b", "c"]), Event::new("x"));
    assert_eq!(refused, Err(Error::TopicLimit));
    assert_eq!(
        b.retained(&topic("b")),
        0,
        "b kept an event of a refused publish"
    );
    assert_eq!((b.head(), b.topic_count()), (head, 1));
    // Through the trait, as servers call it.
    let refused = Broker::publish(&b, &topics(&["b", "c"]), Event::new("x"))
        .now_or_never()
        .unwrap();
    assert_eq!(refused, Err(Error::TopicLimit));
    assert_eq!((b.retained(&topic("b")), b.head()), (0, head));
    // One new topic still fits, with an existing one beside it: one event, one cursor.
    let cursor = b.publish_to(&topics(&["a", "b"]), Event::new("y")).unwrap();
    assert_eq!(cursor.offset(), head.offset() + 1);
    assert_eq!(b.head(), cursor);
}

#[test]
fn one_event_is_stored_once_and_reaches_each_subscriber_once() {
    let b = MemoryBroker::default();
    let mut all = b
        .subscribe(&selector(&["x", "y", "z"]), None, &Access::public())
        .unwrap();
    let mut only_y = b
        .subscribe(&selector(&["y"]), None, &Access::public())
        .unwrap();
    let cursor = b
        .publish_to(&topics(&["z", "x", "z", "y"]), Event::new("one"))
        .unwrap();
    let seen = events(&mut all);
    assert_eq!(seen.len(), 1, "delivered once per subscriber");
    assert_eq!(seen[0].cursor(), cursor);
    assert_eq!(seen[0].topic(), &topic("z"), "the first topic is canonical");
    assert_eq!(seen[0].topics(), &topics(&["z", "x", "y"])[..]);
    let y = events(&mut only_y);
    assert!(Arc::ptr_eq(&seen[0], &y[0]), "one stored event, shared");
    for t in ["x", "y", "z"] {
        assert_eq!(b.retained(&topic(t)), 1, "{t}");
    }
    // Replay from before it: once again, and an event on one topic after it, in order.
    let after = b.publish_now(&topic("y"), Event::new("two")).unwrap();
    let from = push_core::Cursor::new(b.epoch(), 0);
    let mut replay = b
        .subscribe(&selector(&["x", "y", "z"]), Some(from), &Access::public())
        .unwrap();
    let cursors: Vec<_> = events(&mut replay).iter().map(|p| p.cursor()).collect();
    assert_eq!(cursors, [cursor, after]);
}

#[test]
fn a_publish_names_one_to_the_selector_limit_of_topics() {
    let b = MemoryBroker::default();
    assert_eq!(
        b.publish_to(&[], Event::new("x")),
        Err(Error::SelectorEmpty)
    );
    let many: Vec<Topic> = (0..=MAX_SELECTOR_TOPICS)
        .map(|i| topic(&i.to_string()))
        .collect();
    assert_eq!(
        b.publish_to(&many, Event::new("x")),
        Err(Error::SelectorTooLarge)
    );
    // Repeats are one topic: the limit counts distinct ones.
    let repeated = vec![topic("r"); 4 * MAX_SELECTOR_TOPICS];
    assert!(b.publish_to(&repeated, Event::new("x")).is_ok());
    assert_eq!(b.topic_count(), 1);
    assert!(b.publish_to(&many[1..], Event::new("x")).is_ok());
}

/// A cursor with a third number (a Redis stream position) is never one of this broker's, even
/// in its epoch: a gap, then everything retained.
#[test]
fn a_three_number_cursor_is_another_history() {
    let b = MemoryBroker::default();
    let first = b.publish_now(&topic("t"), Event::new("1")).unwrap();
    let foreign = push_core::Cursor::with_sequence(b.epoch(), first.offset(), 0);
    let mut sub = b
        .subscribe(&selector(&["t"]), Some(foreign), &Access::public())
        .unwrap();
    let Some(Delivery::Gap(gap)) = sub.try_recv() else {
        panic!("no gap")
    };
    assert_eq!(gap.reason, push_core::GapReason::UnknownEpoch);
    assert_eq!(events(&mut sub)[0].cursor(), first);
}
