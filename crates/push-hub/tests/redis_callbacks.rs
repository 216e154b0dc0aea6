//! Callbacks on two `push-hub --redis` processes sharing one `redis-server`: the registry,
//! the fan-out and the delivery queue are shared, so a registration made on hub B serves an
//! event published on hub A, a hub killed with a delivery pending takes nothing with it (the
//! other delivers it, once, and takes the fan-out over), and one event gives one delivery
//! however many hubs read it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use push_hub::token::Claims;
use push_test_support::redis::{RedisCluster, RedisServer};
use push_webhook::Secret;
use serde_json::{Value, json};
use support::{Binary, KEY, curl};

use crate::support;

use crate::receiver;

use receiver::Receiver;

/// Three fast attempts, then one a second for a while: a delivery stays pending for the test.
const SCHEDULE: &str = "0,100ms,100ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s";

/// Every wait here is bounded by this.
const BOUND: Duration = Duration::from_secs(40);

/// The Redis the hubs share: one server, or a 3-master Cluster.
enum Store {
    Single(RedisServer),
    Cluster(RedisCluster),
}

impl Store {
    /// The hub's `--redis` flags for this store.
    fn flags(&self) -> Vec<String> {
        match self {
            Self::Single(redis) => vec!["--redis".into(), redis.url()],
            Self::Cluster(cluster) => vec![
                "--redis".into(),
                cluster.urls().join(","),
                "--redis-cluster".into(),
            ],
        }
    }

    /// The fan-out's lease holder's token (empty when nobody holds it).
    fn lease(&self) -> String {
        let get = ["GET", LEASE_KEY];
        match self {
            Self::Single(redis) => redis.cli(&get).trim().to_owned(),
            // Asked of every node: the one holding the key's slot answers, the others refuse
            // with MOVED.
            Self::Cluster(cluster) => cluster
                .nodes()
                .iter()
                .map(|node| node.cli(&get).trim().to_owned())
                .find(|answer| !answer.contains("MOVED") && !answer.is_empty())
                .unwrap_or_default(),
        }
    }
}

const LEASE_KEY: &str = "push:cb:{cb}:lease";

fn hub(store: &Store) -> Binary {
    let mut args: Vec<String> = [
        "--addr",
        "127.0.0.1:0",
        "--jwt-key",
        KEY,
        "--anonymous",
        "--callbacks-allow-private",
        "--callbacks-schedule",
        SCHEDULE,
        "--callbacks-fast-attempts",
        "3",
    ]
    .map(String::from)
    .to_vec();
    args.extend(store.flags());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Binary::start(&[], &args)
}

fn register(hub: SocketAddr, url: &str, topic: &str, id: &str) -> (Secret, String) {
    let token = support::token(Claims::new().subscribe("*"));
    let body = json!({"url": url, "topics": [topic], "id": id}).to_string();
    let (ok, out, err) = curl(&[
        "-s",
        "-w",
        "\n%{http_code}",
        "-H",
        &format!("Authorization: Bearer {token}"),
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &body,
        &format!("http://{hub}/.well-known/push/callbacks"),
    ]);
    assert!(ok, "{err}");
    let (json, status) = out.rsplit_once('\n').unwrap();
    assert_eq!(status, "201", "{json}");
    let answer: Value = serde_json::from_str(json).unwrap();
    (
        answer["secret"].as_str().unwrap().parse().unwrap(),
        answer["hub_id"].as_str().unwrap().to_owned(),
    )
}

/// The status of `GET` for the registration `id` on `hub`.
fn status(hub: SocketAddr, id: &str) -> String {
    let token = support::token(Claims::new().subscribe("*"));
    let (ok, out, err) = curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("http://{hub}/.well-known/push/callbacks/{id}"),
    ]);
    assert!(ok, "{err}");
    out
}

fn publish(hub: SocketAddr, topic: &str, data: &str) {
    let token = support::token(Claims::new().publish("*"));
    let (ok, _, err) = curl(&[
        "-f",
        "-s",
        "-H",
        &format!("Authorization: Bearer {token}"),
        "--data-urlencode",
        &format!("topic={topic}"),
        "--data-urlencode",
        &format!("data={data}"),
        &format!("http://{hub}/.well-known/mercure"),
    ]);
    assert!(ok, "{err}");
}

fn metric(hub: SocketAddr, name: &str) -> u64 {
    let (ok, text, err) = curl(&["-s", &format!("http://{hub}/metrics")]);
    assert!(ok, "{err}");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map_or(0, |v| v.trim().parse::<f64>().unwrap() as u64)
}

