//! The same broker on a 3-master Redis Cluster on loopback: every script and command within
//! one slot, the reader per master, cursors that resume across brokers and the race edge.

use crate::common;

use std::time::Duration;

use common::*;
use push_core::{Access, Broker, Event, Subscription};
use push_redis::{Config, RedisBroker};
use push_test_support::redis::RedisCluster;

fn cluster_config(cluster: &RedisCluster) -> Config {
    Config::cluster(cluster.urls())
        .with_partitions(8)
        .with_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .with_block(Duration::from_millis(200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_serves_live_resume_and_the_race() {
    let cluster = RedisCluster::start(3);
    let (a, b) = (
        RedisBroker::connect(cluster_config(&cluster))
            .await
            .unwrap(),
        RedisBroker::connect(cluster_config(&cluster))
            .await
            .unwrap(),
    );
    assert_eq!(a.epoch(), b.epoch());
    // The partitions' keys are spread over the masters.
    let holders = cluster
        .nodes()
        .iter()
        .filter(|n| !n.cli(&["--scan", "--pattern", "push:*"]).trim().is_empty())
        .count();
    assert!(holders >= 2, "partition keys on {holders} masters");

    let (x, y) = two_partitions(&a, "cluster");
    let sel = both(&x, &y);
    let mut live = a.subscribe(&sel, None, &Access::public()).unwrap();
    let first = publish(&b, &x, "one").await;
    // "one" is delivered before "two" is published: two events of different partitions
    // published within one millisecond are ordered by partition number, not by commit time
    // (ARCHITECTURE.md, push-redis), and "two" lives in y's partition.
    assert_eq!(next_data(&mut live).await, "one");
    b.publish(&[y.clone(), x.clone()], Event::new("two"))
        .await
        .unwrap();
    assert_eq!(next_data(&mut live).await, "two");
    let mut resumed = b.subscribe(&sel, Some(first), &Access::public()).unwrap();
    assert_eq!(next_data(&mut resumed).await, "two");
    publish(&a, &y, "three").await;
    assert_eq!(next_data(&mut resumed).await, "three");
    assert_eq!(next_data(&mut live).await, "three");
    assert_eq!(live.cursor(), resumed.cursor());
    let mut only_y = subscribe(&a, &y, Some(first));
    assert_eq!(next_data(&mut only_y).await, "two");
    assert_eq!(next_data(&mut only_y).await, "three");
    assert!(a.healthy() && b.healthy());

    race::race(|| cluster_config(&cluster)).await;
}
