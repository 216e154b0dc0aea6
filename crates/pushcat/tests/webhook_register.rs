//! `pushcat webhook register` against a hub in this process, and `pushcat webhook serve` as
//! the receiver the hub calls: a receiver that fails the first attempts gets the event once
//! in effect, and a repeated registration gets the same registration and secret.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use push_core::{Broker as _, Event, Topic};
use push_hub::args::Args;
use push_hub::auth::{Algorithm, KeySpec};
use push_hub::serve::Hub;
use push_hub::token::{Claims, mint};
use serde_json::Value;

const KEY: &str = "a-test-secret-that-is-long-enough-for-hs256";

/// A loopback port nothing listens on now (the receiver binds it after the registration).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn register(hub: &str, url: &str, token: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(["webhook", "register", hub, "--url", url])
        .args([
            "--topic",
            "orders/{id}",
            "--id",
            "client-7",
            "--token",
            token,
        ])
        .output()
        .unwrap()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_receiver_that_fails_twice_gets_the_event_once() {
    let mut args = Args::defaults();
    args.addr = "127.0.0.1:0".parse().unwrap();
    args.in_memory = true;
    args.jwt_key = vec![KEY.into()];
    args.callbacks.callbacks_allow_private = true;
    args.callbacks.callbacks_schedule = [Duration::ZERO; 1]
        .into_iter()
        .chain([Duration::from_millis(50); 5])
        .collect();
    let bound = Hub::new(args).unwrap().bind().unwrap();
    let hub = format!("http://{}", bound.local_addr());
    let broker = bound.hub().broker().clone();
    let shutdown = bound.hub().shutdown().clone();
    let task = tokio::spawn(bound.run(std::future::pending()));

    let key = KeySpec::new(KEY, Algorithm::HS256);
    let token = mint(&key, &Claims::new().subscribe("orders/{id}")).unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let (hub2, url2, token2) = (hub.clone(), url.clone(), token.clone());
    let first = tokio::task::spawn_blocking(move || register(&hub2, &url2, &token2))
        .await
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let registration: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(registration["id"], "client-7");
    let secret = registration["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{registration}");
    // The network retry: the same registration and secret.
    let (hub2, url2, token2) = (hub.clone(), url.clone(), token.clone());
    let again = tokio::task::spawn_blocking(move || register(&hub2, &url2, &token2))
        .await
        .unwrap();
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["hub_id"], registration["hub_id"]);
    assert_eq!(again["secret"], registration["secret"]);
    // A token without the topic's grant is refused.
    let other = mint(&key, &Claims::new().subscribe("news")).unwrap();
    let (hub2, url2) = (hub.clone(), url.clone());
    let refused = tokio::task::spawn_blocking(move || register(&hub2, &url2, &other))
        .await
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("403"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let mut receiver = Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(["webhook", "serve", &format!("127.0.0.1:{port}")])
        .args(["--fail-first", "2", "--secret", &secret])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(receiver.stdout.take().unwrap());
    let mut stderr = BufReader::new(receiver.stderr.take().unwrap());
    let receiver = Killed(receiver);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on"), "{line}");

    let topic = Topic::new("orders/12").unwrap();
    let cursor = broker.publish(&[topic], Event::new("paid")).await.unwrap();
    // Attempts 1 and 2 fail (503), the third is printed; then a second event: the next line
    // is that one, so the first took effect once.
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let first: Value = serde_json::from_str(&lines.recv().await.unwrap()).unwrap();
    let body = &first["body"];
    assert_eq!(body["registration"], "client-7");
    assert_eq!(body["topic"], "orders/12");
    assert_eq!(body["cursor"], cursor.to_string());
    assert_eq!(body["data"]["data"], "paid");
    broker
        .publish(&[Topic::new("orders/13").unwrap()], Event::new("shipped"))
        .await
        .unwrap();
    let second: Value = serde_json::from_str(&lines.recv().await.unwrap()).unwrap();
    assert_eq!(second["body"]["data"]["data"], "shipped");
    assert_ne!(second["id"], first["id"]);
    drop(receiver);
    shutdown.trigger();
    let _ = task.await;
}
