//! The id index in Redis: a publisher's id resolves on a broker that connected after the
//! publish (its reader never saw the event), and the index is trimmed with the stream.

use crate::common;

use common::*;
use push_core::{Broker, Event};
use push_redis::RedisBroker;
use push_test_support::redis::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_published_before_a_broker_connected_resolves_on_it() {
    let server = RedisServer::start();
    let b = broker(&server).await;
    let t = topic("late/ids");
    let at = b
        .publish(std::slice::from_ref(&t), Event::new("x").with_id("order-7"))
        .await
        .unwrap();
    b.publish(std::slice::from_ref(&t), Event::new("y").with_id("order-8"))
        .await
        .unwrap();
    // The same id again: the earliest occurrence is the one that resolves.
    b.publish(std::slice::from_ref(&t), Event::new("z").with_id("order-7"))
        .await
        .unwrap();
    let late = broker(&server).await;
    assert_eq!(late.resolve("order-7"), Some(at));
    assert_eq!(late.resolve("order-9"), None);
    let mut resumed = subscribe(&late, &t, late.resolve("order-7"));
    assert_eq!(next_data(&mut resumed).await, "y");
    assert_eq!(next_data(&mut resumed).await, "z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_index_is_bounded_with_the_stream() {
    let server = RedisServer::start();
    let hub = RedisBroker::connect(config(&server).with_partitions(1).with_history_count(10))
        .await
        .unwrap();
    let t = topic("bounded/ids");
    for n in 0..1000 {
        hub.publish(
            std::slice::from_ref(&t),
            Event::new("e").with_id(format!("id-{n}")),
        )
        .await
        .unwrap();
    }
    let stream: usize = server
        .cli(&["XLEN", "push:{p0}:log"])
        .trim()
        .parse()
        .unwrap();
    let ids: usize = server
        .cli(&["HLEN", "push:{p0}:ids"])
        .trim()
        .parse()
        .unwrap();
    let queue: usize = server
        .cli(&["LLEN", "push:{p0}:idq"])
        .trim()
        .parse()
        .unwrap();
    // MAXLEN ~ trims whole nodes of 100 entries: the stream keeps at most about 110.
    assert!(stream < 200, "stream {stream}");
    assert!(
        ids <= stream && queue == ids,
        "ids {ids}, queue {queue}, stream {stream}"
    );
    assert_eq!(
        server.cli(&["HEXISTS", "push:{p0}:ids", "id-0"]).trim(),
        "0"
    );
    assert_eq!(
        server.cli(&["HEXISTS", "push:{p0}:ids", "id-999"]).trim(),
        "1"
    );
    // A broker connecting now loads what is retained, not what was trimmed.
    let late = RedisBroker::connect(config(&server).with_partitions(1).with_history_count(10))
        .await
        .unwrap();
    assert!(late.resolve("id-999").is_some());
    assert!(late.resolve("id-0").is_none());
}
