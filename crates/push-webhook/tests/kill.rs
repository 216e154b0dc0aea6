//! No delivery is lost to a crash at any point: real sender processes (this test binary
//! re-executed) are killed after the durable enqueue, in the middle of the retries while the
//! receiver is down, and between the receiver's 2xx and the removal from the queue; a restarted
//! sender delivers every event, and the receiver's idempotency makes each take effect once.
//! Loopback only; every wait is bounded.
#![cfg(feature = "sender")]
#![allow(
    clippy::disallowed_methods,
    reason = "real processes on the wall clock: the receiver checks timestamps against it"
)]

use std::convert::Infallible;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use push_webhook::sender::{Engine, Queue, Sender, Stored};
use push_webhook::{
    AddressPolicy, Begin, Idempotency, Next, Payload, Policy, Secret, Signer, Trusted, Verifier,
    message_id,
};

const CHILD: &str = "PUSH_WEBHOOK_KILL_CHILD";

/// The receiver: verifies, fails the first `fail_first` verified attempts, then runs the effect
/// once per `webhook-id`.
struct Receiver {
    verifier: Verifier,
    fail_first: AtomicU32,
    seen: Mutex<Idempotency>,
    attempts: Mutex<Vec<String>>,
    effects: Mutex<Vec<String>>,
}

async fn handle(
    req: Request<Incoming>,
    rx: Arc<Receiver>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let status = match rx.verifier.verify(&parts.headers, &body, SystemTime::now()) {
        Err(_) => StatusCode::UNAUTHORIZED,
        Ok(verified) => {
            rx.attempts.lock().unwrap().push(verified.id.clone());
            if rx.fail_first.load(Ordering::SeqCst) > 0 {
                rx.fail_first.fetch_sub(1, Ordering::SeqCst);
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                let mut seen = rx.seen.lock().unwrap();
                match seen.begin(&verified.id, Instant::now()) {
                    Begin::New(claim) => {
                        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                        let data = json["data"]["data"].as_str().unwrap().to_owned();
                        rx.effects.lock().unwrap().push(data);
                        seen.succeeded(claim, Instant::now());
                        StatusCode::NO_CONTENT
                    }
                    Begin::Duplicate => StatusCode::NO_CONTENT,
                    Begin::InFlight | Begin::Busy => StatusCode::CONFLICT,
                }
            }
        }
    };
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    Ok(response)
}

async fn serve(listener: tokio::net::TcpListener, rx: Arc<Receiver>) {
    while let Ok((stream, _)) = listener.accept().await {
        let rx = Arc::clone(&rx);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, Arc::clone(&rx)));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn delivery(url: &str, event: &str) -> Stored {
    let cursor = format!("5eed-{event}");
    Stored {
        registration: "reg-1".into(),
        url: url.into(),
        message_id: message_id("reg-1", &cursor),
        body: Payload {
            kind: push_webhook::EVENT_TYPE,
            timestamp: SystemTime::now(),
            topic: "orders",
            cursor: &cursor,
            registration: "client-1",
            event: None,
            data: event,
        }
        .to_json(),
        attempt: 1,
        ..Stored::default()
    }
}

fn short_policy() -> Policy {
    Policy {
        schedule: vec![
            Duration::ZERO,
            Duration::from_millis(50),
            Duration::from_millis(50),
            Duration::from_millis(300),
            Duration::from_millis(300),
            Duration::from_millis(300),
        ],
        fast_attempts: 3,
        timeout: Duration::from_secs(5),
        jitter_percent: 0,
        ..Policy::default()
    }
}

fn engine(dir: &str, secret: Secret) -> Engine {
    let queue = Queue::open(dir).unwrap();
    let sender = Sender::new(AddressPolicy::allow_private(), Duration::from_secs(5));
    let observer = Arc::new(|d: &Stored, next: Next| {
        let line = match next {
            Next::Retry { durable: true, .. } => "durable",
            Next::Retry { .. } => "retry",
            Next::Delivered => "delivered",
            _ => "gave-up",
        };
        println!("step {line} {}", d.message_id);
    });
    Engine::with_observer(
        queue,
        sender,
        short_policy(),
        Arc::new(move |_| Some(Signer::new(secret.clone()))),
        Some(observer),
    )
}

