//! Hubs sharing topics through one Redis (`push-hub --redis URL`), with real processes on
//! loopback: a `redis-server` started by the test, hubs in this process and the `push-hub`
//! binary, and clients speaking HTTP, SSE and WebSocket to them.
//!
//! - an event published on hub B reaches subscribers of hubs A and C over SSE, WebSocket and
//!   long polling;
//! - a client that moves from hub to hub with its cursor (or its Mercure id) receives exactly
//!   what it missed, in order;
//! - a publisher's id resolves on every hub, one started after the publish included;
//! - Redis killed and restarted under running hubs: `/healthz` and `broker_up` say so,
//!   publishes and new streams get 503 with `Retry-After`, and the open streams resume (exactly
//!   with persistence, after an announced gap without);
//! - a Redis the binary cannot reach, or whose password it lacks, is a clear start-up error.

use crate::redis;
use crate::support;

use std::time::Duration;

use push_core::Broker;
use push_test_support::redis::{RedisOptions, RedisServer};
use redis::{BOUND, Sse, Ws, get, hub, poll_n, publish};
use support::{Binary, KEY};

/// Waits (bounded) until `url` answers `status`; returns the body.
async fn until_status(url: &str, status: u16) -> String {
    let deadline = tokio::time::Instant::now() + BOUND;
    loop {
        let (got, body) = get(url.to_owned(), false).await;
        if got == status {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url}: {got} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_published_on_b_reaches_a_and_c_over_sse_websocket_and_long_poll() {
    let redis = RedisServer::start();
    let a = hub(&redis).await;
    let b = hub(&redis).await;
    // C is the binary, configured from the environment.
    let c = tokio::task::spawn_blocking({
        let url = redis.url();
        move || {
            Binary::start(
                &[("PUSH_HUB_REDIS", url.as_str())],
                &["--addr", "127.0.0.1:0", "--jwt-key", KEY, "--anonymous"],
            )
        }
    })
    .await
    .unwrap();
    let (status, health) = get(format!("http://{}/healthz", c.addr), false).await;
    assert_eq!((status, health.as_str()), (200, "ok\nredis: reachable\n"));

    let start = a.broker.head().to_string();
    let mut sse = Sse::open(a.addr, "news", None).await;
    assert_eq!(sse.status(), 200, "{}", sse.head);
    let mut ws = Ws::open(c.addr, "news", Some(&start)).await;
    let poll = tokio::spawn(poll_n(a.addr, "news", start.clone(), 2));
    for n in 0..2 {
        let (status, body) = publish(b.addr, "news", &format!("from B {n}"), None).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(sse.data(2).await, ["from B 0", "from B 1"]);
    for n in 0..2 {
        let event = ws.event().await;
        assert_eq!(event["type"], "event", "{event}");
        assert_eq!(event["data"], format!("from B {n}"));
    }
    let (polled, _) = poll.await.unwrap();
    assert_eq!(polled, ["from B 0", "from B 1"]);
    // Each hub counted the publish where it happened and the deliveries where they happened.
    let (_, metrics) = get(format!("http://{}/metrics", a.addr), false).await;
    assert!(metrics.contains("push_hub_broker_up 1"), "{metrics}");
    assert!(
        metrics.contains("push_hub_events_published_total 0"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_moving_between_hubs_with_its_cursor_receives_exactly_what_it_missed() {
    let redis = RedisServer::start();
    let hubs = [hub(&redis).await, hub(&redis).await, hub(&redis).await];
    let batch = |round: usize| -> Vec<String> { (0..4).map(|k| format!("{round}.{k}")).collect() };
    let publish_batch = |round: usize| {
        let addr = hubs[round % 3].addr;
        async move {
            for data in batch(round) {
                let (status, body) = publish(addr, "moves", &data, None).await;
                assert_eq!(status, 200, "{body}");
            }
        }
    };
    // Away while a batch is published on one hub, back on the next hub with the cursor (or
    // the Mercure id) of the last event received: exactly the batch, in order, every time.
    let mut cursor = hubs[0].broker.head().to_string();
    publish_batch(0).await;
    let (got, next) = poll_n(hubs[1].addr, "moves", cursor.clone(), 4).await;
    assert_eq!(got, batch(0), "long poll on hub 1");
    cursor = next;

    publish_batch(1).await;
    let mut ws = Ws::open(hubs[2].addr, "moves", Some(&cursor)).await;
    for (n, data) in batch(1).into_iter().enumerate() {
        let event = ws.event().await;
        assert_eq!(
            event["type"], "event",
            "WebSocket on hub 2, event {n}: {event}"
        );
        assert_eq!(event["data"], data);
        cursor = event["id"].as_str().unwrap().to_owned();
    }
    drop(ws);

    publish_batch(2).await;
    let mut sse = Sse::open(hubs[0].addr, "moves", Some(&cursor)).await;
    let mut last_id = String::new();
    for data in batch(2) {
        let frame = sse.frame().await;
        assert_eq!(
            (frame.event.as_str(), frame.data),
            ("", data),
            "SSE on hub 0"
        );
        last_id = frame.id;
    }
    drop(sse);
    assert!(last_id.starts_with("urn:uuid:"), "{last_id}");

    // The Mercure id the hub generated resolves on another hub.
    publish_batch(3).await;
    let mut sse = Sse::open(hubs[1].addr, "moves", Some(&last_id)).await;
    assert_eq!(
        sse.data(4).await,
        batch(3),
        "SSE on hub 1 from a Mercure id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_id_resolves_on_every_hub_even_one_started_after_the_publish() {
    let redis = RedisServer::start();
    let a = hub(&redis).await;
    let b = hub(&redis).await;
    for (data, id) in [("order 16", "order-16"), ("order 17", "order-17")] {
        assert_eq!(publish(b.addr, "orders", data, Some(id)).await.0, 200);
    }
    for n in 1..=2 {
        assert_eq!(
            publish(b.addr, "orders", &format!("after {n}"), None)
                .await
                .0,
            200
        );
    }
    // C's reader never saw order-17: the id index in Redis places it.
    let c = hub(&redis).await;
    for (name, h) in [("A", &a), ("B", &b), ("C", &c)] {
        let mut sse = Sse::open(h.addr, "orders", Some("order-17")).await;
        assert_eq!(sse.status(), 200, "{name}: {}", sse.head);
        assert_eq!(sse.data(2).await, ["after 1", "after 2"], "hub {name}");
    }
}

async fn outage(persistence: bool) {
    let mut redis = RedisServer::start_with(RedisOptions {
        persistence,
        ..RedisOptions::default()
    });
    let a = hub(&redis).await;
    let b = hub(&redis).await;
    let mut sse = Sse::open(a.addr, "live", None).await;
    assert_eq!(publish(b.addr, "live", "before", None).await.0, 200);
    assert_eq!(sse.data(1).await, ["before"]);

    redis.kill();
    let health = until_status(&format!("http://{}/healthz", a.addr), 503).await;
    assert_eq!(health, "unavailable\nredis: unreachable\n");
    let (_, metrics) = get(format!("http://{}/metrics", a.addr), false).await;
    assert!(metrics.contains("push_hub_broker_up 0"), "{metrics}");
    let (status, body) = publish(b.addr, "live", "while down", None).await;
    assert_eq!(status, 503, "a publish while Redis is down: {body}");
    let refused = Sse::open(a.addr, "live", None).await;
    assert_eq!(refused.status(), 503, "{}", refused.head);
    assert!(
        refused.head.to_ascii_lowercase().contains("retry-after: "),
        "{}",
        refused.head
    );

    redis.restart();
    for h in [&a, &b] {
        let health = until_status(&format!("http://{}/healthz", h.addr), 200).await;
        assert_eq!(health, "ok\nredis: reachable\n");
    }
    assert_eq!(publish(b.addr, "live", "after", None).await.0, 200);
    if !persistence {
        // The history is gone with the restart: announced, then the stream goes on.
        let gap = sse.frame().await;
        assert_eq!(gap.event, "gap", "{gap:?}");
        assert!(gap.data.contains("unknown"), "{gap:?}");
    }
    assert_eq!(sse.data(1).await, ["after"]);
    let (_, metrics) = get(format!("http://{}/metrics", a.addr), false).await;
    assert!(metrics.contains("push_hub_broker_up 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_with_persistence_under_running_hubs_resumes_exactly() {
    outage(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_without_persistence_is_an_announced_gap() {
    outage(false).await;
}

#[test]
fn an_unreachable_redis_or_a_wrong_password_stops_the_binary_with_a_clear_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let guarded = RedisServer::start_with(RedisOptions {
        password: Some("right".into()),
        ..RedisOptions::default()
    });
    let wrong = format!("redis://:wrong-secret@127.0.0.1:{}/", guarded.port());
    for (url, expect) in [
        (
            format!("redis://127.0.0.1:{}/", closed.port()),
            format!(
                "connecting to Redis at redis://127.0.0.1:{}/: cannot reach Redis",
                closed.port()
            ),
        ),
        (
            wrong,
            format!(
                "connecting to Redis at redis://:***@127.0.0.1:{}/",
                guarded.port()
            ),
        ),
    ] {
        let dir = support::temp_dir();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_push-hub"))
            .current_dir(&dir)
            .args(["--addr", "127.0.0.1:0", "--jwt-key", KEY, "--redis", &url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(&expect), "{stderr}");
        assert!(!stderr.contains("wrong-secret"), "{stderr}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubs_on_a_redis_cluster_share_topics() {
    let cluster = push_test_support::redis::RedisCluster::start(3);
    let open = || {
        let mut args = support::args();
        args.redis = Some(cluster.urls().join(","));
        args.redis_cluster = true;
        support::open(args)
    };
    let (a, b) = (open().await, open().await);
    let start = a.broker.head().to_string();
    let mut sse = Sse::open(a.addr, "clustered", None).await;
    for n in 0..3 {
        let (status, body) = publish(b.addr, "clustered", &format!("c{n}"), None).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(sse.data(3).await, ["c0", "c1", "c2"]);
    let (polled, _) = poll_n(b.addr, "clustered", start, 3).await;
    assert_eq!(polled, ["c0", "c1", "c2"]);
    let (status, health) = get(format!("http://{}/healthz", a.addr), false).await;
    assert_eq!((status, health.as_str()), (200, "ok\nredis: reachable\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_history_count_bounds_the_history_in_redis() {
    let redis = RedisServer::start();
    let mut args = support::args();
    args.redis = Some(redis.url());
    args.redis_history_count = 10;
    let small = support::open(args).await;
    let topic = push_core::Topic::new("bounded").unwrap();
    for n in 0..400 {
        let event = push_core::Event::new(n.to_string());
        small
            .broker
            .publish(std::slice::from_ref(&topic), event)
            .await
            .unwrap();
    }
    let len: usize = (0..16)
        .map(|q| {
            let key = format!("push:{{p{q}}}:log");
            redis.cli(&["XLEN", &key]).trim().parse::<usize>().unwrap()
        })
        .sum();
    // 10 entries, rounded up to a whole stream node (100), plus a trim interval (64).
    assert!(
        len < 200,
        "--redis-history-count 10 keeps {len} of 400 events"
    );
}
