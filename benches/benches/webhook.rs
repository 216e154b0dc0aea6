//! push-webhook: the cost of signing and verifying a delivery, deliveries per second to a
//! loopback receiver, and the durable enqueue.
//!
//! - `webhook_sign/{push-webhook,standardwebhooks,hmac-sha2}`: one `v1` signature of a 1 KiB
//!   body — ours against the Standard Webhooks Rust library and a plain `hmac` + `sha2` + base64
//!   reference (the floor: the same work with no header assembly).
//! - `webhook_verify/{push-webhook,standardwebhooks}`: verifying those headers and body.
//! - `webhook_deliver/push-webhook`: sequential signed POSTs of 1 KiB over one kept-alive
//!   loopback connection to a hyper receiver that answers 204 (`Sender::attempt`).
//! - `webhook_enqueue/push-webhook`: one delivery committed to the redb queue (durable:
//!   fsync per commit; what a publish waits for before its acknowledgement).
//! - `webhook_pending` (printed, not timed): the memory of one delivery waiting in the fast
//!   phase.

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group};
use hmac::{KeyInit as _, Mac as _};
use http::{HeaderMap, Response};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use push_webhook::sender::{Queue, Sender, Stored};
use push_webhook::{AddressPolicy, Secret, Signer, Trusted, Verifier};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";

fn body() -> Vec<u8> {
    let mut body = br#"{"type":"push.event","data":""#.to_vec();
    body.resize(1024 - 2, b'x');
    body.extend_from_slice(br#""}"#);
    body
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn sign(c: &mut Criterion) {
    let body = body();
    let ts = now();
    let signer = Signer::new(SECRET.parse::<Secret>().expect("secret"));
    let theirs = standardwebhooks::Webhook::new(SECRET).expect("secret");
    let key = SECRET.parse::<Secret>().expect("secret");
    let mut group = c.benchmark_group("webhook_sign");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("push-webhook", |b| {
        b.iter(|| signer.signature(ID, ts, std::hint::black_box(&body)));
    });
    group.bench_function("standardwebhooks", |b| {
        b.iter(|| theirs.sign(ID, ts as i64, std::hint::black_box(&body)));
    });
    group.bench_function("hmac-sha2", |b| {
        b.iter(|| {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
            mac.update(ID.as_bytes());
            mac.update(b".");
            mac.update(ts.to_string().as_bytes());
            mac.update(b".");
            mac.update(std::hint::black_box(&body));
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        });
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let body = body();
    let signer = Signer::new(SECRET.parse::<Secret>().expect("secret"));
    let verifier = Verifier::new([Trusted::from(SECRET.parse::<Secret>().expect("secret"))]);
    let theirs = standardwebhooks::Webhook::new(SECRET).expect("secret");
    let headers = signer.headers(ID, now(), &body);
    let mut group = c.benchmark_group("webhook_verify");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("push-webhook", |b| {
        b.iter(|| {
            verifier
                .verify(&headers, std::hint::black_box(&body), SystemTime::now())
                .expect("verifies")
        });
    });
    group.bench_function("standardwebhooks", |b| {
        b.iter(|| {
            theirs
                .verify(std::hint::black_box(&body), &headers)
                .expect("verifies")
        });
    });
    group.finish();
}

fn deliver(c: &mut Criterion) {
    let rt = push_benches::runtime();
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let service = service_fn(|_req| async {
                        let mut response = Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = http::StatusCode::NO_CONTENT;
                        Ok::<_, Infallible>(response)
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        addr
    });
    let url = format!("http://{addr}/hook");
    let sender = Sender::new(AddressPolicy::allow_private(), Duration::from_secs(15));
    let signer = Signer::new(SECRET.parse::<Secret>().expect("secret"));
    let body = Bytes::from(body());
    let mut group = c.benchmark_group("webhook_deliver");
    group.throughput(Throughput::Elements(1));
    group.bench_function("push-webhook", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    let headers: HeaderMap = signer.headers(ID, now(), &body);
                    sender
                        .attempt(&url, headers, body.clone(), SystemTime::now())
                        .await
                        .expect("allowed");
                }
                start.elapsed()
            })
        });
    });
    group.finish();
}

fn enqueue(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = Queue::open(dir.path()).expect("queue");
    let delivery = Stored {
        registration: "reg".into(),
        url: "https://example.com/hook".into(),
        message_id: ID.into(),
        body: body(),
        attempt: 1,
        ..Stored::default()
    };
    let mut group = c.benchmark_group("webhook_enqueue");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.bench_function("push-webhook", |b| {
        b.iter(|| {
            queue
                .enqueue(std::slice::from_ref(&delivery))
                .expect("commit")
        });
    });
    group.finish();
}

/// Memory per delivery pending in the fast phase: 20,000 deliveries of 1 KiB published to an
/// engine whose first attempt is an hour away, so each waits in memory (its attempt task and
/// its record); the growth of the resident set over them, per delivery. Printed once (not a
/// criterion measurement).
fn pending_memory(_: &mut Criterion) {
    const N: usize = 20_000;
    let rt = push_benches::runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = Queue::open(dir.path()).expect("queue");
    let policy = push_webhook::Policy {
        schedule: vec![Duration::from_secs(3600); 3],
        ..push_webhook::Policy::default()
    };
    let sender = Sender::new(AddressPolicy::allow_private(), Duration::from_secs(15));
    let signers: push_webhook::sender::Signers = std::sync::Arc::new(|_: &str| None);
    let engine = push_webhook::sender::Engine::new(queue, sender, policy, signers);
    let delivery = Stored {
        registration: "reg".into(),
        url: "http://127.0.0.1:9/hook".into(),
        message_id: ID.into(),
        body: body(),
        ..Stored::default()
    };
    let before = rss_kib();
    rt.block_on(async {
        for _ in 0..N / 100 {
            engine
                .publish(vec![delivery.clone(); 100])
                .await
                .expect("commit");
        }
        // Let every attempt task start and go to sleep.
        tokio::time::sleep(Duration::from_millis(200)).await;
    });
    let after = rss_kib();
    let per = after.saturating_sub(before) * 1024 / N as u64;
    eprintln!(
        "webhook_pending/push-webhook: {N} deliveries pending in the fast phase: \
         RSS {before} KiB -> {after} KiB, {per} bytes per delivery (1 KiB body included)"
    );
}

/// The resident set of this process (`VmRSS`), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

criterion_group!(benches, sign, verify, deliver, enqueue, pending_memory);
criterion::criterion_main!(benches);
