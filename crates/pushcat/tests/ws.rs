//! `pushcat ws` against an in-process push-ws server on loopback.

use std::process::Command;
use std::time::Duration;

use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_ws::{AcceptConfig, ConnectionConfig};

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_from_a_cursor_and_prints_one_json_object_per_message() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = MemoryBroker::default();
    let server = broker.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let broker = server.clone();
            tokio::spawn(async move {
                let (ws, _) = push_ws::accept(stream, &AcceptConfig::default()).await?;
                push_ws::serve(ws, broker, &ConnectionConfig::default()).await
            });
        }
    });
    let topic = Topic::new("t").unwrap();
    let seen = broker.publish_now(&topic, Event::new("seen")).unwrap();
    let text = broker
        .publish_now(&topic, Event::new("two \"quoted\"").with_event("greet"))
        .unwrap();
    let binary = broker
        .publish_now(&topic, Event::new(vec![0u8, 0xff]))
        .unwrap();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_pushcat"))
            .args(["ws", &format!("ws://{addr}/"), "--subscribe", "t"])
            .args(["--from", &seen.to_string(), "--count", "2"])
            .output()
            .unwrap()
    });
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .unwrap()
        .unwrap();
    let lines = support::json_lines(&output);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["type"], "subscribed");
    assert_eq!(lines[1]["id"], text.to_string());
    assert_eq!(lines[1]["data"], "two \"quoted\"");
    assert_eq!(lines[1]["event"], "greet");
    assert_eq!(lines[2]["id"], binary.to_string());
    assert_eq!(lines[2]["data_hex"], "00ff");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribes_over_wss_trusting_a_cacert_file() {
    let (acceptor, pem) = support::tls_acceptor("ws");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let broker = MemoryBroker::default();
    let server = broker.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (broker, acceptor) = (server.clone(), acceptor.clone());
            tokio::spawn(async move {
                let tls = acceptor.accept(tcp).await?;
                let (ws, _) = push_ws::accept(tls, &AcceptConfig::default()).await?;
                push_ws::serve(ws, broker, &ConnectionConfig::default()).await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            });
        }
    });
    let topic = Topic::new("t").unwrap();
    let start = broker.publish_now(&topic, Event::new("before")).unwrap();
    let secret = broker.publish_now(&topic, Event::new("secret")).unwrap();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_pushcat"))
            .args([
                "ws",
                &format!("wss://localhost:{port}/"),
                "--subscribe",
                "t",
            ])
            .args(["--from", &start.to_string(), "--count", "1", "--cacert"])
            .arg(&pem)
            .output()
            .unwrap()
    });
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .unwrap()
        .unwrap();
    let lines = support::json_lines(&output);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[1]["id"], secret.to_string());
    assert_eq!(lines[1]["data"], "secret");
}

#[test]
fn ws_needs_a_topic() {
    let out = Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(["ws", "ws://127.0.0.1:1/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--subscribe"));
}
