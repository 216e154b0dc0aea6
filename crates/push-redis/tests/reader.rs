//! The reader's Redis commands per delivered event, counted with `INFO commandstats`.

use crate::common;

use std::time::Duration;

use common::{calls, config, data, next, next_data, publish, subscribe, topic};
use push_core::{Access, Broker, Delivery, Selector};
use push_redis::RedisBroker;
use push_test_support::redis::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_after_a_quiet_period_costs_the_reader_three_commands() {
    let server = RedisServer::start();
    // No age trim: the publish script then asks no `TIME`, so every `TIME` is the reader's.
    let hub = RedisBroker::connect(config(&server).with_history_age(Duration::ZERO))
        .await
        .unwrap();
    let t = topic("quiet");
    let mut sub = subscribe(&hub, &t, None);
    // The reader is past its first rounds and blocked in an idle one.
    publish(&hub, &t, "warm").await;
    assert_eq!(next_data(&mut sub).await, "warm");
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.cli(&["CONFIG", "RESETSTAT"]);
    let events = 20;
    for n in 0..events {
        publish(&hub, &t, &n.to_string()).await;
        assert_eq!(next_data(&mut sub).await, n.to_string());
        // Quiet: the reader goes back to a blocking read (well within its 200 ms block).
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = calls(&server);
    let n = |name: &str| stats.get(name).copied().unwrap_or(0);
    // Per event: the blocking XREAD that wakes, then TIME + XREAD once the millisecond has
    // passed. A `TIME` in every blocking round would make it four.
    assert!(
        n("time") <= events + 2,
        "{} TIME for {events} events after quiet periods: {stats:?}",
        n("time")
    );
    assert!(
        n("time") + n("xread") <= 3 * events + 4,
        "{} reader commands for {events} events: {stats:?}",
        n("time") + n("xread")
    );
}

/// The local fan-out holds each subscription's topics only: a burst on another topic, far
/// past the fan-out's capacity, neither wakes a subscriber nor pushes it behind (which would
/// make it replay from Redis with `XRANGE`s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_on_another_topic_does_not_push_a_subscriber_behind() {
    let server = RedisServer::start();
    let hub = RedisBroker::connect(config(&server).with_channel(16))
        .await
        .unwrap();
    let (mine, other) = (topic("mine"), topic("other"));
    let mut sub = subscribe(&hub, &mine, None);
    server.cli(&["CONFIG", "RESETSTAT"]);
    // Not read meanwhile: 200 events elsewhere, then one for it.
    for n in 0..200 {
        publish(&hub, &other, &n.to_string()).await;
    }
    publish(&hub, &mine, "mine").await;
    assert_eq!(next_data(&mut sub).await, "mine");
    let stats = calls(&server);
    assert_eq!(
        stats.get("xrange").copied().unwrap_or(0),
        0,
        "the subscriber replayed from Redis: {stats:?}"
    );
}

/// Past the local fan-out's topic limit an event is not kept in this process, and nothing is
/// lost: the subscriptions that want it replay it from Redis, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_past_the_fanout_topic_limit_are_replayed_not_lost() {
    let server = RedisServer::start();
    let hub = RedisBroker::connect(config(&server).with_max_topics(2))
        .await
        .unwrap();
    let mut every = hub
        .subscribe(&Selector::all(), None, &Access::public())
        .unwrap();
    let last = topic("t5");
    let mut one = subscribe(&hub, &last, None);
    for n in 0..6 {
        let t = topic(&format!("t{n}"));
        publish(&hub, &t, &format!("e{n}")).await;
    }
    // In cursor order, which within one millisecond is partition order, not publish order.
    let mut seen = Vec::new();
    let mut last_cursor = None;
    while seen.len() < 6 {
        let Delivery::Event(p) = next(&mut every).await else {
            panic!("events only")
        };
        assert!(Some(p.cursor()) > last_cursor, "out of order");
        last_cursor = Some(p.cursor());
        seen.push(data(&p));
    }
    seen.sort();
    assert_eq!(seen, ["e0", "e1", "e2", "e3", "e4", "e5"]);
    assert_eq!(next_data(&mut one).await, "e5");
}

/// An access deadline ends an idle subscription on time, and one that keeps receiving too
/// (its timer is made once, not per delivery).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_deadline_ends_a_subscription_idle_or_busy() {
    let server = RedisServer::start();
    let hub = RedisBroker::connect(config(&server)).await.unwrap();
    let t = topic("until");
    let until = std::time::Instant::now() + Duration::from_millis(400);
    let access = Access::public().with_until(until);
    let mut idle = hub
        .subscribe(&Selector::one(t.clone()), None, &access)
        .unwrap();
    let mut busy = hub
        .subscribe(&Selector::one(t.clone()), None, &access)
        .unwrap();
    publish(&hub, &t, "before").await;
    assert_eq!(next_data(&mut busy).await, "before");
    for n in 0..3 {
        publish(&hub, &t, &n.to_string()).await;
        assert_eq!(next_data(&mut busy).await, n.to_string());
    }
    // `idle` was not read until now: what came before the deadline, then the end.
    for want in ["before", "0", "1", "2"] {
        assert_eq!(next_data(&mut idle).await, want);
    }
    for sub in [&mut idle, &mut busy] {
        let end = next(sub).await;
        assert!(
            matches!(end, Delivery::Closed(push_core::CloseReason::Expired)),
            "{end:?}"
        );
        assert!(std::time::Instant::now() >= until);
    }
}
