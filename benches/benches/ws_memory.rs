//! Resident memory per idle WebSocket connection on loopback, at 10,000 connections: push-ws
//! (its 4 KiB read buffer, subscribed to a topic through the broker, heartbeat armed) against
//! tokio-tungstenite with its defaults (128 KiB read buffer) and a task awaiting the next message.
//!
//! 10,000 connections are 20,000 file descriptors, the whole limit of one process here, so each
//! measurement runs in its own server process (so freed memory of one run cannot flatter the
//! next) and the clients in a third. The server reads its `VmRSS` before the clients connect and
//! once all of them are established and idle.
//!
//! Prints `ws idle memory: push-ws X KiB/conn, tokio-tungstenite defaults Y KiB/conn`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use push_broker::MemoryBroker;
use push_ws::server::{Config as WsConfig, Open};
use push_ws::tungstenite::Message;
use push_ws::tungstenite::protocol::WebSocketConfig;
use tokio::net::TcpListener;

const CONNECTIONS: usize = 10_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("server") => server(&args[1]),
        Some("client") => client(&args[1], args[2].parse().expect("count"), &args[3]),
        // `cargo bench` passes `--bench` (and maybe a filter): run both measurements.
        _ => {
            let mut results = Vec::new();
            for variant in ["push-ws", "tokio-tungstenite"] {
                let out = Command::new(std::env::current_exe().expect("own path"))
                    .args(["server", variant])
                    .stderr(Stdio::inherit())
                    .output()
                    .expect("server process");
                let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                if !out.status.success() || text.is_empty() {
                    eprintln!("ws_memory: the {variant} measurement failed");
                    return ExitCode::FAILURE;
                }
                results.push(text);
            }
            push_benches::note(
                "ws_memory",
                &format!(
                    "ws idle memory: push-ws {} KiB/conn, tokio-tungstenite defaults {} KiB/conn",
                    results[0], results[1]
                ),
            );
            ExitCode::SUCCESS
        }
    }
}

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Serves idle connections of `variant`, measures, prints KiB per connection.
fn server(variant: &str) -> ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let push = variant == "push-ws";
    let per_conn = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let established = Arc::new(AtomicUsize::new(0));
        let broker = MemoryBroker::default();
        let counter = Arc::clone(&established);
        tokio::spawn(async move {
            let config = WsConfig::default();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (config, broker, counter) =
                    (config.clone(), broker.clone(), Arc::clone(&counter));
                tokio::spawn(async move {
                    if push {
                        let Ok((ws, _, request)) = push_ws::server::accept(tcp, &config).await
                        else {
                            return;
                        };
                        counter.fetch_add(1, Ordering::Release);
                        let _ = push_ws::server::drive(ws, request, broker, Open, &config).await;
                    } else {
                        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                            return;
                        };
                        counter.fetch_add(1, Ordering::Release);
                        while let Some(Ok(m)) = ws.next().await {
                            if m.is_text() && ws.send(m).await.is_err() {
                                break;
                            }
                        }
                    }
                });
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = vm_rss_kib();
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .args([
                "client",
                &addr.to_string(),
                &CONNECTIONS.to_string(),
                variant,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("client process");
        let stdout = child.stdout.take().expect("stdout");
        let ready = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .expect("join")
        .expect("client output");
        assert_eq!(ready.trim(), "ready", "the client failed");
        while established.load(Ordering::Acquire) < CONNECTIONS {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let every connection reach its idle state.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = vm_rss_kib();
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(b"done\n");
        }
        let _ = child.kill();
        let _ = child.wait();
        (after.saturating_sub(before)) as f64 / CONNECTIONS as f64
    });
    println!("{per_conn:.1}");
    ExitCode::SUCCESS
}

/// Opens `count` connections to `addr` (subscribing, for push-ws), prints `ready`, and holds
/// them until stdin closes.
fn client(addr: &str, count: usize, variant: &str) -> ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let url = format!("ws://{addr}/");
    let push = variant == "push-ws";
    let sockets = rt.block_on(async {
        futures_util::stream::iter(0..count)
            .map(|_| {
                let url = url.clone();
                async move {
                    let config = WebSocketConfig::default().read_buffer_size(4096);
                    let (mut ws, _) =
                        tokio_tungstenite::connect_async_with_config(url, Some(config), false)
                            .await
                            .expect("connect");
                    if push {
                        let subscribe = r#"{"type":"subscribe","topics":["idle"]}"#;
                        ws.send(Message::text(subscribe)).await.expect("subscribe");
                        ws.next().await.expect("ack").expect("ack");
                    }
                    ws
                }
            })
            .buffer_unordered(64)
            .collect::<Vec<_>>()
            .await
    });
    println!("ready");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(sockets);
    ExitCode::SUCCESS
}
