//! The publish batcher against a real Redis: concurrent publishers share script calls, each
//! still gets its own id (or the batch's error), in order, and every event arrives once.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use common::{BOUND, both, broker, calls, config, data, next, publish, two_partitions};
use push_core::{Access, Broker, Cursor, Delivery, Error, Event};
use push_redis::RedisBroker;
use push_test_support::redis::RedisServer;

/// `publishers` tasks each publishing `each` events on `topic` of `hub`, concurrently; every
/// task's outcomes in its order.
async fn publish_all(
    hub: &Arc<RedisBroker>,
    topics: &[push_core::Topic],
    publishers: usize,
    each: usize,
) -> Vec<Vec<(String, Result<Cursor, Error>)>> {
    let tasks: Vec<_> = (0..publishers)
        .map(|p| {
            let hub = Arc::clone(hub);
            let topic = topics[p % topics.len()].clone();
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(each);
                for n in 0..each {
                    let text = format!("p{p}-{n}");
                    let got = hub
                        .publish(std::slice::from_ref(&topic), Event::new(text.clone()))
                        .await;
                    out.push((text, got));
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.push(tokio::time::timeout(BOUND, task).await.unwrap().unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_get_distinct_ordered_ids_and_every_event_arrives_once() {
    let server = RedisServer::start();
    let (a, b) = (broker(&server).await, Arc::new(broker(&server).await));
    let (t1, t2) = two_partitions(&b, "batch");
    let mut far = a
        .subscribe(&both(&t1, &t2), None, &Access::public())
        .unwrap();
    let mut near = b
        .subscribe(&both(&t1, &t2), None, &Access::public())
        .unwrap();
    let (publishers, each) = (24, 40);
    let outcomes = publish_all(&b, &[t1, t2], publishers, each).await;
    let mut sent: HashMap<String, Cursor> = HashMap::new();
    for run in &outcomes {
        let mut last: Option<Cursor> = None;
        for (text, got) in run {
            let cursor = got.expect("every publish succeeds");
            assert!(
                last.is_none_or(|l| l < cursor),
                "one publisher's ids increase"
            );
            last = Some(cursor);
            sent.insert(text.clone(), cursor);
        }
    }
    let distinct: HashSet<Cursor> = sent.values().copied().collect();
    assert_eq!(
        distinct.len(),
        publishers * each,
        "every publish its own id"
    );
    for sub in [&mut far, &mut near] {
        let mut seen: HashMap<String, Cursor> = HashMap::new();
        let mut last: Option<Cursor> = None;
        while seen.len() < publishers * each {
            let Delivery::Event(p) = next(sub).await else {
                panic!("events only")
            };
            assert!(
                last.is_none_or(|l| l < p.cursor()),
                "delivered in cursor order"
            );
            last = Some(p.cursor());
            assert!(
                seen.insert(data(&p), p.cursor()).is_none(),
                "delivered once"
            );
        }
        assert_eq!(seen, sent, "each event with the id its publisher got");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_fails_every_publisher_in_it() {
    let server = RedisServer::start();
    let hub = Arc::new(broker(&server).await);
    let (t1, _) = two_partitions(&hub, "fail");
    publish(&hub, &t1, "before").await;
    // Scripts wait while writes are paused, so the publishes below queue behind the first
    // call; when it runs, Redis refuses every write (over its memory limit).
    server.cli(&["CLIENT", "PAUSE", "700", "WRITE"]);
    server.cli(&["CONFIG", "SET", "maxmemory", "1"]);
    let failed = publish_all(&hub, std::slice::from_ref(&t1), 32, 1).await;
    for (text, got) in failed.iter().flatten() {
        assert_eq!(got, &Err(Error::BrokerUnavailable), "{text}");
    }
    server.cli(&["CONFIG", "SET", "maxmemory", "0"]);
    let after = publish_all(&hub, std::slice::from_ref(&t1), 8, 2).await;
    assert!(after.iter().flatten().all(|(_, got)| got.is_ok()));
    let stored: usize = (0..4)
        .map(|q| {
            let key = format!("push:{{p{q}}}:log");
            server.cli(&["XLEN", &key]).trim().parse::<usize>().unwrap()
        })
        .sum();
    assert_eq!(stored, 1 + 16, "nothing of the failed batches was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishes_share_script_calls_and_trims() {
    let server = RedisServer::start();
    let hub = Arc::new(
        RedisBroker::connect(config(&server).with_history_count(100))
            .await
            .unwrap(),
    );
    let (t1, _) = two_partitions(&hub, "share");
    server.cli(&["CONFIG", "RESETSTAT"]);
    let (publishers, each) = (64, 16);
    let outcomes = publish_all(&hub, std::slice::from_ref(&t1), publishers, each).await;
    assert!(outcomes.iter().flatten().all(|(_, got)| got.is_ok()));
    let publishes = (publishers * each) as u64;
    let stats = calls(&server);
    let n = |name: &str| stats.get(name).copied().unwrap_or(0);
    assert_eq!(n("xadd"), publishes, "one entry per publish");
    assert!(
        n("evalsha") * 4 <= publishes,
        "{} script calls for {publishes} concurrent publishes: {stats:?}",
        n("evalsha")
    );
    assert!(
        n("xtrim") * 8 <= publishes,
        "{} trims for {publishes} publishes: {stats:?}",
        n("xtrim")
    );
    // Still bounded: 100 entries, rounded up to whole stream nodes, plus a trim's interval.
    let key = format!("push:{{p{}}}:log", hub.partition(&t1));
    let len: usize = server.cli(&["XLEN", &key]).trim().parse().unwrap();
    assert!(len < 300, "the history is bounded: {len}");
}

/// Whether some client of `server` is blocked (a paused write: `flags=b`) with, when
/// `behind`, more bytes waiting in its query buffer: a second call sent before the first one
/// returned.
fn a_paused_call(server: &RedisServer, behind: bool) -> bool {
    server.cli(&["CLIENT", "LIST"]).lines().any(|line| {
        let field = |name: &str| {
            line.split(' ')
                .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
                .unwrap_or("")
        };
        field("flags").contains('b') && (!behind || field("qbuf").parse::<u64>().unwrap_or(0) > 0)
    })
}

/// Polls `condition` for at most a second: well inside the pause below and the broker's 2 s
/// response timeout, so the paused calls still succeed afterwards.
async fn eventually(condition: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(1) {
        if condition() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_sends_the_next_batch_while_one_is_in_flight() {
    let server = RedisServer::start();
    let hub = Arc::new(broker(&server).await);
    let (t1, _) = two_partitions(&hub, "flight");
    publish(&hub, &t1, "warm").await;
    server.cli(&["CONFIG", "RESETSTAT"]);
    // The first call waits in Redis while writes are paused; the second publish must not wait
    // for it to return before its own call is sent.
    server.cli(&["CLIENT", "PAUSE", "3000", "WRITE"]);
    let publish = |text: &'static str| {
        let (hub, t1) = (hub.clone(), t1.clone());
        tokio::spawn(async move {
            hub.publish(std::slice::from_ref(&t1), Event::new(text))
                .await
        })
    };
    let first = publish("first");
    assert!(
        eventually(|| a_paused_call(&server, false)).await,
        "the first call reached Redis"
    );
    let second = publish("second");
    let pipelined = eventually(|| a_paused_call(&server, true)).await;
    let clients = server.cli(&["CLIENT", "LIST"]);
    server.cli(&["CLIENT", "UNPAUSE"]);
    assert!(
        pipelined,
        "the second call was sent while the first was in flight: {clients}"
    );
    let (a, b) = (
        first.await.unwrap().unwrap(),
        second.await.unwrap().unwrap(),
    );
    assert!(a < b, "the later publish has the later cursor");
    assert_eq!(calls(&server).get("evalsha").copied(), Some(2));
}
