//! The shared registry (`--redis`) on a real `redis-server`: two registries on one Redis stand
//! for two hubs.

use push_test_support::redis::{RedisCluster, RedisServer};
use push_webhook::Secret;
use push_webhook::sender::RedisLink;

use super::tests::registration;
use super::{Registered, Registry, Target};

fn pair(redis: &RedisServer, max: usize) -> (Registry, Registry) {
    (
        Registry::open_redis(RedisLink::open(&redis.url()).unwrap(), max).unwrap(),
        Registry::open_redis(RedisLink::open(&redis.url()).unwrap(), max).unwrap(),
    )
}

#[test]
fn a_registration_made_on_one_hub_is_seen_used_and_removed_on_the_other() {
    let redis = RedisServer::start();
    let (a, b) = pair(&redis, 100);
    seen_used_and_removed(&a, &b);
}

#[test]
fn on_a_redis_cluster_too_a_registration_is_seen_used_and_removed_on_the_other_hub() {
    let cluster = RedisCluster::start(3);
    let open = || {
        let link = RedisLink::open_cluster(&cluster.urls()).unwrap();
        Registry::open_redis(link, 100).unwrap()
    };
    seen_used_and_removed(&open(), &open());
    // And the fan-out's lease: one holder at a time, given up for good by `resign`.
    let (a, b) = (open(), open());
    let lease = std::time::Duration::from_secs(10);
    assert!(a.lead("a", lease).unwrap());
    assert!(!b.lead("b", lease).unwrap());
    a.resign("a").unwrap();
    assert!(b.lead("b", lease).unwrap());
    assert!(!a.lead("a", lease).unwrap(), "a resigned hub leads no more");
}

fn seen_used_and_removed(a: &Registry, b: &Registry) {
    let Registered::Created(made) = b
        .register(registration("r1", &["news"], &["news"]))
        .unwrap()
    else {
        panic!("not created");
    };
    // A knows nothing yet, but a lookup finds it (a delivery signed on A, a GET on A).
    assert_eq!(a.get("r1").unwrap().record(), made.record());
    assert_eq!(a.active().len(), 1);
    assert!(matches!(
        a.register(registration("other id", &["news"], &["news"]))
            .unwrap(),
        Registered::Created(_)
    ));
    // The same registration repeated on A (a network retry) is B's, not a second one.
    let mut again = registration("r9", &["news"], &["news"]);
    again.client_id = "client r1".into();
    if let Target::Webhook(w) = &mut again.target {
        w.url = "https://example.com/hook".into();
    }
    let Registered::Existing(first) = a.register(again).unwrap() else {
        panic!("a repeat made a new registration");
    };
    assert_eq!(first.id, "r1");
    assert_eq!(a.len(), 2, "r1 and `other id`");
    // Disabled on A: B sees it after its next refresh, and its fan-out matches nothing.
    assert!(a.disable("r1", "gone", 5).unwrap().is_some());
    b.refresh().unwrap();
    assert!(b.get("r1").unwrap().disabled.is_some());
    assert!(b.active().iter().all(|r| r.id != "r1"));
    // Deleted on B: gone on A.
    assert!(b.remove("r1").unwrap());
    a.refresh().unwrap();
    assert!(a.get("r1").is_none());
    assert!(!a.remove("r1").unwrap(), "removed once");
}

#[test]
fn the_limit_holds_across_hubs() {
    let redis = RedisServer::start();
    let (a, b) = pair(&redis, 2);
    assert!(matches!(
        a.register(registration("1", &["t"], &["t"])).unwrap(),
        Registered::Created(_)
    ));
    assert!(matches!(
        b.register(registration("2", &["t"], &["t"])).unwrap(),
        Registered::Created(_)
    ));
    assert!(matches!(
        a.register(registration("3", &["t"], &["t"])).unwrap(),
        Registered::Full
    ));
    assert!(matches!(
        b.register(registration("4", &["t"], &["t"])).unwrap(),
        Registered::Full
    ));
    assert!(b.remove("1").unwrap());
    assert!(matches!(
        a.register(registration("3", &["t"], &["t"])).unwrap(),
        Registered::Created(_)
    ));
    b.refresh().unwrap();
    let mut ids: Vec<_> = b.active().iter().map(|r| r.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["2", "3"]);
}

