//! `cargo xtask bench redis`: push-redis against the embedded broker, in the same run.
//!
//! - Latency: publish-to-delivery across two brokers (two hubs) on one loopback Redis, at a
//!   fixed rate below saturation (one event every 2 ms), p50 / p99; the embedded broker the same.
//! - Throughput: events per second from publish to the last delivery, eight publishers at once
//!   and sixty-four (a hub's concurrent HTTP publishers, what batching serves), both brokers, in
//!   alternated rounds (the medians reported); and one publisher alone, on Redis: the ratio
//!   shows concurrent publishes sharing script calls (push-redis batches them per partition)
//!   rather than queueing one call each. Publishers and subscriber are tasks on the runtime's
//!   workers, as a hub's are.
//! - The ceiling: the same publishers each sending one bare `XADD` and waiting for its answer
//!   (no script, no id index, no reader, no delivery): the cheapest publish that succeeds only
//!   once Redis has the event, so it says how much of the gap to the embedded broker is Redis's
//!   own round trip and how much is push-redis.
//! - Where the time goes: the publish round trip (p50 / p99) beside the delivery latency, and
//!   CPU per event of this process (both hubs) and of redis-server (`INFO cpu`) in the
//!   eight-publisher run, against this process's for the embedded broker.
//! - Redis commands per publish and per delivered event, from `INFO commandstats` (a count the
//!   machine's load cannot blur). A reader round is `TIME` + `XREAD`, so the readers' commands
//!   are twice the `XREAD`s (the publish script calls `TIME` too, when it trims by age).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use push_broker::MemoryBroker;
use push_core::{Access, Broker, Delivery, Event, Selector, Topic};
use push_redis::{Config, RedisBroker};
use push_test_support::redis::RedisServer;

const LATENCY_EVENTS: usize = 1000;
const THROUGHPUT_EVENTS: usize = 20_000;
const PUBLISHERS: usize = 8;
/// Many publishers at once, as a hub's HTTP publishers are: what batching is for.
const MANY_PUBLISHERS: usize = 64;
/// Alternated rounds of the throughput comparison (the median is reported).
const ROUNDS: usize = 3;

/// Publish-to-delivery latencies (µs), sorted, of `LATENCY_EVENTS` events at a fixed rate, and
/// the publishes' own round trips (µs, sorted): the rest of a delivery's latency is the
/// subscriber's side (for Redis: the reader's wake, its wait for the clock, its releasing
/// round, the local fan-out).
async fn latency<P: Broker + Send + Sync + 'static, S: Broker + Send + Sync + 'static>(
    publisher: &Arc<P>,
    subscriber: &Arc<S>,
    topic: &Topic,
) -> (Vec<u64>, Vec<u64>) {
    let base = Instant::now();
    let mut sub = subscriber
        .subscribe(&Selector::one(topic.clone()), None, &Access::public())
        .unwrap();
    let receiver = tokio::spawn(async move {
        let mut out = Vec::with_capacity(LATENCY_EVENTS);
        while out.len() < LATENCY_EVENTS {
            let Some(Delivery::Event(p)) = sub.next().await else {
                panic!("events only")
            };
            let sent: u64 = std::str::from_utf8(&p.event().data)
                .unwrap()
                .parse()
                .unwrap();
            let now = u64::try_from(base.elapsed().as_micros()).unwrap();
            out.push(now.saturating_sub(sent));
        }
        out
    });
    let (publisher, topic) = (Arc::clone(publisher), topic.clone());
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(2));
        let mut trips = Vec::with_capacity(LATENCY_EVENTS);
        for _ in 0..LATENCY_EVENTS {
            tick.tick().await;
            let at = base.elapsed();
            let sent = at.as_micros().to_string();
            publisher
                .publish(std::slice::from_ref(&topic), Event::new(sent))
                .await
                .unwrap();
            trips.push(u64::try_from((base.elapsed() - at).as_micros()).unwrap());
        }
        trips
    });
    let (mut out, mut trips) = (receiver.await.unwrap(), sender.await.unwrap());
    out.sort_unstable();
    trips.sort_unstable();
    (out, trips)
}

/// CPU time (µs) this process and `server` have used so far: the process's from
/// `/proc/self/stat` (clock ticks), Redis's from `INFO cpu`.
fn cpu_us(server: &RedisServer) -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // After the command name: state is field 3, utime 14 and stime 15 (1-based, in ticks).
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    let info = server.cli(&["INFO", "cpu"]);
    let redis: f64 = info
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            ["used_cpu_sys", "used_cpu_user"]
                .contains(&k)
                .then(|| v.trim().parse::<f64>().ok())?
        })
        .sum();
    // Linux's USER_HZ is 100 on every mainstream architecture.
    (ticks * 10_000.0, redis * 1e6)
}

