//! WebSocket push throughput and echo round trips over loopback: push-ws (accept policy, small
//! buffers, heartbeat, broker subscription, encode-once JSON) against raw tokio-tungstenite with
//! its defaults (what users write by hand), on the same runtime in the same run. Every socket
//! has `TCP_NODELAY` set, on both sides of both.
//!
//! - `ws_push`: each iteration publishes 100 events of 100 bytes on a topic and waits until the
//!   client has received all 100 JSON messages. The raw server reads pre-encoded JSON from a
//!   `tokio::sync::broadcast` channel (encoded with serde_json at publish time) and writes it
//!   with `feed` + `flush`.
//!   Afterwards both are also run in alternating rounds (see `interleaved`), whose median ratio
//!   is noted: the two criterion figures are taken seconds apart and drift with the machine.
//! - `ws_echo`: each iteration is one round trip of a 32-byte text message.
//!
//! The same binary is the deterministic driver for instruction counts (`drive` mode, a
//! current-thread runtime unless `mt` is given):
//!
//! ```text
//! cargo bench -p push-benches --bench ws --no-run   # prints the binary's path
//! valgrind --tool=callgrind BINARY drive push-ws 20000 [mt]
//! valgrind --tool=callgrind BINARY drive tokio-tungstenite 20000 [mt]
//! ```
//!
//! Run each with two event counts and divide the difference of the instructions by the
//! difference of the counts for the instructions per delivered event.

use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use futures_util::{SinkExt, StreamExt};
use push_broker::{Config, MemoryBroker};
use push_core::{Event, Topic};
use push_ws::tungstenite::{Message, Utf8Bytes};
use push_ws::{AcceptConfig, ConnectionConfig, Handler, Outbox};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::broadcast;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const BATCH: usize = 100;

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn event(i: u64) -> Event {
    let mut data = format!("{i:>12}");
    data.push_str(&"x".repeat(100 - data.len()));
    Event::new(data).with_event("update")
}

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

/// Both servers (and the client) disable Nagle, as push servers do: otherwise a write that
/// follows a small unacknowledged one (push-ws's `subscribed` reply, a partial batch) waits for
/// the peer's delayed ACK, up to 40 ms, which measures the TCP stack rather than the library.
async fn accept(listener: &TcpListener) -> TcpStream {
    let (tcp, _) = listener.accept().await.expect("accept");
    tcp.set_nodelay(true).expect("nodelay");
    tcp
}

async fn connect(addr: SocketAddr) -> Client {
    tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/"), None, true)
        .await
        .expect("connect")
        .0
}

async fn receive(client: &mut Client, n: usize) {
    for _ in 0..n {
        let m = client.next().await.expect("open").expect("message");
        std::hint::black_box(m);
    }
}

fn push_ws_push(rt: &Runtime, iters: u64) -> Duration {
    rt.block_on(async {
        let config = Config::default()
            .with_history_count(4 * BATCH)
            .with_queue_count(4 * BATCH);
        let broker = MemoryBroker::new(config);
        let topic = Topic::new("bench").expect("topic");
        let (listener, addr) = listener().await;
        let server_broker = broker.clone();
        let server = tokio::spawn(async move {
            let tcp = accept(&listener).await;
            let (ws, _) = push_ws::accept(tcp, &AcceptConfig::default())
                .await
                .expect("handshake");
            push_ws::serve(ws, server_broker, &ConnectionConfig::default()).await
        });
        let mut client = connect(addr).await;
        let subscribe = r#"{"type":"subscribe","topics":["bench"]}"#;
        client.send(Message::text(subscribe)).await.expect("send");
        receive(&mut client, 1).await;
        let started = Instant::now();
        for i in 0..iters {
            for j in 0..BATCH as u64 {
                broker
                    .publish_now(&topic, event(i * 1000 + j))
                    .expect("publish");
            }
            receive(&mut client, BATCH).await;
        }
        let elapsed = started.elapsed();
        server.abort();
        elapsed
    })
}

#[derive(serde::Serialize)]
struct Json<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    topic: &'a str,
    id: String,
    event: Option<&'a str>,
    data: &'a str,
}

fn raw_push(rt: &Runtime, iters: u64) -> Duration {
    rt.block_on(async {
        let (tx, mut rx) = broadcast::channel::<Utf8Bytes>(4 * BATCH);
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let tcp = accept(&listener).await;
            let mut ws = tokio_tungstenite::accept_async(tcp)
                .await
                .expect("handshake");
            while let Ok(first) = rx.recv().await {
                ws.feed(Message::Text(first)).await.expect("feed");
                while let Ok(more) = rx.try_recv() {
                    ws.feed(Message::Text(more)).await.expect("feed");
                }
                ws.flush().await.expect("flush");
            }
        });
        let mut client = connect(addr).await;
        let started = Instant::now();
        for i in 0..iters {
            for j in 0..BATCH as u64 {
                let e = event(i * 1000 + j);
                let json = serde_json::to_string(&Json {
                    kind: "event",
                    topic: "bench",
                    id: format!("1-{:x}", i * 1000 + j),
                    event: e.event.as_deref(),
                    data: std::str::from_utf8(&e.data).expect("utf-8"),
                })
                .expect("json");
                tx.send(json.into()).expect("receiver");
            }
            receive(&mut client, BATCH).await;
        }
        let elapsed = started.elapsed();
        server.abort();
        elapsed
    })
}

