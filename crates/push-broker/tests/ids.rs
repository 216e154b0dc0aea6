//! The id index (`Broker::resolve`): a publisher's event id resolves to the cursor of the
//! earliest retained event carrying it, for exactly as long as that event is retained by any of
//! its topics, and the index counts against the byte budgets.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use push_broker::{Config, MemoryBroker};
use push_core::{Access, Broker, Delivery, Event, Selector, Topic};

fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

fn with_id(data: &str, id: &str) -> Event {
    Event::new(data.to_owned()).with_id(id)
}

#[test]
fn an_id_resolves_to_its_events_cursor_and_resumes_after_it() {
    let b = MemoryBroker::default();
    let t = topic("t");
    let first = b.publish_now(&t, with_id("one", "urn:uuid:1")).unwrap();
    b.publish_now(&t, Event::new("no id")).unwrap();
    let third = b.publish_now(&t, with_id("three", "urn:uuid:3")).unwrap();
    assert_eq!(b.resolve("urn:uuid:1"), Some(first));
    // Through the trait, as servers call it.
    assert_eq!(Broker::resolve(&b, "urn:uuid:3"), Some(third));
    assert_eq!(b.resolve("urn:uuid:2"), None);
    assert_eq!(b.resolve(""), None);
    // Resuming from the resolved cursor yields exactly what came after the event.
    let from = b.resolve("urn:uuid:1");
    let mut sub = b
        .subscribe(&Selector::one(t), from, &Access::public())
        .unwrap();
    let mut seen = Vec::new();
    while let Some(Delivery::Event(p)) = sub.try_recv() {
        seen.push(p.event().data.clone());
    }
    assert_eq!(seen, ["no id", "three"]);
}

#[test]
fn a_duplicate_id_resolves_to_the_earliest_retained_occurrence() {
    let b = MemoryBroker::new(Config::default().with_history_count(3));
    let t = topic("t");
    let first = b.publish_now(&t, with_id("1", "dup")).unwrap();
    let second = b.publish_now(&t, with_id("2", "dup")).unwrap();
    b.publish_now(&t, with_id("3", "other")).unwrap();
    assert_eq!(b.resolve("dup"), Some(first));
    // The first occurrence is evicted by count: the id now names the second.
    b.publish_now(&t, with_id("4", "dup")).unwrap();
    assert_eq!(b.resolve("dup"), Some(second));
}

#[test]
fn an_evicted_event_no_longer_resolves() {
    let b = MemoryBroker::new(Config::default().with_history_count(2));
    let t = topic("t");
    b.publish_now(&t, with_id("1", "a")).unwrap();
    b.publish_now(&t, with_id("2", "b")).unwrap();
    assert!(b.resolve("a").is_some());
    b.publish_now(&t, with_id("3", "c")).unwrap();
    assert_eq!(b.resolve("a"), None, "evicted by count, still indexed");
    assert!(b.resolve("b").is_some() && b.resolve("c").is_some());
}

#[test]
fn an_expired_event_leaves_the_index_with_the_sweep() {
    let clock = Arc::new(Mutex::new(Instant::now()));
    let hand = Arc::clone(&clock);
    let b = MemoryBroker::new(
        Config::default()
            .with_history_age(Duration::from_secs(10))
            .with_clock(move || *hand.lock().unwrap()),
    );
    let cursor = b.publish_now(&topic("t"), with_id("x", "old")).unwrap();
    *clock.lock().unwrap() += Duration::from_secs(5);
    assert_eq!(b.resolve("old"), Some(cursor));
    *clock.lock().unwrap() += Duration::from_secs(6);
    assert!(b.sweep().is_none());
    assert_eq!(b.resolve("old"), None);
}