/// Events per second from the first publish to the last delivery, `publishers` at once. Each
/// publisher and the subscriber is a task on the runtime's workers, as a hub's request
/// handlers and streams are (a future driven by `block_on` runs on the calling thread, outside
/// the worker pool, and every wake across to it costs a thread hand-over).
async fn throughput<P: Broker + Send + Sync + 'static, S: Broker + Send + Sync + 'static>(
    publisher: &Arc<P>,
    subscriber: &Arc<S>,
    topic: &Topic,
    publishers: usize,
) -> f64 {
    let mut sub = subscriber
        .subscribe(&Selector::one(topic.clone()), None, &Access::public())
        .unwrap();
    let per = THROUGHPUT_EVENTS / publishers;
    let total = per * publishers;
    let start = Instant::now();
    let receive = tokio::spawn(async move {
        let mut n = 0;
        while n < total {
            match sub.next().await {
                Some(Delivery::Event(_)) => n += 1,
                other => panic!("events only: {other:?}"),
            }
        }
    });
    in_tasks(publishers, || {
        let (publisher, topic) = (Arc::clone(publisher), topic.clone());
        async move {
            for _ in 0..per {
                publisher
                    .publish(std::slice::from_ref(&topic), Event::new("x".repeat(100)))
                    .await
                    .unwrap();
            }
        }
    })
    .await;
    receive.await.unwrap();
    total as f64 / start.elapsed().as_secs_f64()
}

/// Events per second of the cheapest publish that succeeds only once Redis has the event, from
/// `publishers` that each wait for their answer: one bare `XADD` per publish, with no script,
/// no id index, no reader and no delivery, `publishers` tasks at once on one multiplexed
/// connection (concurrent commands pipelined).
async fn bare_xadd(url: &str, publishers: usize) -> f64 {
    let client = redis::Client::open(url).unwrap();
    let con = client.get_multiplexed_async_connection().await.unwrap();
    let per = THROUGHPUT_EVENTS / publishers;
    let start = Instant::now();
    in_tasks(publishers, || {
        let mut con = con.clone();
        async move {
            for _ in 0..per {
                let _: String = redis::cmd("XADD")
                    .arg("bare")
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(THROUGHPUT_EVENTS)
                    .arg("*")
                    .arg("data")
                    .arg("x".repeat(100))
                    .query_async(&mut con)
                    .await
                    .unwrap();
            }
        }
    })
    .await;
    (per * publishers) as f64 / start.elapsed().as_secs_f64()
}

/// Runs `n` tasks made by `make` on the runtime's workers at once, until all are done.
async fn in_tasks<F>(n: usize, make: impl Fn() -> F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(make())).collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// The median of `values` and every value, for a line of the report.
fn median(values: &[f64]) -> (f64, String) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let each: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
    (sorted[sorted.len() / 2], each.join(", "))
}

