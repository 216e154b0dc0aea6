//! The broker's memory bounds, one rule per test: the topic limit, history expiry without
//! traffic, and the per-topic and broker-wide byte budgets. Time is a hand-moved clock (or
//! tokio's paused clock for the sweeper task); nothing sleeps.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use push_broker::{Config, MemoryBroker, MemorySubscription};
use push_core::{Cursor, Delivery, Error, Event, Selector, Topic};

fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

fn publish(b: &MemoryBroker, t: &str, data: &str) -> Result<Cursor, Error> {
    b.publish_now(&topic(t), Event::new(data.to_owned()))
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

/// Long items shortened to their first character and length, for readable failures.
fn short(items: Vec<String>) -> Vec<String> {
    items
        .into_iter()
        .map(|s| match s.len() {
            ..=32 => s,
            n => format!("{} x {n}", &s[..1]),
        })
        .collect()
}

/// A clock the test moves by hand.
#[derive(Clone)]
struct Manual(Arc<Mutex<Instant>>);

impl Manual {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    fn config(&self) -> Config {
        let clock = self.clone();
        Config::default().with_clock(move || *clock.0.lock().unwrap())
    }
}

#[test]
fn a_publish_past_the_topic_limit_is_refused_and_leaves_nothing_behind() {
    let b = MemoryBroker::new(Config::default().with_max_topics(3));
    for t in ["a", "b", "c"] {
        publish(&b, t, "x").unwrap();
    }
    for i in 0..100 {
        assert_eq!(publish(&b, &format!("new{i}"), "x"), Err(Error::TopicLimit));
    }
    assert_eq!(b.topic_count(), 3, "a refused topic is not kept");
    // Topics that already hold history still take publishes.
    publish(&b, "a", "y").unwrap();
    assert_eq!(b.retained(&topic("a")), 2);
}

#[test]
fn topics_whose_history_expired_make_room_for_new_ones() {
    let clock = Manual::new();
    let age = Duration::from_secs(10);
    let b = MemoryBroker::new(clock.config().with_max_topics(2).with_history_age(age));
    let start = b.head();
    publish(&b, "a", "1").unwrap();
    publish(&b, "b", "2").unwrap();
    assert_eq!(publish(&b, "c", "3"), Err(Error::TopicLimit));
    clock.advance(age + Duration::from_secs(1));
    // No sweep ran: the refused publish first expires what is due.
    publish(&b, "c", "3").unwrap();
    assert_eq!(b.topic_count(), 1, "the expired topics are forgotten");
    // The floor: a topic made again still announces what it lost.
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            Some(start),
            &push_core::Access::public(),
        )
        .unwrap();
    assert_eq!(drain(&mut sub), ["gap:evicted@2"]);
}

