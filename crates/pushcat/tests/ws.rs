//! `pushcat ws` against an in-process push-ws server on loopback.

use std::process::Command;

use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_ws::server::{Config, Open};

use crate::support;

/// A push-ws server on loopback over `broker` (behind TLS with `tls`); its port.
async fn serve(broker: MemoryBroker, tls: Option<push_test_support::TlsAcceptor>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (broker, tls) = (broker.clone(), tls.clone());
            tokio::spawn(async move {
                let config = Config::default();
                let outcome = match tls {
                    Some(tls) => {
                        let (ws, _, request) =
                            push_ws::server::accept(tls.accept(tcp).await?, &config).await?;
                        push_ws::server::drive(ws, request, broker, Open, &config).await
                    }
                    None => {
                        let (ws, _, request) = push_ws::server::accept(tcp, &config).await?;
                        push_ws::server::drive(ws, request, broker, Open, &config).await
                    }
                };
                outcome.map_err(Box::<dyn std::error::Error + Send + Sync>::from)
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_from_a_cursor_and_prints_one_json_object_per_message() {
    let broker = MemoryBroker::default();
    let port = serve(broker.clone(), None).await;
    let topic = Topic::new("t").unwrap();
    let seen = broker.publish_now(&topic, Event::new("seen")).unwrap();
    let text = broker
        .publish_now(&topic, Event::new("two \"quoted\"").with_event("greet"))
        .unwrap();
    let binary = broker
        .publish_now(&topic, Event::new(vec![0u8, 0xff]))
        .unwrap();
    let url = format!("ws://127.0.0.1:{port}/");
    let from = seen.to_string();
    let args = [
        "ws",
        &url,
        "--subscribe",
        "t",
        "--from",
        &from,
        "--count",
        "2",
    ];
    let output = support::run(args.iter().map(Into::into).collect()).await;
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
    let broker = MemoryBroker::default();
    let port = serve(broker.clone(), Some(acceptor)).await;
    let topic = Topic::new("t").unwrap();
    let start = broker.publish_now(&topic, Event::new("before")).unwrap();
    let secret = broker.publish_now(&topic, Event::new("secret")).unwrap();
    let url = format!("wss://localhost:{port}/");
    let from = start.to_string();
    let mut args: Vec<std::ffi::OsString> = ["ws", &url, "--subscribe", "t", "--from", &from]
        .iter()
        .map(Into::into)
        .collect();
    args.extend(["--count".into(), "1".into(), "--cacert".into(), pem.into()]);
    let output = support::run(args).await;
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
