//! STOMP over WebSocket on loopback: the endpoint mounted in axum, against tungstenite (frames
//! written here) and against Python's `stomp.py` (a client nobody here wrote; its WebSocket
//! transport), which `cargo xtask setup` installs into `.tools/venv`.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use push_broker::{Config as BrokerConfig, MemoryBroker};
use push_core::{Broker, Event, Topic};
use push_stomp::server::{Config, Endpoint};
use push_stomp::{Command as Stomp, Decoder, Frame, Item, Limits, OpenPublish};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const LIMIT: Duration = Duration::from_secs(10);

async fn serve(broker: MemoryBroker) -> SocketAddr {
    let endpoint = Endpoint::new(broker, Config::default()).with_publish(OpenPublish);
    let app = axum::Router::new().route_service("/stomp", endpoint);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_frame(ws: &mut Ws) -> Option<Frame> {
    loop {
        let message = timeout(LIMIT, ws.next()).await.unwrap()?.unwrap();
        let data = match message {
            Message::Text(text) => bytes::Bytes::copy_from_slice(text.as_bytes()),
            Message::Binary(data) => data,
            Message::Close(_) => return None,
            _ => continue,
        };
        let mut decoder = Decoder::new(Limits::default());
        decoder.feed(&data);
        match decoder.poll().unwrap() {
            Some(Item::Frame(frame)) => return Some(frame),
            Some(Item::Heartbeat) | None => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stomp_session_over_websocket() {
    let broker = MemoryBroker::new(BrokerConfig::default());
    let addr = serve(broker.clone()).await;
    let mut request = format!("ws://{addr}/stomp").into_client_request().unwrap();
    let offered = "v10.stomp, v11.stomp, v12.stomp".parse().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offered);
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "v12.stomp");

    let send = |text: &str| Message::Text(text.into());
    ws.send(send("CONNECT\naccept-version:1.1,1.2\nhost:hub\n\n\0"))
        .await
        .unwrap();
    let connected = next_frame(&mut ws).await.unwrap();
    assert_eq!(connected.command(), Stomp::Connected);
    assert_eq!(connected.header("version"), Some("1.2"));
    // Two frames in one message, the second split across two messages.
    ws.send(send(
        "SUBSCRIBE\nid:0\ndestination:/topic/news\nreceipt:r\n\n\0SEND\ndest",
    ))
    .await
    .unwrap();
    ws.send(send("ination:/topic/news\n\nfrom stomp\0"))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut ws).await.unwrap().header("receipt-id"),
        Some("r")
    );
    let sent = next_frame(&mut ws).await.unwrap();
    assert_eq!(&sent.body()[..], b"from stomp");
    let cursor = broker
        .publish(
            &[Topic::new("news").unwrap()],
            Event::new("from the broker"),
        )
        .await
        .unwrap();
    let message = next_frame(&mut ws).await.unwrap();
    assert_eq!(message.header("message-id"), Some(cursor.text().as_str()));
    assert_eq!(&message.body()[..], b"from the broker");
    // An event past the size the server joins: its MESSAGE is two fragments of one WebSocket
    // message (the head, then the event's shared tail), which the client reads as one.
    let large = "x".repeat(4000);
    broker
        .publish(&[Topic::new("news").unwrap()], Event::new(large.clone()))
        .await
        .unwrap();
    let message = next_frame(&mut ws).await.unwrap();
    assert_eq!(message.header("subscription"), Some("0"));
    assert_eq!(message.header("content-length"), Some("4000"));
    assert_eq!(&message.body()[..], large.as_bytes());
    ws.send(send("DISCONNECT\nreceipt:bye\n\n\0"))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut ws).await.unwrap().header("receipt-id"),
        Some("bye")
    );
    assert!(
        next_frame(&mut ws).await.is_none(),
        "the server closes after DISCONNECT"
    );
}