/// An event on several topics stays resolvable while any of its topics retains it.
#[test]
fn a_multi_topic_event_resolves_until_its_last_topic_lets_it_go() {
    let b = MemoryBroker::new(Config::default().with_history_count(2));
    let (busy, quiet) = (topic("busy"), topic("quiet"));
    let both = b
        .publish_to(&[busy.clone(), quiet.clone()], with_id("m", "multi"))
        .unwrap();
    b.publish_now(&busy, Event::new("b1")).unwrap();
    b.publish_now(&busy, Event::new("b2")).unwrap();
    assert_eq!(b.retained(&busy), 2, "the busy topic evicted the event");
    assert_eq!(
        b.resolve("multi"),
        Some(both),
        "the quiet topic still holds it"
    );
    // A subscriber of the quiet topic resumes after it exactly.
    let mut sub = b
        .subscribe(
            &Selector::one(quiet.clone()),
            b.resolve("multi"),
            &Access::public(),
        )
        .unwrap();
    b.publish_now(&quiet, Event::new("q1")).unwrap();
    let next = futures_util::FutureExt::now_or_never(sub.next());
    let Some(Some(Delivery::Event(p))) = next else {
        panic!("{next:?}")
    };
    assert_eq!(p.event().data, "q1");
    b.publish_now(&quiet, Event::new("q2")).unwrap();
    assert_eq!(b.resolve("multi"), None, "gone from every topic");
}

/// The index's entry is counted: an event with an id costs more than one without whose data
/// is as much longer as the id (so the two weigh the same).
#[test]
fn the_index_counts_against_the_byte_budget() {
    let b = MemoryBroker::default();
    let (with, without) = (topic("with"), topic("without"));
    b.publish_now(&with, with_id("data", "id")).unwrap();
    b.publish_now(&without, Event::new("dataid")).unwrap();
    assert!(
        b.retained_bytes(&with) > b.retained_bytes(&without),
        "{} <= {}",
        b.retained_bytes(&with),
        b.retained_bytes(&without)
    );
    // The budget holds with ids: a topic budget of three events with ids keeps three.
    let each = b.retained_bytes(&with);
    let small = MemoryBroker::new(Config::default().with_history_bytes(3 * each));
    for i in 0..10 {
        small
            .publish_now(&with, with_id("data", &format!("i{i}")))
            .unwrap();
    }
    assert_eq!(small.retained(&with), 3);
    assert_eq!(small.retained_bytes(&with), 3 * each);
    assert_eq!(small.resolve("i6"), None);
    assert!(small.resolve("i7").is_some());
}

/// `Broker::place`: what a client resumes with, on any transport. An id resolves; a cursor's
/// text is the cursor, even where a publisher used that very text as an id (it cannot steer
/// another client's resume); an id the broker cannot place is a gap before everything
/// retained, never a silent resume.
#[test]
fn place_resolves_ids_keeps_cursors_and_announces_the_unknown() {
    use push_core::{GapReason, Resume};
    let b = MemoryBroker::default();
    let t = topic("t");
    let first = b.publish_now(&t, with_id("one", "urn:uuid:1")).unwrap();
    let second = b.publish_now(&t, Event::new("two")).unwrap();
    let looks_like_a_cursor = second.to_string();
    let third = b
        .publish_now(&t, with_id("three", &looks_like_a_cursor))
        .unwrap();
    assert_eq!(b.place(&Resume::parse("urn:uuid:1")), first);
    assert_eq!(b.place(&Resume::Cursor(first)), first);
    // The cursor wins over a publisher's id written like it.
    assert_ne!(third, second);
    assert_eq!(b.place(&Resume::parse(&looks_like_a_cursor)), second);
    let nowhere = b.place(&Resume::parse("urn:uuid:gone"));
    let mut sub = b
        .subscribe(&Selector::one(t), Some(nowhere), &Access::public())
        .unwrap();
    match sub.try_recv() {
        Some(Delivery::Gap(gap)) => assert_eq!(gap.reason, GapReason::UnknownEpoch),
        other => panic!("a gap first, got {other:?}"),
    }
    let mut seen = Vec::new();
    while let Some(Delivery::Event(p)) = sub.try_recv() {
        seen.push(p.event().data.clone());
    }
    assert_eq!(seen, ["one", "two", "three"]);
}