struct Echo;

impl Handler for Echo {
    fn on_message(&mut self, message: Message, outbox: &mut Outbox) {
        outbox.push(message);
    }

    fn poll_outgoing(&mut self, _cx: &mut Context<'_>) -> Poll<Option<Message>> {
        Poll::Ready(None)
    }
}

async fn round_trips(client: &mut Client, iters: u64) -> Duration {
    let text = Utf8Bytes::from("x".repeat(32));
    let started = Instant::now();
    for _ in 0..iters {
        client
            .send(Message::Text(text.clone()))
            .await
            .expect("send");
        receive(client, 1).await;
    }
    started.elapsed()
}

fn push_ws_echo(rt: &Runtime, iters: u64) -> Duration {
    rt.block_on(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let tcp = accept(&listener).await;
            let (ws, _) = push_ws::accept(tcp, &AcceptConfig::default())
                .await
                .expect("handshake");
            push_ws::run(ws, &ConnectionConfig::default(), Echo).await
        });
        let mut client = connect(addr).await;
        let elapsed = round_trips(&mut client, iters).await;
        server.abort();
        elapsed
    })
}

fn raw_echo(rt: &Runtime, iters: u64) -> Duration {
    rt.block_on(async {
        let (listener, addr) = listener().await;
        let server = tokio::spawn(async move {
            let tcp = accept(&listener).await;
            let mut ws = tokio_tungstenite::accept_async(tcp)
                .await
                .expect("handshake");
            while let Some(Ok(m)) = ws.next().await {
                if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
                    break;
                }
            }
        });
        let mut client = connect(addr).await;
        let elapsed = round_trips(&mut client, iters).await;
        server.abort();
        elapsed
    })
}

fn ws(c: &mut Criterion) {
    let rt = push_benches::runtime();
    pair(c, &rt, "ws_push", BATCH, push_ws_push, raw_push);
    interleaved(&rt);
    pair(c, &rt, "ws_echo", 1, push_ws_echo, raw_echo);
}

/// One criterion group: push-ws against tokio-tungstenite, `elements` messages per iteration.
fn pair(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    elements: usize,
    ours: fn(&Runtime, u64) -> Duration,
    theirs: fn(&Runtime, u64) -> Duration,
) {
    let mut group = c.benchmark_group(name);
    group
        .throughput(Throughput::Elements(elements as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("push-ws", |b| b.iter_custom(|iters| ours(rt, iters)));
    group.bench_function("tokio-tungstenite", |b| {
        b.iter_custom(|iters| theirs(rt, iters))
    });
    group.finish();
}

/// Alternates rounds of `ITERS` batches of `BATCH` events through each side (the same harness as
/// the `ws_push` criterion functions, a fresh connection every round) and notes the median of the
/// per-round ratios of messages per second. One batch alone takes a fraction of a millisecond,
/// too short to time against scheduler noise, hence several per round.
fn interleaved(rt: &Runtime) {
    const ROUNDS: usize = 15;
    const ITERS: u64 = 400;
    let r = push_benches::interleave(ROUNDS, || push_ws_push(rt, ITERS), || raw_push(rt, ITERS));
    let per = ITERS as u32;
    push_benches::note(
        "ws_push",
        &format!(
            "ws_push interleaved ({ROUNDS} rounds of {ITERS} batches of {BATCH}): per batch \
             push-ws median {:?}, tokio-tungstenite median {:?}; \
             push-ws ÷ tokio-tungstenite messages/s, median of the rounds: {}",
            r.ours / per,
            r.theirs / per,
            r.ratio(),
        ),
    );
}

/// `drive MODE EVENTS [mt]`: pushes EVENTS events through push-ws or raw tokio-tungstenite with
/// the bench's own harness, for callgrind.
fn drive(args: &[String]) {
    let mode = args.first().map_or("push-ws", String::as_str);
    let events: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let rt = if args.get(2).is_some_and(|t| t == "mt") {
        push_benches::runtime()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    };
    let batches = events / BATCH as u64;
    let elapsed = match mode {
        "push-ws" => push_ws_push(&rt, batches),
        "tokio-tungstenite" => raw_push(&rt, batches),
        other => panic!("unknown mode {other}: push-ws, tokio-tungstenite"),
    };
    println!("{mode}: {events} events in {elapsed:?}");
}

criterion_group!(benches, ws);

push_benches::criterion_main_with_drive!(benches, drive);