/// The sender process (run by the parent with `CHILD` set; without it, nothing to do).
#[test]
fn child_process() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let dir = std::env::var("DIR").unwrap();
    let url = std::env::var("URL").unwrap();
    let event = std::env::var("EVENT").unwrap_or_default();
    let secret: Secret = std::env::var("SECRET").unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        match mode.as_str() {
            // Crash right after the durable enqueue, before any attempt.
            "enqueue" => {
                let mut d = delivery(&url, &event);
                d.due = unix_millis();
                Queue::open(&dir).unwrap().enqueue(&[d]).unwrap();
                println!("step enqueued");
                std::process::abort();
            }
            // Crash after the receiver's 2xx, before the removal from the queue.
            "after-2xx" => {
                let queue = Queue::open(&dir).unwrap();
                let mut d = delivery(&url, &event);
                d.due = unix_millis();
                d.id = queue.enqueue(std::slice::from_ref(&d)).unwrap()[0];
                let sender = Sender::new(AddressPolicy::allow_private(), Duration::from_secs(5));
                let headers =
                    Signer::new(secret).headers(&d.message_id, unix_millis() / 1000, &d.body);
                let outcome = sender
                    .attempt(&url, headers, d.body.clone().into(), SystemTime::now())
                    .await
                    .unwrap();
                assert_eq!(
                    short_policy().next(1, outcome, SystemTime::now(), 0),
                    Next::Delivered
                );
                println!("step delivered-not-removed");
                std::process::abort();
            }
            // Publish and run until killed by the parent.
            "publish" => {
                let engine = engine(&dir, secret);
                engine.publish(vec![delivery(&url, &event)]).await.unwrap();
                println!("step published");
                engine.run().await;
            }
            // A restart: run until the queue is empty, then exit.
            "drain" => {
                let engine = engine(&dir, secret);
                let runner = engine.clone();
                tokio::spawn(async move { runner.run().await });
                for _ in 0..400 {
                    if engine.queue().is_empty().unwrap() {
                        println!("step drained");
                        std::process::exit(0);
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                panic!("the queue did not drain in 10 s");
            }
            other => panic!("unknown mode {other}"),
        }
    });
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The name the test harness knows a test of this module by: its path below the crate root.
fn in_this_module(test: &str) -> String {
    match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::{test}"),
        None => test.to_owned(),
    }
}

/// Starts a sender process; its stdout lines arrive on the channel.
fn spawn(
    mode: &str,
    dir: &str,
    url: &str,
    event: &str,
    secret: &Secret,
) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &in_this_module("child_process"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, mode)
        .env("DIR", dir)
        .env("URL", url)
        .env("EVENT", event)
        .env("SECRET", secret.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The harness may print `test child_process ... ` before the first line.
            if let Some(at) = line.find("step ") {
                let _ = tx.send(line[at + 5..].to_owned());
            }
        }
    });
    (child, lines)
}

/// Waits (bounded) for a line starting with `step`.
async fn wait_for(lines: &mpsc::Receiver<String>, step: &str) {
    for _ in 0..800 {
        while let Ok(line) = lines.try_recv() {
            if line.starts_with(step) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the sender never said `{step}`");
}

/// Waits (bounded) for the process to end; whether it exited successfully.
async fn wait_exit(child: &mut Child) -> bool {
    for _ in 0..800 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    child.kill().unwrap();
    panic!("the sender did not end in 20 s");
}

async fn drain(dir: &str, url: &str, secret: &Secret) {
    let (mut child, lines) = spawn("drain", dir, url, "", secret);
    assert!(wait_exit(&mut child).await, "the restarted sender failed");
    let lines: Vec<String> = lines.try_iter().collect();
    assert!(lines.iter().any(|l| l == "drained"), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_delivery_is_lost_to_a_crash_at_any_point() {
    let secret = Secret::generate().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap().to_owned();
    let rx = Arc::new(Receiver {
        verifier: Verifier::new([Trusted::from(secret.clone())]),
        fail_first: AtomicU32::new(0),
        seen: Mutex::new(Idempotency::default()),
        attempts: Mutex::new(Vec::new()),
        effects: Mutex::new(Vec::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, Arc::clone(&rx)));

    // 1. Killed right after the durable enqueue; the restarted sender delivers, through a
    //    receiver that fails the first two attempts.
    rx.fail_first.store(2, Ordering::SeqCst);
    let (mut child, lines) = spawn("enqueue", &dir, &url, "one", &secret);
    wait_for(&lines, "enqueued").await;
    assert!(!wait_exit(&mut child).await, "the sender crashed");
    assert!(rx.attempts.lock().unwrap().is_empty());
    drain(&dir, &url, &secret).await;
    assert_eq!(*rx.effects.lock().unwrap(), ["one"]);
    assert_eq!(
        rx.attempts.lock().unwrap().len(),
        3,
        "two failures, then the effect"
    );

    // 2. The receiver is down for the whole fast phase; the sender is killed once the delivery
    //    has moved to the durable queue; the receiver comes back, a restart delivers.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down_addr: SocketAddr = down.local_addr().unwrap();
    drop(down);
    let down_url = format!("http://{down_addr}/hook");
    let (mut child, lines) = spawn("publish", &dir, &down_url, "two", &secret);
    wait_for(&lines, "published").await;
    wait_for(&lines, "durable").await;
    child.kill().unwrap();
    let _ = child.wait();
    let back = tokio::net::TcpListener::bind(down_addr).await.unwrap();
    tokio::spawn(serve(back, Arc::clone(&rx)));
    drain(&dir, &down_url, &secret).await;
    assert_eq!(*rx.effects.lock().unwrap(), ["one", "two"]);

    // 3. Killed between the receiver's 2xx and the removal: the restart sends it again (at
    //    least once), with the same webhook-id, and the receiver's idempotency keeps it once.
    let before = rx.attempts.lock().unwrap().len();
    let (mut child, lines) = spawn("after-2xx", &dir, &url, "three", &secret);
    wait_for(&lines, "delivered-not-removed").await;
    assert!(!wait_exit(&mut child).await, "the sender crashed");
    drain(&dir, &url, &secret).await;
    let attempts = rx.attempts.lock().unwrap()[before..].to_vec();
    assert_eq!(attempts.len(), 2, "delivered again after the crash");
    assert_eq!(attempts[0], attempts[1], "the same webhook-id");
    assert_eq!(*rx.effects.lock().unwrap(), ["one", "two", "three"]);
}