/// Runs the Python `script` with `args` (bounded in time) and returns what it printed; it must
/// succeed.
async fn stomp_py(python: &std::path::Path, script: &str, args: &[&str]) -> Vec<u8> {
    let child = tokio::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let output = timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("stomp.py finishes in time")
        .unwrap();
    assert!(output.status.success(), "the stomp.py client failed");
    output.stdout
}

const STOMP_PY: &str = r#"
import json, sys, threading, stomp

port, resume = int(sys.argv[1]), sys.argv[2]
seen, lock = [], threading.Condition()

class Listener(stomp.ConnectionListener):
    def on_message(self, frame):
        with lock:
            seen.append(("message", frame.headers, frame.body))
            lock.notify_all()
    def on_receipt(self, frame):
        with lock:
            seen.append(("receipt", frame.headers, frame.body))
            lock.notify_all()
    def on_error(self, frame):
        with lock:
            seen.append(("error", frame.headers, frame.body))
            lock.notify_all()

def wait(kind, count):
    with lock:
        ok = lock.wait_for(lambda: sum(1 for s in seen if s[0] == kind) >= count, timeout=10)
        assert ok, f"no {kind} in time: {seen}"
        return [s for s in seen if s[0] == kind]

conn = stomp.WSConnection([("127.0.0.1", port)], ws_path="/stomp", heartbeats=(1000, 1000))
conn.set_listener("l", Listener())
conn.connect(wait=True)
conn.subscribe("/topic/news", id="py", ack="client-individual",
               headers={"receipt": "subscribed", "x-resume-after": resume})
wait("receipt", 1)
first = wait("message", 1)[0]
conn.ack(first[1]["ack"])
conn.send("/topic/news", "from stomp.py", headers={"receipt": "sent"})
wait("receipt", 2)
second = wait("message", 2)[1]
conn.ack(second[1]["ack"])
conn.disconnect(receipt="bye")
# stomp.py's disconnect returns once DISCONNECT is sent, not when its receipt comes.
wait("receipt", 3)
for kind, headers, body in seen:
    print(json.dumps({"kind": kind, "headers": headers, "body": body}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stomp_py_over_websocket_resumes_sends_and_acks() {
    let python = push_test_support::tools::python(&["stomp"]);
    let broker = MemoryBroker::new(BrokerConfig::default());
    let topics = [Topic::new("news").unwrap()];
    let first = broker
        .publish(&topics, Event::new("missed 1"))
        .await
        .unwrap();
    broker
        .publish(&topics, Event::new("missed 2"))
        .await
        .unwrap();
    let addr = serve(broker).await;
    let port = addr.port().to_string();
    let stdout = stomp_py(&python, STOMP_PY, &[&port, first.text().as_str()]).await;
    let seen: Vec<Value> = String::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<_> = seen.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"error"), "{seen:?}");
    let bodies: Vec<_> = seen
        .iter()
        .filter(|s| s["kind"] == "message")
        .map(|s| s["body"].as_str().unwrap())
        .collect();
    // Resumed after the first event: the second, then its own SEND, nothing twice.
    assert_eq!(bodies, ["missed 2", "from stomp.py"], "{seen:?}");
    let receipts: Vec<_> = seen
        .iter()
        .filter(|s| s["kind"] == "receipt")
        .map(|s| s["headers"]["receipt-id"].as_str().unwrap())
        .collect();
    assert_eq!(receipts, ["subscribed", "sent", "bye"], "{seen:?}");
}

/// Subscribes to `/topic/news` over a fresh WebSocket (v12.stomp), after `resume` if given,
/// and returns once the subscription's receipt came.
async fn subscribed(addr: SocketAddr, resume: Option<&str>) -> Ws {
    let mut request = format!("ws://{addr}/stomp").into_client_request().unwrap();
    let offered = "v12.stomp".parse().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offered);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let resume = resume.map_or(String::new(), |c| format!("x-resume-after:{c}\n"));
    let frames = format!(
        "CONNECT\naccept-version:1.2\nhost:hub\n\n\0SUBSCRIBE\nid:0\ndestination:/topic/news\n{resume}receipt:r\n\n\0"
    );
    ws.send(Message::Text(frames.into())).await.unwrap();
    for _ in 0..2 {
        next_frame(&mut ws).await.unwrap();
    }
    ws
}

