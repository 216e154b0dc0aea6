//! A measuring harness (not an example to copy): messages per second from the hub to N
//! WebSocket subscribers of one topic over loopback, STOMP (`/ws` with `v12.stomp`) against
//! the push-ws JSON protocol (`/ws?topic=…`) on the same hub, in the same run, and the hub's
//! CPU time per delivery.
//!
//! ```text
//! cargo run --release -p push-hub --example stomp_fanout -- [SUBSCRIBERS] [EVENTS] [ROUNDS]
//! ```
//!
//! The hub runs in this process on a runtime of its own, one worker thread named `hub`, so its
//! CPU time is read apart from the clients' (the `hub` threads' utime + stime in
//! `/proc/self/task`). The clients run on the main thread; each round publishes EVENTS events
//! of 100 bytes through the hub's broker, as fast as it takes them, and waits until every
//! subscriber has counted every event. Prints one `result` line per protocol and round, then
//! the ratios of the sums.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use push_core::{Broker, Event, Topic};
use push_hub::serve::{Hub, HubBroker};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Protocol {
    Json,
    Stomp,
}

struct Figures {
    per_second: f64,
    cpu_us_per_delivery: f64,
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (subscribers, events, rounds) = (
        args.first().copied().unwrap_or(1000),
        args.get(1).copied().unwrap_or(200),
        args.get(2).copied().unwrap_or(2),
    );
    let hub_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("hub")
        .enable_all()
        .build()
        .expect("the hub's runtime");
    let mut hub_args = push_hub::args::Args::defaults();
    hub_args.addr = "127.0.0.1:0".parse().unwrap();
    hub_args.in_memory = true;
    hub_args.anonymous = true;
    hub_args.jwt_key = vec!["a-load-secret-that-is-long-enough-for-hs256".into()];
    hub_args.queue_count = 4 * events;
    hub_args.history_count = 4 * events;
    hub_args.max_connections = 10 * subscribers + 100;
    hub_args.max_streams_per_client = 10 * subscribers + 100;
    hub_args.max_streams_per_token = 10 * subscribers + 100;
    hub_args.stomp_heart_beat = Duration::ZERO;
    hub_args.log = "warn".into();
    let (addr, broker) = hub_runtime.block_on(async {
        let bound = Hub::new(hub_args).unwrap().bind().unwrap();
        let addr = bound.local_addr();
        let broker = bound.hub().broker().clone();
        tokio::spawn(bound.run(std::future::pending()));
        (addr, broker)
    });
    let clients = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the clients' runtime");
    let mut sums = [(0.0, 0.0); 2];
    for round in 0..rounds {
        for (i, protocol) in [Protocol::Json, Protocol::Stomp].into_iter().enumerate() {
            let topic = format!("fan-{round}-{protocol:?}");
            let f = clients.block_on(measure(
                addr,
                &broker,
                protocol,
                &topic,
                subscribers,
                events,
            ));
            println!(
                "result {protocol:?} round={round} subscribers={subscribers} events={events} \
                 per_second={:.0} hub_cpu_us_per_delivery={:.3}",
                f.per_second, f.cpu_us_per_delivery
            );
            sums[i].0 += f.per_second;
            sums[i].1 += f.cpu_us_per_delivery;
        }
    }
    println!(
        "ratio stomp/json: messages per second {:.3}, hub CPU per delivery {:.3}",
        sums[1].0 / sums[0].0,
        sums[1].1 / sums[0].1
    );
    std::process::exit(0);
}

async fn measure(
    addr: std::net::SocketAddr,
    broker: &HubBroker,
    protocol: Protocol,
    topic: &str,
    subscribers: usize,
    events: usize,
) -> Figures {
    let count = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let ws = subscribe(addr, protocol, topic).await;
        let count = Arc::clone(&count);
        readers.push(tokio::spawn(read(ws, protocol, count)));
    }
    let topics = [Topic::new(topic).unwrap()];
    let expected = (subscribers * events) as u64;
    let cpu = hub_cpu();
    let started = Instant::now();
    for n in 0..events {
        let data = format!("{n:08} {}", "x".repeat(91));
        broker.publish(&topics, Event::new(data)).await.unwrap();
    }
    let deadline = started + Duration::from_secs(300);
    while count.load(Ordering::Relaxed) < expected {
        assert!(
            Instant::now() < deadline,
            "{} of {expected}",
            count.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    let cpu = hub_cpu() - cpu;
    for reader in readers {
        reader.abort();
    }
    Figures {
        per_second: expected as f64 / elapsed.as_secs_f64(),
        cpu_us_per_delivery: cpu.as_secs_f64() * 1e6 / expected as f64,
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A subscriber, subscribed (JSON: after its `subscribed` message; STOMP: after the receipt).
async fn subscribe(addr: std::net::SocketAddr, protocol: Protocol, topic: &str) -> Ws {
    let (url, offered) = match protocol {
        Protocol::Json => (format!("ws://{addr}/ws?topic={topic}"), None),
        Protocol::Stomp => (format!("ws://{addr}/ws"), Some("v12.stomp")),
    };
    let mut request = url.into_client_request().unwrap();
    if let Some(offered) = offered {
        let value = offered.parse().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", value);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let ready = match protocol {
        Protocol::Json => "{\"type\":\"subscribed\"",
        Protocol::Stomp => {
            let connect = "CONNECT\naccept-version:1.2\nhost:hub\n\n\0";
            ws.send(Message::text(connect)).await.unwrap();
            let subscribe = format!("SUBSCRIBE\nid:0\ndestination:/topic/{topic}\nreceipt:r\n\n\0");
            ws.send(Message::text(subscribe)).await.unwrap();
            "RECEIPT"
        }
    };
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) if text.starts_with(ready) => return ws,
            Some(Ok(_)) => {}
            other => panic!("{protocol:?} subscribe: {other:?}"),
        }
    }
}

async fn read(mut ws: Ws, protocol: Protocol, count: Arc<AtomicU64>) {
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let events = match protocol {
            Protocol::Json => u64::from(text.starts_with("{\"type\":\"event\"")),
            // A message may carry several frames, each ended by its NUL (heart-beat EOLs may
            // come between them).
            Protocol::Stomp => text
                .split('\0')
                .filter(|frame| {
                    frame
                        .trim_start_matches(['\r', '\n'])
                        .starts_with("MESSAGE\n")
                })
                .count() as u64,
        };
        if events > 0 {
            count.fetch_add(events, Ordering::Relaxed);
        }
    }
}

/// The CPU time of this process's threads named `hub`: the first field of each one's
/// `schedstat` (nanoseconds on a CPU; `stat`'s utime and stime count 10 ms ticks).
fn hub_cpu() -> Duration {
    let mut nanos = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("hub") {
            continue;
        }
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        nanos += schedstat
            .split(' ')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Duration::from_nanos(nanos)
}
