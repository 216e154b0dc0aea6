//! Many publishers and subscribers on a multi-threaded runtime: per topic no loss, no duplicate,
//! no reorder, and the seam between history and live holds under racing publishes.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use push_broker::{Config, MemoryBroker};
use push_core::{Cursor, Delivery, Event, Selector, Topic};
use tokio::sync::Barrier;

const TOPICS: usize = 4;
const PUBLISHERS_PER_TOPIC: usize = 2;
const EVENTS_PER_PUBLISHER: u64 = 2_000;

fn topic(i: usize) -> Topic {
    Topic::new(&format!("t{i}")).unwrap()
}

/// Data is "publisher:n"; per publisher, n must arrive as 0, 1, 2, … exactly once, in order.
fn encode(publisher: usize, n: u64) -> Event {
    Event::new(format!("{publisher}:{n}"))
}

fn decode(data: &[u8]) -> (usize, u64) {
    let text = std::str::from_utf8(data).unwrap();
    let (p, n) = text.split_once(':').unwrap();
    (p.parse().unwrap(), n.parse().unwrap())
}

fn config() -> Config {
    // Large enough that nothing here is evicted or overflows: every loss would be a bug.
    Config::default()
        .with_history_count(100_000)
        .with_queue_count(100_000)
        .with_queue_bytes(1 << 30)
}

