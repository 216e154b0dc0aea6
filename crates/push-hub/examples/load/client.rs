//! The load client: opens the subscribers, asks the server to publish, counts what arrives.
//!
//! It talks to `cargo xtask load` over its standard streams: `mark NAME` when the server's
//! `/proc` figures are to be read (it waits for a line on stdin before going on), and
//! `result NAME key=value…` for its own figures.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use push_hub::auth::{Algorithm, KeySpec};
use push_hub::token::Claims;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::apart::Via;
use crate::wire::{Publisher, Stream};

/// Connections opened at once.
pub(crate) const CONNECTING: usize = 256;

/// The longest any phase may take: the run always ends.
const PHASE_LIMIT: Duration = Duration::from_secs(180);

/// Waits until `xtask` has read the server's figures for `name`.
async fn mark(name: &str) {
    println!("mark {name}");
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await;
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// What the subscriber tasks share.
#[derive(Default)]
struct Tally {
    ready: AtomicUsize,
    received: AtomicU64,
    recording: AtomicBool,
    /// Each recorded delivery's event (its sequence number) and latency in µs.
    latencies_us: Mutex<Vec<(u64, u32)>>,
}

/// Opens subscribers `from..to` on `target(i)`; each counts its events into `tally` until
/// its connection ends. Returns once all are open.
async fn open_subscribers(
    addr: SocketAddr,
    range: std::ops::Range<usize>,
    target: impl Fn(usize) -> String,
    headers: &str,
    tally: &Arc<Tally>,
) {
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let want = tally.ready.load(Ordering::Acquire) + range.len();
    for i in range {
        let permit = Arc::clone(&gate).acquire_owned().await;
        let (tally, target, headers) = (Arc::clone(tally), target(i), headers.to_owned());
        tokio::spawn(async move {
            let mut stream = match Stream::open(addr, &target, &headers).await {
                Ok(stream) => stream,
                Err(e) => {
                    eprintln!("subscriber {i}: {e}");
                    std::process::exit(1);
                }
            };
            tally.ready.fetch_add(1, Ordering::AcqRel);
            drop(permit);
            let mut latencies = Vec::new();
            loop {
                let mut count = 0;
                let read = stream.read(|seen| {
                    count += 1;
                    if tally.recording.load(Ordering::Relaxed) {
                        let us = now_ns().saturating_sub(seen.sent_ns) / 1000;
                        latencies.push((seen.seq, u32::try_from(us).unwrap_or(u32::MAX)));
                    }
                });
                let open = read.await.unwrap_or(false);
                tally.received.fetch_add(count, Ordering::AcqRel);
                if !latencies.is_empty() {
                    tally.latencies_us.lock().unwrap().append(&mut latencies);
                }
                if !open {
                    return;
                }
            }
        });
    }
    wait_for(|| tally.ready.load(Ordering::Acquire) >= want).await;
}

/// Waits (bounded) until `done` holds.
pub(crate) async fn wait_for(done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > PHASE_LIMIT {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

/// The hub's JWT key (HS256, both roles), from `LOAD_JWT_KEY`: xtask gives the hub the same.
fn load_key() -> KeySpec {
    let Ok(secret) = std::env::var("LOAD_JWT_KEY") else {
        eprintln!("load client: LOAD_JWT_KEY is not set (cargo xtask load sets it)");
        std::process::exit(2);
    };
    KeySpec::new(secret, Algorithm::HS256)
}

/// The `Authorization` line of a token with `claims`, for the hub's load key.
fn authorization(claims: &Claims) -> String {
    let token = push_hub::token::mint(&load_key(), claims).expect("a token");
    format!("Authorization: Bearer {token}\r\n")
}

/// Publishes `count` events on `topic` (private ones if asked) over one keep-alive
/// connection, `rate` a second (0: each as soon as the previous one is answered), as a task.
fn publish(
    addr: SocketAddr,
    count: u64,
    rate: u64,
    topic: &str,
    private: bool,
) -> tokio::task::JoinHandle<()> {
    publish_over(addr, count, rate, vec![topic.to_owned()], private)
}

/// As [`publish`], event `n` on `topics[n % topics.len()]`.
fn publish_over(
    addr: SocketAddr,
    count: u64,
    rate: u64,
    topics: Vec<String>,
    private: bool,
) -> tokio::task::JoinHandle<()> {
    let tail = if private { "&private=on" } else { "" };
    let heads: Vec<String> = topics
        .iter()
        .map(|t| format!("topic={}{tail}&data=", t.replace('/', "%2F")))
        .collect();
    tokio::spawn(async move {
        let token = authorization(&Claims::new().publish("*"));
        let mut publisher = match Publisher::connect(addr, token).await {
            Ok(publisher) => publisher,
            Err(e) => fail(&format!("publisher: {e}")),
        };
        let start = Instant::now();
        for seq in 0..count {
            if rate > 0 {
                let due = start + Duration::from_secs_f64(seq as f64 / rate as f64);
                tokio::time::sleep_until(due).await;
            }
            // The payload is digits, spaces and `x`: form-encoded, a space is `+`.
            let data = payload(seq).replace(' ', "+");
            let form_head = &heads[(seq % heads.len() as u64) as usize];
            if let Err(e) = publisher.publish(&format!("{form_head}{data}")).await {
                fail(&format!("publish {seq}: {e}"));
            }
        }
    })
}

/// The quantiles of `values`: `q` in 0..=1 picks one (0 when there is none).
fn quantiles(mut values: Vec<u32>) -> impl Fn(f64) -> u32 {
    values.sort_unstable();
    move |q| {
        let last = values.len().saturating_sub(1) as f64;
        values.get((last * q) as usize).copied().unwrap_or(0)
    }
}

/// 100 bytes: the sequence number, the publish time (ns since the epoch), padding.
fn payload(seq: u64) -> String {
    let mut text = format!("{seq:08} {:020} ", now_ns());
    text.extend(std::iter::repeat_n('x', 100 - text.len()));
    text
}

fn fail(why: &str) -> ! {
    eprintln!("load client: {why}");
    std::process::exit(1);
}

/// Idle: `counts` subscribers in steps (a mark after each), each on a topic of its own, over
/// plain HTTP/1.1 or, `via`, over TLS or HTTP/2. With `token`, each presents a subscriber
/// token granting the topics `/idle/{i}` (a URI template): its claims are held with it.
pub(crate) async fn idle(addr: SocketAddr, counts: &[usize], via: Option<Via>, token: bool) {
    let headers = if token {
        authorization(&Claims::new().subscribe("/idle/{i}"))
    } else {
        String::new()
    };
    let tally = Arc::new(Tally::default());
    let held = Arc::new(AtomicUsize::new(0));
    // The server's own memory before the first subscriber.
    mark("idle-0").await;
    let mut open = 0;
    for &count in counts {
        match &via {
            Some(via) => crate::apart::hold(addr, open..count, via, &held).await,
            None => {
                open_subscribers(
                    addr,
                    open..count,
                    |i| format!("/.well-known/mercure?topic=/idle/{i}"),
                    &headers,
                    &tally,
                )
                .await
            }
        }
        open = count;
        // Let the server settle (freed head buffers, parked tasks) before its memory is read.
        tokio::time::sleep(Duration::from_millis(500)).await;
        mark(&format!("idle-{count}")).await;
    }
}

/// Fan-out: `n` subscribers of one topic (`variant`: `public` exact, `template`, `private`);
/// a burst for throughput and CPU, then a fixed rate below saturation for latency. `smoke`:
/// a few events only (a check that the harness works, not a measure). The events are published
/// to `publish_to`: `addr` itself, or another hub sharing its topics (through Redis).
pub(crate) async fn fanout(
    addr: SocketAddr,
    publish_to: SocketAddr,
    n: usize,
    variant: &str,
    smoke: bool,
) {
    // A private subscriber presents a token granting the topic (the anchor ignores it).
    let (selector, private, token) = match variant {
        "template" => ("/fan/{id}", false, String::new()),
        "private" => (
            "/fan/1",
            true,
            authorization(&Claims::new().subscribe("/fan/1")),
        ),
        _ => ("/fan/1", false, String::new()),
    };
    let tally = Arc::new(Tally::default());
    let target = |_| format!("/.well-known/mercure?topic={selector}");
    open_subscribers(addr, 0..n, target, &token, &tally).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Throughput: a burst of about two million deliveries.
    let burst = if smoke {
        50
    } else {
        (2_000_000 / n).clamp(50, 4000) as u64
    };
    let want = n as u64 * burst;
    mark(&format!("burst-{variant}-{n}-start")).await;
    let start = Instant::now();
    let publishing = publish(publish_to, burst, 0, "/fan/1", private);
    let complete = wait_for(|| tally.received.load(Ordering::Acquire) >= want).await;
    let _ = tokio::time::timeout(PHASE_LIMIT, publishing).await;
    let seconds = start.elapsed().as_secs_f64();
    mark(&format!("burst-{variant}-{n}-end")).await;
    let delivered = tally.received.swap(0, Ordering::AcqRel);
    let per_second = delivered as f64 / seconds;
    println!(
        "result burst-{variant}-{n} deliveries={delivered} seconds={seconds:.3} per_second={per_second:.0} complete={complete}"
    );

    // Below saturation: 20,000 deliveries a second (20 events/s to 1,000 subscribers, 2 to
    // 10,000), at least 60 events: one write per event and subscriber, as a live hub sees.
    // Every delivery's p99 is the tail of the slowest events' fan-outs: with 20 events (as
    // before) it was one or two events' tails, and moved by ±10 ms from run to run at 10,000.
    let (rate, count) = if smoke {
        (100, 20)
    } else {
        let rate = (20_000 / n as u64).max(1);
        (rate, (rate * 5).max(60))
    };
    tally.recording.store(true, Ordering::Release);
    mark(&format!("steady-{variant}-{n}-start")).await;
    let publishing = publish(publish_to, count, rate, "/fan/1", private);
    let want = n as u64 * count;
    let complete = wait_for(|| tally.received.load(Ordering::Acquire) >= want).await;
    let _ = tokio::time::timeout(PHASE_LIMIT, publishing).await;
    mark(&format!("steady-{variant}-{n}-end")).await;
    tally.recording.store(false, Ordering::Release);
    let delivered = tally.received.swap(0, Ordering::AcqRel);
    let recorded = std::mem::take(&mut *tally.latencies_us.lock().unwrap());
    // Each event's first delivery: how long the event took to reach the hub's fan-out, apart
    // from how long the fan-out to every subscriber took.
    let mut first: HashMap<u64, u32> = HashMap::new();
    for &(seq, us) in &recorded {
        first
            .entry(seq)
            .and_modify(|f| *f = (*f).min(us))
            .or_insert(us);
    }
    let all = quantiles(recorded.iter().map(|&(_, us)| us).collect());
    let first = quantiles(first.into_values().collect());
    println!(
        "result steady-{variant}-{n} deliveries={delivered} rate={rate} samples={} p50_us={} p99_us={} first_p50_us={} first_p99_us={} complete={complete}",
        recorded.len(),
        all(0.5),
        all(0.99),
        first(0.5),
        first(0.99)
    );
}

/// Sparse: `n` subscribers each on a topic of its own, `events` events each for one of them
/// (round robin): what a hub pays per event when most of its subscribers are not concerned
/// (one user's notifications, a QR sign-in waiting for its own confirmation).
///
/// The events are shared by `publishers` keep-alive connections publishing at once, each
/// waiting for its answer before its next publish: with one, events/s is one publish's round
/// trip (a latency); with several, what the hub takes in (a throughput), as an application
/// with several workers publishes.
pub(crate) async fn sparse(
    addr: SocketAddr,
    publish_to: SocketAddr,
    n: usize,
    events: u64,
    publishers: usize,
) {
    let publishers = publishers.clamp(1, n.max(1));
    let phase = format!("sparse-{n}-by-{publishers}");
    let tally = Arc::new(Tally::default());
    let target = |i| format!("/.well-known/mercure?topic=/sparse/{i}");
    open_subscribers(addr, 0..n, target, "", &tally).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    mark(&format!("{phase}-start")).await;
    let start = Instant::now();
    // Publisher `k` takes the topics `k`, `k + publishers`, …: every event goes to a topic
    // no other publisher uses, and the topics stay in turn.
    let share = |k: u64| events / publishers as u64 + u64::from(k < events % publishers as u64);
    let publishing: Vec<_> = (0..publishers)
        .map(|k| {
            let topics = (k..n).step_by(publishers).map(|i| format!("/sparse/{i}"));
            publish_over(publish_to, share(k as u64), 0, topics.collect(), false)
        })
        .collect();
    let complete = wait_for(|| tally.received.load(Ordering::Acquire) >= events).await;
    for task in publishing {
        let _ = tokio::time::timeout(PHASE_LIMIT, task).await;
    }
    let seconds = start.elapsed().as_secs_f64();
    mark(&format!("{phase}-end")).await;
    let delivered = tally.received.swap(0, Ordering::AcqRel);
    println!(
        "result {phase} deliveries={delivered} seconds={seconds:.3} per_second={:.0} complete={complete}",
        delivered as f64 / seconds
    );
}

/// Soak: `subscribers` on one topic while `events` (5,000 in a measure) are published at 1,000
/// a second; one reconnect per 100 events at random moments, each resuming from the last `id`
/// seen.
pub(crate) async fn soak(addr: SocketAddr, subscribers: usize, events: u64) {
    let reconnects_wanted = (events / 100) as usize;
    let kicks: Arc<Vec<AtomicUsize>> =
        Arc::new((0..subscribers).map(|_| AtomicUsize::new(0)).collect());
    let mut tasks = Vec::new();
    for i in 0..subscribers {
        let kicks = Arc::clone(&kicks);
        tasks.push(tokio::spawn(async move {
            soak_one(addr, events, &kicks[i]).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _publishing = publish(addr, events, 1000, "/soak", false);
    // Reconnects over the publishing, at pseudo-random moments and subscribers.
    let mut seed = (now_ns() as u64) | 1;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..reconnects_wanted {
        tokio::time::sleep(Duration::from_millis(20 + random() % 160)).await;
        kicks[(random() % subscribers as u64) as usize].fetch_add(1, Ordering::AcqRel);
    }
    let (mut lost, mut duplicated, mut out_of_order, mut reconnects) = (0, 0, 0, 0);
    for task in tasks {
        let (l, d, o, r) = task.await.expect("subscriber");
        (lost, duplicated, out_of_order, reconnects) =
            (lost + l, duplicated + d, out_of_order + o, reconnects + r);
    }
    println!(
        "result soak events={events} subscribers={subscribers} reconnects={reconnects} lost={lost} duplicated={duplicated} out_of_order={out_of_order}"
    );
}

/// One soak subscriber: (lost, duplicated, out of order, reconnects).
async fn soak_one(addr: SocketAddr, events: u64, kick: &AtomicUsize) -> (u64, u64, u64, u64) {
    let mut seen = vec![false; events as usize];
    let (mut highest, mut duplicated, mut out_of_order, mut reconnects) = (None, 0, 0, 0);
    let mut last_id = String::new();
    let start = Instant::now();
    let mut quiet_since = Instant::now();
    'connection: while start.elapsed() < PHASE_LIMIT {
        let extra = if last_id.is_empty() {
            String::new()
        } else {
            format!("Last-Event-ID: {last_id}\r\n")
        };
        let Ok(mut stream) = Stream::open(addr, "/.well-known/mercure?topic=/soak", &extra).await
        else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        loop {
            let all = seen.iter().all(|s| *s);
            // Done: everything arrived, or the publishing is long over and nothing came for 2 s.
            if all
                || (start.elapsed() > Duration::from_secs(8)
                    && quiet_since.elapsed() > Duration::from_secs(2))
            {
                break 'connection;
            }
            // One reconnect per kick, however close together they came.
            if kick
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |k| k.checked_sub(1))
                .is_ok()
            {
                reconnects += 1;
                continue 'connection;
            }
            let read = tokio::time::timeout(
                Duration::from_millis(50),
                stream.read(|event| {
                    quiet_since = Instant::now();
                    last_id = event.id;
                    let Some(slot) = seen.get_mut(event.seq as usize) else {
                        return;
                    };
                    if *slot {
                        duplicated += 1;
                    } else if highest.is_some_and(|h| event.seq < h) {
                        out_of_order += 1;
                    }
                    *slot = true;
                    highest = highest.max(Some(event.seq));
                }),
            );
            match read.await {
                Err(_) | Ok(Ok(true)) => {}
                Ok(Ok(false) | Err(_)) => continue 'connection,
            }
        }
    }
    let lost = seen.iter().filter(|s| !**s).count() as u64;
    (lost, duplicated, out_of_order, reconnects)
}