#[test]
fn a_rotation_on_one_hub_and_a_disable_on_the_other_both_hold() {
    let redis = RedisServer::start();
    let (a, b) = pair(&redis, 10);
    a.register(registration("r", &["t"], &["t"])).unwrap();
    b.refresh().unwrap();
    // A's copy is current; B disables behind A's back, then A rotates from its older copy.
    assert!(b.disable("r", "exhausted", 9).unwrap().is_some());
    let secret = Secret::generate().unwrap();
    let rotated = a.rotate("r", secret.clone(), 100).unwrap().unwrap();
    assert!(rotated.disabled.is_some(), "the disable was kept");
    b.refresh().unwrap();
    let seen = b.get("r").unwrap();
    let Target::Webhook(webhook) = &seen.target else {
        panic!("a webhook");
    };
    assert!(webhook.secret == secret && webhook.previous.is_some());
    assert!(seen.disabled.is_some());
}

#[test]
fn a_hub_far_behind_reads_every_record_again() {
    let redis = RedisServer::start();
    // Limit 2: `:changes` is cut beyond 2 × 2 + 1024 entries.
    let (a, b) = pair(&redis, 2);
    a.register(registration("gone", &["t"], &["t"])).unwrap();
    b.refresh().unwrap();
    assert!(a.remove("gone").unwrap());
    // Each removal leaves its id in `:changes` (B must learn it is gone): 1,100 of them.
    for n in 0..1100 {
        let id = format!("short-lived {n}");
        a.register(registration(&id, &["t"], &["t"])).unwrap();
        assert!(a.remove(&id).unwrap());
    }
    a.register(registration("keep", &["t"], &["t"])).unwrap();
    a.disable("keep", "x", 1).unwrap().unwrap();
    b.refresh().unwrap();
    let trimmed = redis.cli(&["GET", "push:cb:{cb}:trimmed"]);
    assert!(trimmed.trim().parse::<u64>().unwrap() > 0, "{trimmed}");
    assert_eq!(b.len(), 1);
    assert!(b.get("keep").unwrap().disabled.is_some());
}

#[test]
fn a_lookup_that_waits_for_a_stalled_redis_holds_up_only_its_caller() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    let mut redis = RedisServer::start();
    let port = redis.port();
    let registry =
        Arc::new(Registry::open_redis(RedisLink::open(&redis.url()).unwrap(), 10).unwrap());
    // Redis goes, and something that accepts and never answers takes its port: the lookup of
    // an unknown id waits out the link's I/O timeout.
    redis.kill();
    // The first step after the kill fails on the old connection and drops it.
    assert!(registry.refresh().is_err());
    // The port may take a moment to be free again (bounded retries).
    let stall = (0..50)
        .find_map(|_| {
            let bound = std::net::TcpListener::bind(("127.0.0.1", port)).ok();
            if bound.is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
            bound
        })
        .expect("the killed Redis's port stays taken");
    let held = std::thread::spawn(move || {
        let mut kept = Vec::new();
        while let Ok((socket, _)) = stall.accept() {
            kept.push(socket);
            if kept.len() == 2 {
                break;
            }
        }
        std::thread::sleep(Duration::from_secs(12));
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (started, looked_up) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    runtime.block_on(async {
        let lookup = tokio::spawn({
            let (registry, started, looked_up) = (
                Arc::clone(&registry),
                Arc::clone(&started),
                Arc::clone(&looked_up),
            );
            async move {
                started.store(true, Ordering::SeqCst);
                assert!(registry.get("made elsewhere a moment ago").is_none());
                looked_up.store(true, Ordering::SeqCst);
            }
        });
        // Another task on the one worker: it runs while the lookup waits (5 s), so the
        // lookup has not returned when it looks.
        let other = tokio::spawn({
            let (started, looked_up) = (Arc::clone(&started), Arc::clone(&looked_up));
            async move {
                while !started.load(Ordering::SeqCst) {
                    tokio::task::yield_now().await;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                looked_up.load(Ordering::SeqCst)
            }
        });
        assert!(
            !other.await.unwrap(),
            "another task on the worker waited for the lookup's Redis"
        );
        lookup.await.unwrap();
    });
    assert!(looked_up.load(Ordering::SeqCst));
    drop(held);
}
