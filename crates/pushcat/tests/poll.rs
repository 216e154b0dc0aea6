//! `pushcat poll` against an in-process push-longpoll server on loopback.

use std::process::Command;

use push_broker::{Config as BrokerConfig, MemoryBroker};
use push_core::{Cursor, Event, Topic};
use push_longpoll::server::{Config, Endpoint};

use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_one_json_object_per_event_and_gap_then_exits_after_count() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = MemoryBroker::with_epoch(BrokerConfig::default(), 0x5eed);
    let poll = Endpoint::new(broker.clone(), Config::default());
    // The library's endpoint on a plain hyper HTTP/1.1 accept loop.
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = hyper_util::service::TowerToHyperService::new(poll.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), service),
            );
        }
    });
    let topic = Topic::new("t").unwrap();
    let first = broker.publish_now(&topic, Event::new("one")).unwrap();
    broker
        .publish_now(&topic, Event::new("two \"quoted\"").with_event("greet"))
        .unwrap();
    let url = format!("http://{addr}/poll?topic=t&wait=5");
    let since = Cursor::new(1, 1).to_string();
    let args = ["poll", &url, "--since", &since, "--count", "2"];
    let output = support::run(args.iter().map(Into::into).collect()).await;
    let lines = support::json_lines(&output);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["gap"], true);
    assert_eq!(lines[1]["id"], first.to_string());
    assert_eq!(lines[1]["data"], "one");
    assert_eq!(lines[1]["event"], "message");
    assert_eq!(lines[2]["data"], "two \"quoted\"");
    assert_eq!(lines[2]["event"], "greet");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(["poll", "http://127.0.0.1:1/poll?topic=t", "--since", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
}