#[test]
fn subscribers_to_topics_without_history_do_not_use_up_the_topic_limit() {
    let b = MemoryBroker::new(Config::default().with_max_topics(2));
    let subs: Vec<_> = (0..1000)
        .map(|i| {
            b.subscribe(
                &Selector::one(topic(&format!("nobody{i}"))),
                None,
                &push_core::Access::public(),
            )
            .unwrap()
        })
        .collect();
    publish(&b, "a", "x").unwrap();
    publish(&b, "b", "x").unwrap();
    assert_eq!(publish(&b, "c", "x"), Err(Error::TopicLimit));
    drop(subs);
    assert_eq!(b.topic_count(), 2, "their state leaves with them");
    // A subscribed topic that receives its first event counts from then on.
    let mut sub = b
        .subscribe(
            &Selector::one(topic("a")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    publish(&b, "a", "live").unwrap();
    assert_eq!(drain(&mut sub), ["live"]);
}

#[test]
fn a_quiet_topic_expires_at_its_deadline_without_traffic() {
    let clock = Manual::new();
    let age = Duration::from_secs(60);
    let b = MemoryBroker::new(clock.config().with_history_age(age));
    let start = b.head();
    let t0 = b.now();
    publish(&b, "quiet", "old").unwrap();
    clock.advance(Duration::from_secs(30));
    publish(&b, "other", "newer").unwrap();
    let first = b.poll_timeout().expect("a deadline");
    assert!(first > t0 + age && first <= t0 + age + Duration::from_millis(1));
    // Before the deadline a sweep frees nothing.
    clock.advance(Duration::from_secs(29));
    assert_eq!(b.sweep(), Some(first));
    assert_eq!(b.retained(&topic("quiet")), 1);
    // At the deadline the quiet topic goes, and the next deadline is the other topic's.
    clock.advance(Duration::from_secs(2));
    let next = b.sweep().expect("the other topic's deadline");
    assert!(next > first + Duration::from_secs(29));
    assert_eq!(b.retained(&topic("quiet")), 0);
    assert_eq!(b.topic_count(), 1);
    clock.advance(Duration::from_secs(30));
    assert_eq!(b.sweep(), None);
    assert_eq!((b.topic_count(), b.poll_timeout()), (0, None));
    // Both topics were forgotten: the broker-wide floor (conservatively the later loss)
    // announces what the quiet topic lost.
    let mut sub = b
        .subscribe(
            &Selector::one(topic("quiet")),
            Some(start),
            &push_core::Access::public(),
        )
        .unwrap();
    assert_eq!(drain(&mut sub), ["gap:evicted@2"]);
}

#[test]
fn a_topic_with_a_subscriber_loses_expired_history_but_stays() {
    let clock = Manual::new();
    let b = MemoryBroker::new(clock.config().with_history_age(Duration::from_secs(5)));
    let start = b.head();
    let mut sub = b
        .subscribe(
            &Selector::one(topic("t")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    publish(&b, "t", "1").unwrap();
    clock.advance(Duration::from_secs(6));
    let _ = b.sweep();
    assert_eq!((b.retained(&topic("t")), b.topic_count()), (0, 1));
    // The live subscriber lagged behind the expiry: it is told, not silently skipped.
    assert_eq!(drain(&mut sub), ["gap:evicted@1"]);
    let mut late = b
        .subscribe(
            &Selector::one(topic("t")),
            Some(start),
            &push_core::Access::public(),
        )
        .unwrap();
    assert_eq!(drain(&mut late), ["gap:evicted@1"]);
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_task_frees_a_quiet_topic_on_time() {
    let age = Duration::from_secs(60);
    let b = MemoryBroker::new(
        Config::default()
            .with_history_age(age)
            .with_clock(|| tokio::time::Instant::now().into_std()),
    );
    let sweeper = b.spawn_sweeper();
    publish(&b, "quiet", "x").unwrap();
    tokio::time::sleep(age - Duration::from_secs(1)).await;
    assert_eq!(b.retained(&topic("quiet")), 1);
    // The sweeper may sweep up to its 100 ms nap after the deadline.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!((b.retained(&topic("quiet")), b.topic_count()), (0, 0));
    b.close();
    tokio::time::sleep(Duration::from_secs(61)).await;
    assert!(sweeper.is_finished(), "the sweeper ends with its broker");
}

#[test]
fn a_topic_keeps_no_more_than_its_byte_budget() {
    let b = MemoryBroker::new(Config::default().with_history_bytes(64 << 10));
    let start = b.head();
    let kib = "k".repeat(1024);
    for _ in 0..512 {
        publish(&b, "t", &kib).unwrap();
    }
    let kept = b.retained(&topic("t"));
    assert!((32..64).contains(&kept), "kept {kept} events of 1 KiB");
    let mut sub = b
        .subscribe(
            &Selector::one(topic("t")),
            Some(start),
            &push_core::Access::public(),
        )
        .unwrap();
    let items = drain(&mut sub);
    assert_eq!(items[0], format!("gap:evicted@{}", 512 - kept));
    assert_eq!(items.len(), kept + 1);
}

#[test]
fn the_broker_budget_trims_the_busy_topic_not_the_quiet_one() {
    // Room for about 40 events of 1 KiB in all.
    let b = MemoryBroker::new(Config::default().with_total_history_bytes(48 << 10));
    let start = b.head();
    let kib = "k".repeat(1024);
    publish(&b, "quiet", "q1").unwrap();
    publish(&b, "quiet", "q2").unwrap();
    for _ in 0..1000 {
        publish(&b, "busy", &kib).unwrap();
    }
    assert_eq!(b.retained(&topic("quiet")), 2);
    let busy = b.retained(&topic("busy"));
    assert!((20..48).contains(&busy), "busy keeps {busy}");
    let mut sub = b
        .subscribe(
            &Selector::new([topic("quiet"), topic("busy")]).unwrap(),
            Some(start),
            &push_core::Access::public(),
        )
        .unwrap();
    let items = drain(&mut sub);
    assert_eq!(
        items[..3],
        ["q1", "q2", &format!("gap:evicted@{}", 1002 - busy)]
    );
    assert_eq!(items.len(), 3 + busy);
}

#[test]
fn the_broker_budget_bounds_many_topics_of_tiny_events() {
    // Tiny events still cost their bookkeeping: the budget bounds their number too.
    let b = MemoryBroker::new(Config::default().with_total_history_bytes(256 << 10));
    for i in 0..20_000 {
        publish(&b, &format!("t{}", i % 100), "").unwrap();
    }
    let kept: usize = (0..100).map(|i| b.retained(&topic(&format!("t{i}")))).sum();
    assert!(kept < 2_000, "kept {kept} empty events in 256 KiB");
    assert!(kept > 100);
}

#[test]
fn history_does_not_keep_a_small_event_s_surrounding_buffer_alive() {
    // A transport's read buffer with a one-byte body sliced out of it, as hyper hands it over.
    let buffer = bytes::Bytes::from(vec![b'r'; 8192]);
    let body = buffer.slice(100..101);
    let b = MemoryBroker::default();
    b.publish_now(&topic("t"), Event::new(body.clone()))
        .unwrap();
    let mut sub = b
        .subscribe(
            &Selector::one(topic("t")),
            Some(Cursor::new(b.epoch(), 0)),
            &push_core::Access::public(),
        )
        .unwrap();
    let Some(Delivery::Event(kept)) = sub.try_recv() else {
        panic!("the event is retained")
    };
    assert_eq!(kept.event().data, body);
    let inside = buffer.as_ptr_range();
    assert!(
        !inside.contains(&kept.event().data.as_ptr()),
        "the retained event still points into the 8 KiB buffer"
    );
}

#[test]
fn the_broker_budget_never_evicts_the_event_just_published() {
    // A broker budget below the topic's: it bounds the topic too (whatever the order).
    let config = Config::default()
        .with_total_history_bytes(2 << 10)
        .with_history_bytes(4 << 10);
    assert_eq!(config.history_bytes(), 2 << 10);
    let b = MemoryBroker::new(config);
    let mut sub = b
        .subscribe(
            &Selector::one(topic("t")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    // One event larger than every budget: a caught-up subscriber gets it, not a gap.
    let big = "b".repeat(8 << 10);
    publish(&b, "t", &big).unwrap();
    assert_eq!(short(drain(&mut sub)), ["b x 8192"]);
    assert_eq!(b.retained(&topic("t")), 1);
    // The next publish makes it an old event, which the budgets take.
    publish(&b, "t", "small").unwrap();
    assert_eq!(drain(&mut sub), ["small"]);
    assert_eq!(b.retained(&topic("t")), 1);
}

#[test]
fn a_big_event_on_a_new_topic_trims_the_topic_over_its_share_instead() {
    let b = MemoryBroker::new(Config::default().with_total_history_bytes(8 << 10));
    let kib = "k".repeat(1024);
    for _ in 0..6 {
        publish(&b, "busy", &kib).unwrap();
    }
    let mut sub = b
        .subscribe(
            &Selector::one(topic("new")),
            None,
            &push_core::Access::public(),
        )
        .unwrap();
    let big = "b".repeat(7 << 10);
    publish(&b, "new", &big).unwrap();
    assert_eq!(short(drain(&mut sub)), ["b x 7168"]);
    // `busy` was over its half of the budget and gave what it had above it.
    let busy = b.retained_bytes(&topic("busy"));
    assert!(busy <= 4 << 10, "busy keeps {busy} bytes");
    assert!(b.retained(&topic("busy")) >= 2);
}

/// A subscription's lag is what its topics hold that it has not yet yielded, across the
/// batches it reads them in and across its topics; 0 once it is caught up.
#[test]
fn the_lag_counts_what_a_subscriber_has_not_yet_delivered() {
    let b = MemoryBroker::new(Config::default().with_queue_count(1_000));
    let selector = Selector::new([
        push_core::Pattern::Exact(topic("a")),
        push_core::Pattern::Exact(topic("b")),
    ])
    .unwrap();
    let mut sub = b
        .subscribe(&selector, None, &push_core::Access::public())
        .unwrap();
    assert_eq!(sub.lag(), 0);
    let start = b.head();
    for n in 0..40 {
        publish(&b, "a", &format!("a{n}")).unwrap();
    }
    for n in 0..10 {
        publish(&b, "b", &format!("b{n}")).unwrap();
    }
    let mut lags = Vec::new();
    while let Some(Delivery::Event(_)) = sub.try_recv() {
        lags.push(sub.lag());
    }
    // 50 events: after each, what is left of them.
    assert_eq!(lags, (0..50).rev().collect::<Vec<u64>>());
    publish(&b, "b", "one more").unwrap();
    assert!(matches!(sub.try_recv(), Some(Delivery::Event(_))));
    assert_eq!(sub.lag(), 0, "a subscriber that keeps up");
    // The trait's view is the same figure.
    assert_eq!(push_core::Subscription::lag(&sub), Some(0));

    // A subscriber that resumes from the start is behind by the history it replays.
    let mut resumed = b
        .subscribe(&selector, Some(start), &push_core::Access::public())
        .unwrap();
    assert!(matches!(resumed.try_recv(), Some(Delivery::Event(_))));
    assert_eq!(resumed.lag(), 50);
}