/// Publishers on every topic run concurrently; `publishers_done` tells subscribers how many
/// events to expect per selection.
async fn run_publishers(broker: MemoryBroker, start: Arc<Barrier>) {
    let mut handles = Vec::new();
    for t in 0..TOPICS {
        for p in 0..PUBLISHERS_PER_TOPIC {
            let broker = broker.clone();
            let start = Arc::clone(&start);
            handles.push(tokio::spawn(async move {
                start.wait().await;
                let publisher = t * PUBLISHERS_PER_TOPIC + p;
                for n in 0..EVENTS_PER_PUBLISHER {
                    broker.publish_now(&topic(t), encode(publisher, n)).unwrap();
                    if n % 64 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }));
        }
    }
    for h in handles {
        h.await.unwrap();
    }
}

/// Reads until `expected` events arrived, checking order and completeness per publisher and a
/// strictly increasing cursor across the whole selection.
async fn consume(
    mut sub: push_broker::MemorySubscription,
    selector: Selector,
    mut next: HashMap<usize, u64>,
    expected: u64,
) -> Cursor {
    let mut last = sub.cursor();
    let mut got = 0;
    while got < expected {
        match sub.next().await {
            Some(Delivery::Event(p)) => {
                assert!(selector.matches(p.topic()));
                assert!(p.cursor() > last, "cursor went backwards or repeated");
                last = p.cursor();
                let (publisher, n) = decode(&p.event().data);
                let want = next.entry(publisher).or_insert(0);
                assert_eq!(
                    n, *want,
                    "publisher {publisher}: loss, duplicate or reorder"
                );
                *want += 1;
                got += 1;
            }
            other => panic!("unexpected delivery {other:?}"),
        }
    }
    assert_eq!(sub.cursor(), last);
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_publishers_and_subscribers_lose_nothing() {
    let broker = MemoryBroker::new(config());
    let per_topic = PUBLISHERS_PER_TOPIC as u64 * EVENTS_PER_PUBLISHER;
    let mut consumers = Vec::new();
    // Single-topic and multi-topic subscribers, all live from the start.
    for i in 0..24 {
        let selector = match i % 3 {
            0 => Selector::one(topic(i % TOPICS)),
            1 => Selector::new([topic(i % TOPICS), topic((i + 1) % TOPICS)]).unwrap(),
            _ => Selector::new((0..TOPICS).map(topic)).unwrap(),
        };
        let expected = per_topic * selector.topics().len() as u64;
        let sub = broker
            .subscribe(&selector, None, &push_core::Access::public())
            .unwrap();
        consumers.push(tokio::spawn(consume(
            sub,
            selector,
            HashMap::new(),
            expected,
        )));
    }
    let start = Arc::new(Barrier::new(TOPICS * PUBLISHERS_PER_TOPIC));
    run_publishers(broker.clone(), start).await;
    for c in consumers {
        assert!(c.await.unwrap() <= broker.head());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_history_live_seam_holds_under_racing_publishes() {
    let broker = MemoryBroker::new(config());
    let start = Arc::new(Barrier::new(TOPICS * PUBLISHERS_PER_TOPIC + 1));
    let publishers = tokio::spawn(run_publishers(broker.clone(), Arc::clone(&start)));
    start.wait().await;
    let all = Selector::new((0..TOPICS).map(topic)).unwrap();
    let total = (TOPICS * PUBLISHERS_PER_TOPIC) as u64 * EVENTS_PER_PUBLISHER;
    let mut joiners = Vec::new();
    // Subscribers join mid-stream from a cursor taken while publishes race: each must see
    // exactly the events after its cursor, replayed then live, with nothing missing or doubled.
    for i in 0..16 {
        tokio::task::yield_now().await;
        let probe_selector = if i % 2 == 0 {
            Selector::one(topic(i % TOPICS))
        } else {
            all.clone()
        };
        // A cursor in the middle of the stream: what a reconnecting client would send.
        let mut probe = broker
            .subscribe(
                &probe_selector,
                Some(Cursor::new(broker.epoch(), 0)),
                &push_core::Access::public(),
            )
            .unwrap();
        let mut seen: HashMap<usize, u64> = HashMap::new();
        let mut count = 0u64;
        let mut cursor = probe.cursor();
        for _ in 0..(50 * (i as u64 + 1)) {
            match probe.try_recv() {
                Some(Delivery::Event(p)) => {
                    let (publisher, n) = decode(&p.event().data);
                    assert_eq!(n, seen.get(&publisher).copied().unwrap_or(0));
                    seen.insert(publisher, n + 1);
                    count += 1;
                    cursor = p.cursor();
                }
                Some(other) => panic!("unexpected {other:?}"),
                None => break,
            }
        }
        drop(probe);
        let expected = total / TOPICS as u64 * probe_selector.topics().len() as u64 - count;
        let sub = broker
            .subscribe(&probe_selector, Some(cursor), &push_core::Access::public())
            .unwrap();
        joiners.push(tokio::spawn(consume(sub, probe_selector, seen, expected)));
    }
    publishers.await.unwrap();
    for j in joiners {
        j.await.unwrap();
    }
}

/// Publishers over more topics than the limit allows, a tight byte budget, subscribers coming
/// and going, and sweeps, all at once: no panic, no deadlock, and once everything has expired
/// the broker holds nothing (no leftover topic, schedule entry or byte).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bounds_hold_under_racing_publishes_subscribes_and_sweeps() {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    let now = Arc::new(Mutex::new(Instant::now()));
    let clock = Arc::clone(&now);
    let broker = MemoryBroker::new(
        Config::default()
            .with_max_topics(8)
            .with_total_history_bytes(16 << 10)
            .with_history_age(Duration::from_secs(1))
            .with_clock(move || *clock.lock().unwrap()),
    );
    let mut tasks = Vec::new();
    for p in 0..4 {
        let broker = broker.clone();
        let now = Arc::clone(&now);
        tasks.push(tokio::spawn(async move {
            for n in 0..2_000usize {
                let t = Topic::new(&format!("t{}", (p * 7 + n) % 12)).unwrap();
                let _ = broker.publish_now(&t, Event::new(vec![b'x'; n % 700]));
                if n % 100 == 0 {
                    *now.lock().unwrap() += Duration::from_millis(300);
                    let _ = broker.sweep();
                }
                if n % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for s in 0..2 {
        let broker = broker.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..500usize {
                let sel = Selector::new([topic(n % 12), topic((n + s) % 12)]).unwrap();
                let mut sub = broker.subscribe(
                    &sel,
                    Some(Cursor::new(broker.epoch(), 0)),
                    &push_core::Access::public(),
                );
                if let Ok(sub) = &mut sub {
                    while sub.try_recv().is_some() {}
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    *now.lock().unwrap() += Duration::from_secs(2);
    let _ = broker.sweep();
    assert_eq!(broker.topic_count(), 0);
    assert_eq!(broker.poll_timeout(), None);
    assert!((0..12).all(|i| broker.retained_bytes(&topic(i)) == 0));
}
