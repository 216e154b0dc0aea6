//! `MemoryBroker::relay`: events made elsewhere, with their own cursors, fanned out as
//! publishes are: only to the subscribers whose selector matches, the same `Arc` to each, once
//! per subscriber however many of its topics it follows, bounded by the history.

use std::sync::Arc;

use push_broker::{Config, MemoryBroker, MemorySubscription};
use push_core::{
    Access, Cursor, Delivery, Error, Event, GapReason, Pattern, Published, Selector, Topic,
};

fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

/// An event of another store: its cursor there has a third number, as push-redis's do.
fn made(topics: &[&str], ms: u64, seq: u64, data: &str) -> Arc<Published> {
    Arc::new(Published::with_topics(
        topics.iter().map(|t| topic(t)).collect(),
        Cursor::with_sequence(77, ms, seq),
        Event::new(data.to_owned()),
    ))
}

fn drain(sub: &mut MemorySubscription) -> Vec<Delivery> {
    std::iter::from_fn(|| sub.try_recv()).collect()
}

fn events(items: &[Delivery]) -> Vec<(Cursor, String)> {
    items
        .iter()
        .filter_map(|d| match d {
            Delivery::Event(p) => Some((
                p.cursor(),
                String::from_utf8_lossy(&p.event().data).into_owned(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn relayed_events_reach_matching_subscribers_with_their_own_cursors() {
    let broker = MemoryBroker::default();
    let mut a = broker
        .subscribe(&Selector::one(topic("a")), None, &Access::public())
        .unwrap();
    let mut b = broker
        .subscribe(&Selector::one(topic("b")), None, &Access::public())
        .unwrap();
    let template = Selector::new([Pattern::parse("/jobs/{id}").unwrap()]).unwrap();
    let mut jobs = broker
        .subscribe(&template, None, &Access::public())
        .unwrap();
    let first = made(&["a"], 1000, 5, "one");
    broker.relay(Arc::clone(&first)).unwrap();
    broker.relay(made(&["/jobs/7"], 1000, 6, "job")).unwrap();
    broker.relay(made(&["a", "b"], 1001, 0, "both")).unwrap();

    let on_a = drain(&mut a);
    assert_eq!(
        events(&on_a),
        vec![
            (Cursor::with_sequence(77, 1000, 5), "one".to_owned()),
            (Cursor::with_sequence(77, 1001, 0), "both".to_owned()),
        ]
    );
    // The very `Arc` relayed: encoded caches keyed on it are shared.
    let Delivery::Event(got) = &on_a[0] else {
        panic!("an event")
    };
    assert!(Arc::ptr_eq(got, &first));
    assert_eq!(
        events(&drain(&mut b)),
        vec![(Cursor::with_sequence(77, 1001, 0), "both".to_owned())]
    );
    assert_eq!(
        events(&drain(&mut jobs)),
        vec![(Cursor::with_sequence(77, 1000, 6), "job".to_owned())]
    );
}

#[test]
fn an_event_on_two_followed_topics_comes_once_and_repeated_topics_count_once() {
    let broker = MemoryBroker::default();
    let selector = Selector::new([topic("a"), topic("b")]).unwrap();
    let mut sub = broker
        .subscribe(&selector, None, &Access::public())
        .unwrap();
    broker.relay(made(&["a", "b", "a"], 5, 0, "x")).unwrap();
    broker.relay(made(&["b"], 5, 1, "y")).unwrap();
    let got = events(&drain(&mut sub));
    assert_eq!(
        got.iter().map(|(_, d)| d.as_str()).collect::<Vec<_>>(),
        ["x", "y"]
    );
    assert_eq!(broker.retained(&topic("a")), 1);
}

#[test]
fn a_subscriber_behind_the_history_hears_a_gap() {
    let broker = MemoryBroker::new(Config::default().with_history_count(4).with_queue_count(4));
    let mut sub = broker
        .subscribe(&Selector::one(topic("a")), None, &Access::public())
        .unwrap();
    for n in 0..10 {
        broker.relay(made(&["a"], 100 + n, 0, "e")).unwrap();
    }
    let items = drain(&mut sub);
    assert!(
        items.iter().any(|d| matches!(
            d,
            Delivery::Gap(g) if matches!(g.reason, GapReason::Evicted | GapReason::Overflow)
        )),
        "{items:?}"
    );
    assert!(events(&items).len() <= 4, "{items:?}");
}

#[test]
fn a_closed_broker_refuses_relays() {
    let broker = MemoryBroker::default();
    broker.close();
    assert_eq!(
        broker.relay(made(&["a"], 1, 0, "x")),
        Err(Error::BrokerClosed)
    );
}

#[test]
fn pattern_subscriptions_are_counted_while_open() {
    let broker = MemoryBroker::default();
    let exact = broker
        .subscribe(&Selector::one(topic("a")), None, &Access::public())
        .unwrap();
    assert_eq!(broker.pattern_subscription_count(), 0);
    let all = broker
        .subscribe(&Selector::all(), None, &Access::public())
        .unwrap();
    assert_eq!(broker.pattern_subscription_count(), 1);
    drop((exact, all));
    assert_eq!(broker.pattern_subscription_count(), 0);
}