/// Waits (bounded) until `done`.
fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + BOUND;
    while !done() {
        assert!(Instant::now() < deadline, "waited {BOUND:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts hub A and waits until it holds the fan-out's lease, then hub B.
fn hubs(store: &Store) -> (Binary, Binary) {
    let a = hub(store);
    until("A leads the fan-out", || !store.lease().is_empty());
    (a, hub(store))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_pending_on_a_killed_hub_is_delivered_once_by_the_other() {
    let store = Store::Single(RedisServer::start());
    let (mut a, b) = hubs(&store);
    // A port nothing listens on until the receiver starts there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{port}/hook");
    let (secret, _) = register(b.addr, &url, "jobs", "on-b");
    publish(a.addr, "jobs", "survivor");
    // The fast attempts fail (nothing listens); the delivery waits in Redis.
    let failed = || {
        metric(a.addr, "push_hub_callbacks_failed_total")
            + metric(b.addr, "push_hub_callbacks_failed_total")
    };
    until("three failed attempts", || failed() >= 3);
    assert_eq!(metric(b.addr, "push_hub_callbacks_queue_depth"), 1);
    a.child.kill().unwrap();
    a.wait(Duration::from_secs(10));

    let receiver = Receiver::start(port).await;
    receiver.set_secrets(vec![secret]);
    receiver
        .until("the survivor", |s| s.effects.len() == 1)
        .await;
    let effects = receiver.effects();
    assert_eq!(effects[0]["data"]["data"], "survivor");
    assert_eq!(effects[0]["registration"], "on-b");
    until("an empty queue", || {
        metric(b.addr, "push_hub_callbacks_queue_depth") == 0
    });
    // Once: one attempt reached the receiver (the delivery left the queue after its 2xx).
    assert_eq!(receiver.attempts().len(), 1);
    // A led the fan-out; B takes the lease over when it runs out, from the cursor in Redis.
    publish(b.addr, "jobs", "after the kill");
    receiver
        .until("the event published after the kill", |s| {
            s.effects.len() == 2
        })
        .await;
    assert_eq!(receiver.effects()[1]["data"]["data"], "after the kill");
    assert_eq!(receiver.attempts().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_both_hubs_alive_each_event_is_delivered_once() {
    each_event_once(&Store::Single(RedisServer::start())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster_too_each_event_is_delivered_once() {
    each_event_once(&Store::Cluster(RedisCluster::start(3))).await;
}

/// Ten events published on two hubs (a registration made on one of them): ten deliveries
/// with ten distinct `webhook-id`s.
async fn each_event_once(store: &Store) {
    let (a, b) = hubs(store);
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap()).await;
    let (secret, id) = register(a.addr, &receiver.url(), "news", "on-a");
    receiver.set_secrets(vec![secret]);
    // One registry: the registration made on A is B's too.
    assert_eq!(
        status(b.addr, &id),
        "200",
        "B does not know A's registration"
    );
    for n in 0..10 {
        // Half on the hub that fans out, half on the other one.
        let hub = if n % 2 == 0 { a.addr } else { b.addr };
        publish(hub, "news", &format!("event {n}"));
    }
    receiver
        .until("ten effects", |s| s.effects.len() == 10)
        .await;
    until("an empty queue", || {
        metric(a.addr, "push_hub_callbacks_queue_depth") == 0
    });
    drop((a, b));
    let mut ids: Vec<String> = receiver
        .attempts()
        .iter()
        .map(|a| a.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    let attempts = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((ids.len(), attempts), (10, 10), "one delivery per event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_stopped_gracefully_hands_the_fan_out_over_at_once() {
    let store = Store::Single(RedisServer::start());
    let (mut a, b) = hubs(&store);
    let held = store.lease();
    a.terminate();
    assert!(a.wait(BOUND).success());
    // Read as soon as A is gone: without the hand-over, A's token would hold the key for the
    // rest of its 10 s.
    let now = store.lease();
    assert_ne!(
        now, held,
        "the stopped leader still holds the fan-out's lease"
    );
    // B takes the fan-out over: an event published on it is delivered.
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap()).await;
    let (secret, _) = register(b.addr, &receiver.url(), "handover", "on-b");
    receiver.set_secrets(vec![secret]);
    until("B leads the fan-out", || !store.lease().is_empty());
    publish(b.addr, "handover", "after the hand-over");
    receiver.until("the event", |s| s.effects.len() == 1).await;
    assert_eq!(receiver.effects()[0]["data"]["data"], "after the hand-over");
}

/// Events that no registration wants do not each write the fan-out's cursor to Redis: it is
/// saved at once after a batch that queued a delivery, else at most once a second (plus the
/// lease's renewal every 2 s, the other `SET`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_no_registration_wants_do_not_each_write_the_cursor() {
    const EVENTS: u64 = 60;
    let store = Store::Single(RedisServer::start());
    let Store::Single(redis) = &store else {
        unreachable!()
    };
    let (a, _b) = hubs(&store);
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap()).await;
    let (secret, _) = register(a.addr, &receiver.url(), "last", "last");
    receiver.set_secrets(vec![secret]);
    redis.cli(&["CONFIG", "RESETSTAT"]);
    let start = Instant::now();
    for n in 0..EVENTS {
        publish(a.addr, "unwanted", &format!("event {n}"));
    }
    // The fan-out takes events in order: once this one is delivered, it matched every other.
    publish(a.addr, "last", "the last");
    receiver
        .until("the last event", |s| s.effects.len() == 1)
        .await;
    let seconds = start.elapsed().as_secs();
    let stats = redis.cli(&["INFO", "commandstats"]);
    let sets: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_set:calls="))
        .and_then(|rest| rest.split(',').next()?.parse().ok())
        .unwrap_or(0);
    // One save per second and one renewal per two, and the delivery's save.
    let bound = 3 + 2 * seconds;
    assert!(
        sets <= bound && sets < EVENTS,
        "{sets} SETs for {EVENTS} events no registration wants in {seconds} s (at most {bound})"
    );
}
