//! A deterministic driver for instruction counts (`valgrind --tool=callgrind`): pushes N events
//! over loopback TCP (`TCP_NODELAY`, as a push server sets it) on a current-thread runtime, through push-ws's `serve` on a `MemoryBroker`
//! or through raw tokio-tungstenite fed from a `broadcast` channel, like `benches/benches/ws.rs`.
//!
//! ```text
//! cargo build --release -p push-ws --example push_profile
//! valgrind --tool=callgrind target/release/examples/push_profile push-ws 20000
//! valgrind --tool=callgrind target/release/examples/push_profile raw 20000
//! ```
//! Run each with two counts and divide the difference by the difference of the counts to get
//! the instructions per delivered event.

use futures_util::{SinkExt, StreamExt};
use push_broker::{Config, MemoryBroker};
use push_core::{Event, Topic};
use push_ws::tungstenite::{Message, Utf8Bytes};
use push_ws::{AcceptConfig, ConnectionConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const BATCH: usize = 100;

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn event(i: u64) -> Event {
    let mut data = format!("{i:>12}");
    data.push_str(&"x".repeat(100 - data.len()));
    Event::new(data).with_event("update")
}

async fn receive(client: &mut Client, n: usize) {
    for _ in 0..n {
        let m = client.next().await.expect("open").expect("message");
        std::hint::black_box(m);
    }
}

async fn push_ws(batches: u64) {
    let config = Config::default()
        .history_count(4 * BATCH)
        .queue_count(4 * BATCH);
    let broker = MemoryBroker::new(config);
    let topic = Topic::new("bench").expect("topic");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server_broker = broker.clone();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        tcp.set_nodelay(true).expect("nodelay");
        let mut config = AcceptConfig::default();
        if let Some(bytes) = std::env::var("WRITE_BUFFER")
            .ok()
            .and_then(|b| b.parse().ok())
        {
            config = config.write_buffer_size(bytes);
        }
        let (ws, _) = push_ws::accept(tcp, &config).await.expect("handshake");
        push_ws::serve(ws, server_broker, &ConnectionConfig::default()).await
    });
    let (mut client, _) =
        tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/"), None, true)
            .await
            .expect("connect");
    let subscribe = r#"{"type":"subscribe","topics":["bench"]}"#;
    client.send(Message::text(subscribe)).await.expect("send");
    receive(&mut client, 1).await;
    for i in 0..batches {
        for j in 0..BATCH as u64 {
            broker
                .publish_now(&topic, event(i * 1000 + j))
                .expect("publish");
        }
        receive(&mut client, BATCH).await;
    }
    server.abort();
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

async fn raw(batches: u64) {
    let (tx, mut rx) = broadcast::channel::<Utf8Bytes>(4 * BATCH);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        tcp.set_nodelay(true).expect("nodelay");
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
    let (mut client, _) =
        tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/"), None, true)
            .await
            .expect("connect");
    for i in 0..batches {
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
    server.abort();
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "push-ws".into());
    let events: u64 = args.next().map_or(10_000, |n| n.parse().expect("a count"));
    let threads = args.next().is_some_and(|t| t == "mt");
    let batches = events / BATCH as u64;
    let rt = if threads {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .expect("runtime");
    let started = std::time::Instant::now();
    match mode.as_str() {
        "raw" => rt.block_on(raw(batches)),
        _ => rt.block_on(push_ws(batches)),
    }
    eprintln!("{mode}: {events} events in {:?}", started.elapsed());
}
