//! Shared by push-redis' integration tests: brokers on a test server, bounded waits.
#![allow(dead_code, unreachable_pub)]

pub mod race;

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use push_core::{
    Access, Broker, Cursor, Delivery, Event, Published, Selector, Subscription, Topic,
};
use push_redis::{Config, RedisBroker, RedisSubscription};
use push_test_support::redis::RedisServer;

/// Every wait in these tests is bounded by this (a hang fails instead of blocking CI).
pub const BOUND: Duration = Duration::from_secs(15);

pub fn config(server: &RedisServer) -> Config {
    Config::new(server.url())
        .with_partitions(4)
        .with_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .with_block(Duration::from_millis(200))
}

pub async fn broker(server: &RedisServer) -> RedisBroker {
    RedisBroker::connect(config(server)).await.expect("connect")
}

pub fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

/// A public subscription to the one topic `t`, from `from`.
pub fn subscribe(broker: &RedisBroker, t: &Topic, from: Option<Cursor>) -> RedisSubscription {
    broker
        .subscribe(&Selector::one(t.clone()), from, &Access::public())
        .unwrap()
}

/// Publishes `data` on the one topic `t` and returns its cursor.
pub async fn publish(broker: &RedisBroker, t: &Topic, data: &str) -> Cursor {
    broker
        .publish(std::slice::from_ref(t), Event::new(data.to_owned()))
        .await
        .unwrap()
}

/// The next delivery, failing the test past [`BOUND`].
pub async fn next(sub: &mut (impl Subscription + 'static)) -> Delivery {
    tokio::time::timeout(BOUND, sub.next())
        .await
        .expect("a delivery within the bound")
        .expect("the subscription is open")
}

/// The next event's data, failing on anything else.
pub async fn next_data(sub: &mut (impl Subscription + 'static)) -> String {
    match next(sub).await {
        Delivery::Event(p) => data(&p),
        other => panic!("expected an event, got {other:?}"),
    }
}

pub fn data(p: &Published) -> String {
    String::from_utf8(p.event().data.to_vec()).unwrap()
}

/// Two topic names that live in different partitions of `broker`.
pub fn two_partitions(broker: &RedisBroker, prefix: &str) -> (Topic, Topic) {
    let a = topic(&format!("{prefix}/a"));
    let b = (0..64)
        .map(|i| topic(&format!("{prefix}/b{i}")))
        .find(|b| broker.partition(b) != broker.partition(&a))
        .expect("some name in another partition");
    (a, b)
}

pub fn both(a: &Topic, b: &Topic) -> Selector {
    Selector::new([a.clone(), b.clone()]).unwrap()
}

/// `calls` of each command in `INFO commandstats`.
pub fn calls(server: &RedisServer) -> HashMap<String, u64> {
    server
        .cli(&["INFO", "commandstats"])
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let n = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), n))
        })
        .collect()
}
