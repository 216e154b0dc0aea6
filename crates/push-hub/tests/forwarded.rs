//! Behind a reverse proxy: `X-Forwarded-For` / `Forwarded` name the client only when the peer
//! is a configured proxy (`--trusted-proxy`); the per-client stream quota counts that client.
//! From any other peer the headers are ignored and the peer is the client.

use crate::support;

use std::net::SocketAddr;

use push_test_support::http::RawClient as Raw;
use support::{args, start};

/// Opens an SSE stream with `header`; its status and the held connection.
async fn stream(addr: SocketAddr, header: &str) -> (u16, Raw) {
    let header = format!("{header}\r\n");
    support::get_status(addr, "/.well-known/mercure?topic=t", &header).await
}

fn hub_args(trusted: &[&str]) -> push_hub::args::Args {
    let mut args = args();
    args.max_streams_per_client = 1;
    args.trusted_proxy = trusted.iter().map(|t| t.parse().unwrap()).collect();
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxys_headers_name_the_client_the_quota_counts() {
    let hub = start(hub_args(&["127.0.0.1/32"]));
    let (first, _a) = stream(hub.addr, "X-Forwarded-For: 203.0.113.1").await;
    assert_eq!(first, 200);
    let (again, _) = stream(hub.addr, "X-Forwarded-For: 203.0.113.1").await;
    assert_eq!(again, 429, "the same client, over its quota of one stream");
    let (other, _b) = stream(hub.addr, "X-Forwarded-For: 203.0.113.2").await;
    assert_eq!(other, 200, "another client behind the same proxy");
    let (forwarded, _c) = stream(hub.addr, "Forwarded: for=\"[2001:db8::1]:4711\"").await;
    assert_eq!(forwarded, 200);
    let (again, _) = stream(hub.addr, "Forwarded: for=\"[2001:db8::1]\"").await;
    assert_eq!(again, 429, "RFC 7239's form names the same client");

    // Through hyper too: a held long poll is a stream of the client the proxy names.
    let poll = |client: &str| {
        let header = format!("X-Forwarded-For: {client}\r\n");
        async move { Raw::get(hub.addr, "/poll?topic=t&wait=30", &header).await }
    };
    let _held = poll("203.0.113.7").await;
    // Once the hub holds it (its gauge says so, looked at a bounded number of times).
    let mut held = false;
    for _ in 0..250 {
        let mut metrics = Raw::get(hub.addr, "/metrics", "Connection: close\r\n").await;
        if metrics
            .to_end()
            .await
            .contains("push_hub_streams{transport=\"longpoll\"} 1")
        {
            held = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(held, "the first poll is held");
    let line = poll("203.0.113.7").await.until("\r\n").await;
    assert!(line.starts_with("HTTP/1.1 429"), "{line}");
    hub.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_peers_headers_are_ignored() {
    let hub = start(hub_args(&["192.0.2.0/24"]));
    let (first, _a) = stream(hub.addr, "X-Forwarded-For: 203.0.113.1").await;
    assert_eq!(first, 200);
    // Claiming to be someone else does not get a loopback peer a second stream.
    let (other, _) = stream(hub.addr, "X-Forwarded-For: 203.0.113.2").await;
    assert_eq!(other, 429);
    hub.task.abort();
}