fn pct(sorted: &[u64], p: usize) -> u64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// `calls` of each command in `INFO commandstats`.
fn command_calls(server: &RedisServer) -> Vec<(String, u64)> {
    server
        .cli(&["INFO", "commandstats"])
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

fn main() {
    let runtime = push_benches::runtime();
    let server = RedisServer::start();
    let lines = runtime.block_on(async {
        let config = || Config::new(server.url());
        let (hub_a, hub_b) = (
            Arc::new(RedisBroker::connect(config()).await.unwrap()),
            Arc::new(RedisBroker::connect(config()).await.unwrap()),
        );
        // A queue that holds the whole run, as Redis' channel replay does: no overflow gap.
        let memory = Arc::new(MemoryBroker::new(
            push_broker::Config::default()
                .with_queue_count(2 * THROUGHPUT_EVENTS)
                .with_history_count(2 * THROUGHPUT_EVENTS)
                .with_queue_bytes(64 << 20)
                .with_history_bytes(64 << 20)
                .with_total_history_bytes(256 << 20),
        ));
        let t = |n: &str| Topic::new(n).unwrap();
        let (redis_lat, redis_trips) = latency(&hub_b, &hub_a, &t("lat")).await;
        let (memory_lat, _) = latency(&memory, &memory, &t("lat")).await;
        server.cli(&["CONFIG", "RESETSTAT"]);
        let cpu_before = cpu_us(&server);
        let redis_rate = throughput(&hub_b, &hub_a, &t("rate"), PUBLISHERS).await;
        let cpu_after = cpu_us(&server);
        let calls = command_calls(&server);
        let memory_rate = throughput(&memory, &memory, &t("rate"), PUBLISHERS).await;
        let cpu_memory = cpu_us(&server);
        let redis_alone = throughput(&hub_b, &hub_a, &t("alone"), 1).await;
        // The throughput ratios in rounds, the sides alternated (the machine's load moves a
        // single run by tens of percent): Redis ÷ embedded, and Redis ÷ the bare ceiling.
        let mut rounds: [[Vec<f64>; 4]; 2] = Default::default();
        for round in 0..ROUNDS {
            for (i, n) in [PUBLISHERS, MANY_PUBLISHERS].into_iter().enumerate() {
                let topic = t(&format!("round{round}-{n}"));
                let redis = throughput(&hub_b, &hub_a, &topic, n).await;
                let memory = throughput(&memory, &memory, &topic, n).await;
                let bare = bare_xadd(&server.url(), n).await;
                let rows = &mut rounds[i];
                rows[0].push(redis / memory);
                rows[1].push(redis / bare);
                rows[2].push(bare / memory);
                rows[3].push(redis);
            }
        }
        let total: u64 = calls.iter().filter(|(n, _)| n != "config").map(|(_, c)| c).sum();
        let per = |names: &[&str]| {
            let n: u64 = calls
                .iter()
                .filter(|(c, _)| names.contains(&c.as_str()))
                .map(|(_, c)| c)
                .sum();
            n as f64 / THROUGHPUT_EVENTS as f64
        };
        let per_event = |a: f64, b: f64| (b - a) / THROUGHPUT_EVENTS as f64;
        let mut lines = vec![
            format!(
                "redis publish round trip (1 event / 2 ms): p50 {} µs, p99 {} µs (the rest of the latency is the subscriber's hub)",
                pct(&redis_trips, 50),
                pct(&redis_trips, 99)
            ),
            format!(
                "CPU per event ({PUBLISHERS} publishers): redis run: this process (both hubs) {:.1} µs, redis-server {:.1} µs; embedded run: this process {:.1} µs",
                per_event(cpu_before.0, cpu_after.0),
                per_event(cpu_before.1, cpu_after.1),
                per_event(cpu_after.0, cpu_memory.0)
            ),
            format!(
                "redis latency across hubs (1 event / 2 ms): p50 {} µs, p99 {} µs; embedded p50 {} µs, p99 {} µs",
                pct(&redis_lat, 50),
                pct(&redis_lat, 99),
                pct(&memory_lat, 50),
                pct(&memory_lat, 99)
            ),
            format!(
                "redis throughput ({PUBLISHERS} publishers, 1 subscriber on another hub): {redis_rate:.0} events/s; embedded {memory_rate:.0} events/s; ratio {:.2}",
                redis_rate / memory_rate
            ),
            format!(
                "redis throughput with 1 publisher: {redis_alone:.0} events/s ({PUBLISHERS} publishers: {:.1}x, sharing script calls)",
                redis_rate / redis_alone
            ),
            format!(
                "redis commands: {:.3} script calls per publish (evalsha), {:.3} reader commands per delivered event (two readers' rounds, each time + xread), {:.3} all commands per event (the scripts' own calls included)",
                per(&["evalsha", "eval"]),
                2.0 * per(&["xread"]),
                total as f64 / THROUGHPUT_EVENTS as f64
            ),
        ];
        for (rows, n) in rounds.iter().zip([PUBLISHERS, MANY_PUBLISHERS]) {
            let (events, _) = median(&rows[3]);
            let (ratio, each) = median(&rows[0]);
            let (of_bare, each_bare) = median(&rows[1]);
            let (ceiling, each_ceiling) = median(&rows[2]);
            lines.push(format!(
                "redis throughput ({n} publishers, median of {ROUNDS} alternated rounds): {events:.0} events/s; ÷ embedded {ratio:.2} ({each}); ÷ a bare XADD per publish {of_bare:.2} ({each_bare}); the bare XADD's own ceiling ÷ embedded {ceiling:.2} ({each_ceiling})"
            ));
        }
        lines.push(format!("redis commandstats: {calls:?}"));
        drop((hub_a, hub_b));
        lines
    });
    push_benches::note("redis", &lines.join("\n"));
}
