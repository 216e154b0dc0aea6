//! The lean path as the hub wires it (plain HTTP/1.1 Mercure subscribers): a stream ends at the
//! shutdown with the same jittered `retry:` hint as on every other path, and its bytes and its
//! subscriber's lag are counted in `/metrics` like every other connection's.

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use push_core::{Broker as _, Event, Topic};
use support::{args, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound on every wait, so a broken test fails instead of hanging.
const BOUND: Duration = Duration::from_secs(10);

/// Opens a plain HTTP/1.1 subscription to `topic` (the lean path) and reads up to the opening
/// comment; the socket and what was read.
async fn subscribe(addr: SocketAddr, topic: &str) -> (TcpStream, Vec<u8>) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /.well-known/mercure?topic={topic} HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let read = read_until(&mut socket, Vec::new(), b": ok\n\n").await;
    assert!(read.starts_with(b"HTTP/1.1 200"), "{read:?}");
    (socket, read)
}

/// Reads from `socket` onto `read` until it holds `needle` (bounded).
async fn read_until(socket: &mut TcpStream, mut read: Vec<u8>, needle: &[u8]) -> Vec<u8> {
    let reading = async {
        let mut chunk = [0u8; 4096];
        while !read.windows(needle.len()).any(|w| w == needle) {
            let n = socket.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed before {needle:?}: {read:?}");
            read.extend_from_slice(&chunk[..n]);
        }
        read
    };
    tokio::time::timeout(BOUND, reading).await.unwrap()
}

/// The hub's `/metrics` text (through hyper).
async fn metrics(addr: SocketAddr) -> String {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /metrics HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut text = String::new();
    tokio::time::timeout(BOUND, socket.read_to_string(&mut text))
        .await
        .unwrap()
        .unwrap();
    text
}

fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lean_stream_ends_with_the_shutdown_retry_hint() {
    let mut hub_args = args();
    hub_args.shutdown_retry = Duration::from_secs(2);
    let hub = start(hub_args);
    let (mut socket, read) = subscribe(hub.addr, "t").await;
    assert!(
        !String::from_utf8_lossy(&read).contains("transfer-encoding"),
        "not the lean path: {read:?}"
    );
    hub.shutdown.trigger();
    let mut rest = Vec::new();
    tokio::time::timeout(BOUND, socket.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    let rest = String::from_utf8(rest).unwrap();
    let retry: u64 = rest
        .strip_prefix("retry: ")
        .and_then(|r| r.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("no retry hint before the end: {rest:?}"))
        .parse()
        .unwrap();
    assert!((2000..=4000).contains(&retry), "{rest:?}");
    tokio::time::timeout(BOUND, hub.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lean_streams_bytes_are_counted_in_bytes_out() {
    let hub = start(args());
    let (mut socket, mut read) = subscribe(hub.addr, "big").await;
    let before = counter(&metrics(hub.addr).await, "push_hub_bytes_out_total");
    // Published in the process: no other connection writes anything for it.
    let data = "x".repeat(512 * 1024);
    let topic = Topic::new("big").unwrap();
    hub.broker
        .publish(&[topic], Event::new(data.clone()))
        .await
        .unwrap();
    let opened = read.len();
    read = read_until(&mut socket, read, format!("data: {data}\n\n").as_bytes()).await;
    let streamed = u64::try_from(read.len() - opened).unwrap();
    // A write is counted when the hub's write call returns, which over loopback can be after
    // the client has read its bytes: look again (bounded) until the count has caught up. The
    // difference also holds the `/metrics` answers (about 3 KiB each, 50 at most: far less
    // than the event), so without the lean stream's bytes it stays under them.
    let mut grown = 0;
    for _ in 0..50 {
        grown = counter(&metrics(hub.addr).await, "push_hub_bytes_out_total") - before;
        if grown >= streamed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        grown >= streamed,
        "bytes out grew by {grown} while the lean stream carried {streamed}"
    );
    hub.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_replaying_history_is_seen_behind_in_the_lag_metric() {
    let hub = start(args());
    let topic = Topic::new("behind").unwrap();
    for n in 0..100 {
        hub.broker
            .publish(std::slice::from_ref(&topic), Event::new(format!("{n}")))
            .await
            .unwrap();
    }
    let before = metrics(hub.addr).await;
    assert!(
        before.contains("push_hub_subscriber_lag_events_count 0"),
        "{before}"
    );
    let (mut socket, read) = subscribe(hub.addr, "behind&lastEventID=earliest").await;
    read_until(&mut socket, read, b"data: 99\n\n").await;
    // One delivery in 16 is sampled: the 1st, 17th, … 97th, each behind by what was left of
    // the 100 after it.
    let text = metrics(hub.addr).await;
    assert!(
        text.contains("push_hub_subscriber_lag_events_count 7"),
        "{text}"
    );
    let sum: u64 = [99, 83, 67, 51, 35, 19, 3].iter().sum();
    assert!(
        text.contains(&format!("push_hub_subscriber_lag_events_sum {sum}.0")),
        "{text}"
    );
    hub.shutdown.trigger();
}
