//! Pattern subscriptions: `*`, URI templates and exact topics mixed, topics created after the
//! subscription opened, replay across topics, private events and the access deadline.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use push_broker::{Config, MemoryBroker, MemorySubscription};
use push_core::{
    Access, Audience, CloseReason, Cursor, Delivery, Error, Event, Pattern, Selector, Topic,
};

fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

fn pattern(text: &str) -> Selector {
    Selector::new([Pattern::parse(text).unwrap()]).unwrap()
}

/// What a subscription holds now: `topic=data` per event, `gap` / `closed:reason` otherwise.
fn drain(sub: &mut MemorySubscription) -> Vec<String> {
    let mut seen = Vec::new();
    while let Some(item) = sub.try_recv() {
        seen.push(match item {
            Delivery::Event(p) => {
                format!("{}={}", p.topic(), String::from_utf8_lossy(&p.event().data))
            }
            Delivery::Gap(g) => format!("gap:{}", g.reason.as_str()),
            Delivery::Closed(r) => format!("closed:{}", r.as_str()),
        });
    }
    seen
}

#[test]
fn all_follows_existing_and_new_topics() {
    let b = MemoryBroker::default();
    b.publish_now(&topic("old"), Event::new("1")).unwrap();
    let from = Cursor::new(b.epoch(), 0);
    let mut all = b
        .subscribe(&Selector::all(), Some(from), &Access::public())
        .unwrap();
    b.publish_now(&topic("new"), Event::new("2")).unwrap();
    b.publish_now(&topic("old"), Event::new("3")).unwrap();
    assert_eq!(drain(&mut all), ["old=1", "new=2", "old=3"]);
    assert_eq!(all.topic_count(), 2);
    assert_eq!(all.cursor(), b.head());
}

#[test]
fn templates_follow_only_matching_topics_and_multi_topic_events_come_once() {
    let b = MemoryBroker::default();
    let mut books = b
        .subscribe(&pattern("/books/{id}"), None, &Access::public())
        .unwrap();
    b.publish_now(&topic("/books/1"), Event::new("a")).unwrap();
    b.publish_now(&topic("/books/1/reviews"), Event::new("no"))
        .unwrap();
    b.publish_now(&topic("/users/1"), Event::new("no")).unwrap();
    b.publish_to(&[topic("/books/2"), topic("/books/3")], Event::new("b"))
        .unwrap();
    assert_eq!(drain(&mut books), ["/books/1=a", "/books/2=b"]);
    assert_eq!(books.topic_count(), 3);
}

#[tokio::test]
async fn a_parked_pattern_subscription_wakes_for_a_new_topic() {
    let b = MemoryBroker::default();
    let mut all = b
        .subscribe(&Selector::all(), None, &Access::public())
        .unwrap();
    let publisher = b.clone();
    let task = tokio::spawn(async move { all.next().await });
    tokio::task::yield_now().await;
    publisher
        .publish_now(&topic("fresh"), Event::new("x"))
        .unwrap();
    let item = tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(item, Some(Delivery::Event(p)) if p.topic() == &topic("fresh")));
}

#[test]
fn private_events_reach_only_granted_subscribers() {
    let b = MemoryBroker::default();
    let granted = Access::public().with_private(pattern("/users/{id}"));
    let mut public = b
        .subscribe(&Selector::all(), None, &Access::public())
        .unwrap();
    let mut private = b.subscribe(&Selector::all(), None, &granted).unwrap();
    let secret = Event::new("s").with_audience(Audience::Private);
    b.publish_now(&topic("/users/7"), secret.clone()).unwrap();
    b.publish_now(&topic("/other"), secret.clone()).unwrap();
    // Granted through an alternate topic the subscriber does not follow.
    let mut other = b
        .subscribe(&Selector::one(topic("/feed")), None, &granted)
        .unwrap();
    b.publish_to(&[topic("/feed"), topic("/users/8")], secret)
        .unwrap();
    b.publish_now(&topic("/other"), Event::new("p")).unwrap();
    assert_eq!(drain(&mut public), ["/other=p"]);
    assert_eq!(drain(&mut private), ["/users/7=s", "/feed=s", "/other=p"]);
    assert_eq!(drain(&mut other), ["/feed=s"]);
}

#[test]
fn the_access_deadline_closes_the_subscription() {
    let now = Arc::new(Mutex::new(Instant::now()));
    let hand = Arc::clone(&now);
    let b = MemoryBroker::new(Config::default().with_clock(move || *hand.lock().unwrap()));
    let until = *now.lock().unwrap() + Duration::from_secs(60);
    let access = Access::public().with_until(until);
    let mut sub = b.subscribe(&Selector::all(), None, &access).unwrap();
    b.publish_now(&topic("t"), Event::new("1")).unwrap();
    assert_eq!(drain(&mut sub), ["t=1"]);
    b.publish_now(&topic("t"), Event::new("2")).unwrap();
    b.publish_now(&topic("t"), Event::new("3")).unwrap();
    b.publish_now(&topic("t"), Event::new("4")).unwrap();
    assert!(matches!(sub.try_recv(), Some(Delivery::Event(_))));
    assert_eq!(sub.lag(), 2, "the third and fourth are behind");
    *now.lock().unwrap() = until;
    assert_eq!(drain(&mut sub), ["closed:expired"]);
    assert!(sub.try_recv().is_none());
    assert_eq!(sub.lag(), 0, "an ended subscription is behind nothing");
    assert_eq!(CloseReason::Expired.as_str(), "expired");
}

#[test]
fn pattern_subscriptions_and_their_topics_are_bounded() {
    let b = MemoryBroker::new(
        Config::default()
            .with_max_pattern_subscriptions(2)
            .with_max_pattern_topics(2),
    );
    let first = b.subscribe(&Selector::all(), None, &Access::public());
    let second = b.subscribe(&pattern("/a/{x}"), None, &Access::public());
    assert!(first.is_ok() && second.is_ok());
    let third = b.subscribe(&Selector::all(), None, &Access::public());
    assert_eq!(third.err(), Some(Error::SubscriptionLimit));
    drop((first, second));
    for t in ["a", "b", "c"] {
        b.publish_now(&topic(t), Event::new(t)).unwrap();
    }
    let too_many = b.subscribe(&Selector::all(), None, &Access::public());
    assert_eq!(too_many.err(), Some(Error::SubscriptionLimit));
    // A subscription that meets too many topics later drops those that hold nothing for it.
    let b = MemoryBroker::new(Config::default().with_max_pattern_topics(2));
    let mut all = b
        .subscribe(&Selector::all(), None, &Access::public())
        .unwrap();
    for t in ["a", "b", "c", "d"] {
        b.publish_now(&topic(t), Event::new(t)).unwrap();
        assert_eq!(drain(&mut all), [format!("{t}={t}")]);
    }
    assert!(all.topic_count() <= 2);
    // Dropping it forgets the topics it alone kept.
    drop(all);
    assert_eq!(b.topic_count(), 4, "topics with history stay");
}