/// `MESSAGE` frames ready at once share WebSocket messages (each at most 8 KiB, every frame
/// whole, in order); a large one goes on its own, and the batch resumes after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_ready_at_once_share_a_websocket_message() {
    let broker = MemoryBroker::new(BrokerConfig::default());
    let addr = serve(broker.clone()).await;
    let topics = [Topic::new("news").unwrap()];
    let mut ws = subscribed(addr, None).await;
    let large = "L".repeat(4000);
    let mut want = Vec::new();
    for n in 0..201 {
        let data = if n == 100 {
            large.clone()
        } else {
            format!("event {n} {}", "x".repeat(60))
        };
        broker
            .publish(&topics, Event::new(data.clone()))
            .await
            .unwrap();
        want.push(data);
    }
    let mut decoder = Decoder::new(Limits::default());
    let (mut bodies, mut messages) = (Vec::new(), 0);
    while bodies.len() < want.len() {
        let message = timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        messages += 1;
        assert!(text.len() <= 8 * 1024, "a message of {} bytes", text.len());
        decoder.feed(text.as_bytes());
        let before = bodies.len();
        while let Some(item) = decoder.poll().unwrap() {
            if let Item::Frame(frame) = item {
                assert_eq!(frame.command(), Stomp::Message);
                bodies.push(String::from_utf8(frame.body().to_vec()).unwrap());
            }
        }
        assert!(bodies.len() > before, "a message without a whole frame");
    }
    assert_eq!(bodies, want);
    assert!(
        messages < want.len() / 4,
        "{messages} WebSocket messages for {} frames ready at once",
        want.len()
    );
}

const STOMP_PY_BURST: &str = r#"
import json, sys, threading, stomp

port, resume, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
bodies, lock = [], threading.Condition()

class Listener(stomp.ConnectionListener):
    def on_message(self, frame):
        with lock:
            bodies.append(frame.body)
            lock.notify_all()

conn = stomp.WSConnection([("127.0.0.1", port)], ws_path="/stomp")
conn.set_listener("l", Listener())
conn.connect(wait=True)
conn.subscribe("/topic/news", id="py", ack="auto", headers={"x-resume-after": resume})
with lock:
    assert lock.wait_for(lambda: len(bodies) >= count, timeout=10), f"only {len(bodies)}"
conn.disconnect()
print(json.dumps(bodies))
"#;

/// stomp.py reads every frame of messages that carry many (a resume replays a backlog at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stomp_py_reads_every_frame_of_a_batched_backlog() {
    let python = push_test_support::tools::python(&["stomp"]);
    let broker = MemoryBroker::new(BrokerConfig::default());
    let topics = [Topic::new("news").unwrap()];
    let mut want = Vec::new();
    let mut first = None;
    for n in 0..120 {
        let data = format!("backlog {n} {}", "y".repeat(80));
        let cursor = broker
            .publish(&topics, Event::new(data.clone()))
            .await
            .unwrap();
        if n == 0 {
            first = Some(cursor);
        } else {
            want.push(data);
        }
    }
    let addr = serve(broker).await;
    // The same backlog, read here: it does come in shared messages.
    let mut ws = subscribed(addr, Some(first.unwrap().text().as_str())).await;
    let message = timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap();
    assert!(
        message.to_text().unwrap().matches("MESSAGE\n").count() > 1,
        "the backlog's first message holds one frame"
    );
    let (port, count) = (addr.port().to_string(), want.len().to_string());
    let resume = first.unwrap().text();
    let stdout = stomp_py(&python, STOMP_PY_BURST, &[&port, resume.as_str(), &count]).await;
    let bodies: Vec<String> = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(bodies, want);
}
