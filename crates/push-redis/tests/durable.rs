//! Durable mode (`Config::with_durable`) against a real replica (`--replicaof`): a publish is
//! acknowledged once the replica has the event, and refused (`BrokerUnavailable`, the hub's
//! 503) when the replica is gone, rather than acknowledged with the weaker guarantee.

use crate::common;

use std::time::Duration;

use common::*;
use push_core::{Broker, Error, Event};
use push_redis::RedisBroker;
use push_test_support::redis::{RedisOptions, RedisServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_publish_waits_for_the_replica_and_fails_without_it() {
    // The replica's first full sync starts at once (not after the default 5 s delay).
    let master = RedisServer::start_with(RedisOptions {
        extra: vec!["--repl-diskless-sync-delay".into(), "0".into()],
        ..RedisOptions::default()
    });
    let mut replica = RedisServer::start_with(RedisOptions {
        extra: vec![
            "--replicaof".into(),
            "127.0.0.1".into(),
            master.port().to_string(),
        ],
        ..RedisOptions::default()
    });
    // Bounded wait for the replica's link to be online (synced: WAIT counts it from then).
    let mut linked = false;
    for _ in 0..400 {
        if master
            .cli(&["INFO", "replication"])
            .contains("state=online")
        {
            linked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(linked, "{}", master.cli(&["INFO", "replication"]));
    // A generous timeout where the replica is expected to answer: on a loaded machine a replica
    // can take longer than a production-sized timeout to acknowledge (CI once saw 300 ms pass).
    let hub = RedisBroker::connect(config(&master).with_durable(1, Duration::from_secs(20)))
        .await
        .unwrap();
    let t = topic("durable");
    let mut sub = subscribe(&hub, &t, None);
    hub.publish(std::slice::from_ref(&t), Event::new("replicated"))
        .await
        .expect("acknowledged by the replica");
    assert_eq!(next_data(&mut sub).await, "replicated");
    // The replica has it: its copy of the partition holds the entry.
    let log = format!("push:{{p{}}}:log", hub.partition(&t));
    let mut copied = false;
    for _ in 0..200 {
        if replica.cli(&["XLEN", &log]).trim() == "1" {
            copied = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(copied, "the replica holds the entry");

    replica.kill();
    // Refusal needs the timeout to pass, so this broker's is short.
    let impatient =
        RedisBroker::connect(config(&master).with_durable(1, Duration::from_millis(300)))
            .await
            .unwrap();
    assert_eq!(
        impatient
            .publish(std::slice::from_ref(&t), Event::new("unreplicated"))
            .await,
        Err(Error::BrokerUnavailable),
        "no replica acknowledged: refused"
    );
}
