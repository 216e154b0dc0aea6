//! Callbacks on two `push-hub --redis` processes sharing one `redis-server`: the registry,
//! the fan-out and the delivery queue are shared, so a registration made on hub B serves an
//! event published on hub A, a hub killed with a delivery pending takes nothing with it (the
//! other delivers it, once, and takes the fan-out over), and one event gives one delivery
//! however many hubs read it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use push_hub::token::Claims;
use push_test_support::redis::RedisServer;
use push_webhook::Secret;
use serde_json::{Value, json};
use support::{Binary, KEY, curl};

mod support;

#[path = "callbacks/receiver.rs"]
mod receiver;

use receiver::Receiver;

/// Three fast attempts, then one a second for a while: a delivery stays pending for the test.
const SCHEDULE: &str = "0,100ms,100ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s";

/// Every wait here is bounded by this.
const BOUND: Duration = Duration::from_secs(40);

fn hub(redis: &RedisServer) -> Binary {
    let url = redis.url();
    Binary::start(
        &[],
        &[
            "--addr",
            "127.0.0.1:0",
            "--jwt-key",
            KEY,
            "--anonymous",
            "--redis",
            &url,
            "--callbacks-allow-private",
            "--callbacks-schedule",
            SCHEDULE,
            "--callbacks-fast-attempts",
            "3",
        ],
    )
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
fn hubs(redis: &RedisServer) -> (Binary, Binary) {
    let a = hub(redis);
    until("A leads the fan-out", || {
        !redis.cli(&["GET", "push:cb:{cb}:lease"]).trim().is_empty()
    });
    (a, hub(redis))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_pending_on_a_killed_hub_is_delivered_once_by_the_other() {
    let redis = RedisServer::start();
    let (mut a, b) = hubs(&redis);
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
    let redis = RedisServer::start();
    let (a, b) = hubs(&redis);
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap()).await;
    let (secret, _) = register(a.addr, &receiver.url(), "news", "on-a");
    receiver.set_secrets(vec![secret]);
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
