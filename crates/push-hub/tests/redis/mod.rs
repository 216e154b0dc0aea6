//! The clients of the Redis tests, each speaking to a hub over loopback as a real client does:
//! an SSE reader (curl, which undoes the chunking), a WebSocket, a long poll and a Mercure
//! publisher. Every wait is bounded by [`BOUND`].
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use push_hub::args::Args;
use push_test_support::redis::RedisServer;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{self, InProcess, curl};

/// Every wait of these tests is bounded by this.
pub const BOUND: Duration = Duration::from_secs(20);

/// A hub in this process on `redis` (as `push-hub --redis URL` runs).
pub async fn hub(redis: &RedisServer) -> InProcess {
    let mut args: Args = support::args();
    args.redis = Some(redis.url());
    support::open(args).await
}

/// One SSE event as received.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Frame {
    pub id: String,
    pub event: String,
    pub data: String,
}

/// An SSE stream of a Mercure subscription, read through `curl -N`.
pub struct Sse {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    /// The response's status and headers.
    pub head: String,
}

impl Sse {
    /// Subscribes to `topic` on `addr`, resuming after `last` (`Last-Event-ID`) when given;
    /// returns once the response head has arrived (the subscription exists).
    pub async fn open(addr: SocketAddr, topic: &str, last: Option<&str>) -> Self {
        let url = format!("http://{addr}/.well-known/mercure?topic={topic}");
        let mut command = Command::new(push_test_support::tools::program("curl", "curl"));
        command.args(["-N", "-s", "-i", "--max-time", "60"]);
        if let Some(last) = last {
            command.arg("-H").arg(format!("Last-Event-ID: {last}"));
        }
        let mut child = command
            .arg(url)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("curl starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut head = String::new();
        tokio::time::timeout(BOUND, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.trim_end().is_empty() {
                    break;
                }
                head.push_str(line.trim_end());
                head.push('\n');
            }
        })
        .await
        .expect("the response head within the bound");
        Self { child, lines, head }
    }

    /// The response's status code.
    pub fn status(&self) -> u16 {
        self.head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    /// The next event (comments and `retry:` lines skipped).
    pub async fn frame(&mut self) -> Frame {
        tokio::time::timeout(BOUND, async {
            let mut frame = Frame::default();
            let mut any = false;
            loop {
                let line = self.lines.next_line().await.unwrap().expect("stream open");
                let line = line.trim_end_matches('\r');
                if line.is_empty() {
                    if any {
                        return frame;
                    }
                    continue;
                }
                if let Some((field, value)) = line.split_once(':') {
                    let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                    any |= matches!(field, "id" | "event" | "data");
                    match field {
                        "id" => frame.id = value,
                        "event" => frame.event = value,
                        "data" => frame.data = value,
                        _ => {}
                    }
                }
            }
        })
        .await
        .expect("an SSE event within the bound")
    }

    /// The data of the next events, `n` of them, failing on a gap.
    pub async fn data(&mut self, n: usize) -> Vec<String> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let frame = self.frame().await;
            assert_ne!(frame.event, "gap", "an unexpected gap: {frame:?}");
            out.push(frame.data);
        }
        out
    }
}

/// Publishes `data` on `topic` through `addr`'s Mercure endpoint (with the publisher id `id`
/// when given); the status and the body (the update's id).
pub async fn publish(addr: SocketAddr, topic: &str, data: &str, id: Option<&str>) -> (u16, String) {
    let token = support::token(push_hub::token::Claims::new().publish("*"));
    let mut args = vec![
        "-w".to_owned(),
        "\n%{http_code}".to_owned(),
        "-H".to_owned(),
        format!("Authorization: Bearer {token}"),
        "--data-urlencode".to_owned(),
        format!("topic={topic}"),
        "--data-urlencode".to_owned(),
        format!("data={data}"),
    ];
    if let Some(id) = id {
        args.push("--data-urlencode".to_owned());
        args.push(format!("id={id}"));
    }
    args.push(format!("http://{addr}/.well-known/mercure"));
    let (_, out, err) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&args)
    })
    .await
    .unwrap();
    let (body, code) = out.rsplit_once('\n').unwrap_or(("", &out));
    (code.parse().unwrap_or(0), format!("{body}{err}"))
}

/// A `GET` with curl: the status and the body (`-i`: the head too, when `head`).
pub async fn get(url: String, head: bool) -> (u16, String) {
    let (_, out, _) = tokio::task::spawn_blocking(move || {
        let mut args = vec!["-w", "\n%{http_code}"];
        if head {
            args.push("-i");
        }
        args.push(&url);
        curl(&args)
    })
    .await
    .unwrap();
    let (body, code) = out.rsplit_once('\n').unwrap_or(("", &out));
    (code.parse().unwrap_or(0), body.to_owned())
}

/// One long poll of `topic` on `addr` after `since`: the events' data, their cursors, and the
/// `next` cursor.
pub async fn poll(addr: SocketAddr, topic: &str, since: &str) -> (Vec<String>, String) {
    let (status, body) = get(
        format!("http://{addr}/poll?topic={topic}&since={since}&wait=15"),
        false,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(json["gap"], Value::Bool(false), "{body}");
    let data = json["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["data"].as_str().unwrap().to_owned())
        .collect();
    (data, json["next"].as_str().unwrap().to_owned())
}

/// Long polls from `since` until `n` events came; their data and the cursor after them.
pub async fn poll_n(
    addr: SocketAddr,
    topic: &'static str,
    mut since: String,
    n: usize,
) -> (Vec<String>, String) {
    let mut all = Vec::new();
    tokio::time::timeout(BOUND, async {
        while all.len() < n {
            let (data, next) = poll(addr, topic, &since).await;
            all.extend(data);
            since = next;
        }
    })
    .await
    .expect("the events within the bound");
    (all, since)
}

/// A WebSocket on `/ws` subscribed to `topic` (after `from`, when given).
pub struct Ws(
    tokio_tungstenite::WebSocketStream<TcpStream>,
    #[allow(dead_code)] String,
);

impl Ws {
    pub async fn open(addr: SocketAddr, topic: &str, from: Option<&str>) -> Self {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut url = format!("ws://{addr}/ws?topic={topic}");
        if let Some(from) = from {
            url.push_str(&format!("&from={from}"));
        }
        let (ws, response) = tokio_tungstenite::client_async(url.clone(), tcp)
            .await
            .unwrap();
        assert_eq!(response.status(), 101);
        Self(ws, url)
    }

    /// The next event message as JSON.
    pub async fn event(&mut self) -> Value {
        tokio::time::timeout(BOUND, async {
            loop {
                if let Message::Text(text) = self.0.next().await.unwrap().unwrap() {
                    let json: Value = serde_json::from_str(&text).unwrap();
                    if json["type"] == "event" || json["type"] == "gap" {
                        return json;
                    }
                }
            }
        })
        .await
        .expect("a WebSocket message within the bound")
    }
}
