//! The figures `cargo xtask load` prints: hub, anchor and their ratio, from one run each.

use std::collections::HashMap;

use crate::load::Snapshot;

/// What one client run against one server gave: the server's figures at each mark, and the
/// client's results by name.
#[derive(Debug, Default)]
pub(crate) struct Run {
    pub(crate) marks: HashMap<String, Snapshot>,
    /// The other probes' figures at each mark, in the probes' order.
    pub(crate) others: HashMap<String, Vec<Snapshot>>,
    pub(crate) results: HashMap<String, HashMap<String, String>>,
}

impl Run {
    pub(crate) fn mark(&self, name: &str) -> Result<Snapshot, String> {
        self.marks
            .get(name)
            .copied()
            .ok_or_else(|| format!("the client made no mark {name}"))
    }

    /// Server CPU µs and write syscalls per delivery over the phase `name` (between its
    /// start and end marks, the deliveries the client counted in it).
    fn per_delivery(&self, name: &str, tick_us: u64) -> Result<(f64, f64), String> {
        let start = self.mark(&format!("{name}-start"))?;
        let end = self.mark(&format!("{name}-end"))?;
        let delivered = self.value(name, "deliveries")?.max(1.0);
        let cpu_us = end.cpu_ticks.saturating_sub(start.cpu_ticks) as f64 * tick_us as f64;
        let writes = end.syscw.saturating_sub(start.syscw) as f64;
        Ok((cpu_us / delivered, writes / delivered))
    }

    /// How much `get` of the `probe`-th probe (0: the server, then `others`) grew over the
    /// phase `name`.
    fn over(&self, name: &str, probe: usize, get: fn(&Snapshot) -> u64) -> Result<u64, String> {
        let at = |edge: &str| {
            let mark = format!("{name}-{edge}");
            match probe {
                0 => self.mark(&mark).map(|s| get(&s)),
                i => self
                    .others
                    .get(&mark)
                    .and_then(|o| o.get(i - 1))
                    .map(get)
                    .ok_or_else(|| format!("no probe {i} at the mark {mark}")),
            }
        };
        Ok(at("end")?.saturating_sub(at("start")?))
    }

    pub(crate) fn value(&self, result: &str, key: &str) -> Result<f64, String> {
        self.results
            .get(result)
            .and_then(|values| values.get(key))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("the client gave no {key} in {result}"))
    }
}

/// Checks that the client saw every event of phase `name`.
pub(crate) fn complete(run: &Run, name: &str) -> Result<(), String> {
    match run.results.get(name).and_then(|r| r.get("complete")) {
        Some(done) if done == "true" => Ok(()),
        _ => Err(format!(
            "{name}: not every event arrived ({:?})",
            run.results.get(name)
        )),
    }
}

fn ratio(hub: f64, anchor: f64) -> String {
    if anchor > 0.0 {
        format!("{:.2}×", hub / anchor)
    } else {
        "-".to_owned()
    }
}

/// Idle memory: the RSS the subscribers added (over the server's own before the first), per
/// connection at 1,000 and 10,000, and the slope between 5,000 and 10,000.
/// An idle run's KiB per connection: at 1,000, at 10,000, and the slope from 5,000 to 10,000.
fn idle_figures(run: &Run) -> Result<[f64; 3], String> {
    let base = run.mark("idle-0")?.rss_kib;
    let per = |n: u64| -> Result<f64, String> {
        let rss = run.mark(&format!("idle-{n}"))?.rss_kib;
        Ok(rss.saturating_sub(base) as f64 / n as f64)
    };
    let (low, high) = (run.mark("idle-5000")?, run.mark("idle-10000")?);
    let slope = high.rss_kib.saturating_sub(low.rss_kib) as f64 / 5000.0;
    Ok([per(1000)?, per(10_000)?, slope])
}

const IDLE_ROWS: [&str; 3] = [
    "KiB per connection at 1k (RSS delta ÷ 1,000)",
    "KiB per connection at 10k (RSS delta ÷ 10,000)",
    "KiB per connection (RSS slope 5k→10k)",
];

/// The hub's idle subscribers each with a token (plain HTTP/1.1, the lean path), and over TLS
/// and over HTTP/2, reported apart (hyper serves both).
pub(crate) fn idle_apart(tokens: &Run, tls: &Run, h2c: &Run) -> Result<(), String> {
    let figures = [
        idle_figures(tokens)?,
        idle_figures(tls)?,
        idle_figures(h2c)?,
    ];
    println!("\nthe hub's idle SSE subscribers with a token each, over TLS, over HTTP/2");
    println!(
        "{:<48}{:>16}{:>16}{:>16}",
        "", "with tokens", "HTTP/1.1+TLS", "h2c"
    );
    for (i, name) in IDLE_ROWS.into_iter().enumerate() {
        print!("{name:<48}");
        for run in &figures {
            print!("{:>16.2}", run[i]);
        }
        println!();
    }
    Ok(())
}

pub(crate) fn idle(hub: &Run, anchor: &Run) -> Result<(), String> {
    let (hub, anchor) = (idle_figures(hub)?, idle_figures(anchor)?);
    println!("\nidle SSE subscribers over plain HTTP/1.1 loopback, each on a topic of its own");
    println!(
        "{:<48}{:>12}{:>12}{:>12}",
        "", "hub", "anchor", "hub÷anchor"
    );
    for (i, name) in IDLE_ROWS.into_iter().enumerate() {
        println!(
            "{name:<48}{:>12.2}{:>12.2}{:>12}",
            hub[i],
            anchor[i],
            ratio(hub[i], anchor[i])
        );
    }
    Ok(())
}

/// Fan-out: per subscriber count, the hub's variants beside the anchor.
pub(crate) fn fanout(runs: &[(&str, &str, &str, Run)], tick_us: u64) -> Result<(), String> {
    println!("\nfan-out over loopback SSE, one topic, 100-byte events (same run)");
    for n in ["1000", "10000"] {
        let here: Vec<_> = runs.iter().filter(|(_, _, m, _)| *m == n).collect();
        let mut rows: Vec<(String, Vec<f64>)> = [
            "burst: deliveries/s",
            "burst: server CPU µs/delivery",
            "burst: write syscalls/delivery",
            "steady: server CPU µs/delivery",
            "steady: write syscalls/delivery",
            "steady: p50 publish→delivery ms",
            "steady: p99 publish→delivery ms",
            "steady: events/s",
        ]
        .into_iter()
        .map(|name| (name.to_owned(), Vec::new()))
        .collect();
        let mut heads = Vec::new();
        for (server, variant, _, run) in &here {
            heads.push(format!("{server} {variant}"));
            let burst = format!("burst-{variant}-{n}");
            let steady = format!("steady-{variant}-{n}");
            let (at_burst, at_steady) = (
                run.per_delivery(&burst, tick_us)?,
                run.per_delivery(&steady, tick_us)?,
            );
            rows[0].1.push(run.value(&burst, "per_second")?);
            rows[1].1.push(at_burst.0);
            rows[2].1.push(at_burst.1);
            rows[3].1.push(at_steady.0);
            rows[4].1.push(at_steady.1);
            rows[5].1.push(run.value(&steady, "p50_us")? / 1000.0);
            rows[6].1.push(run.value(&steady, "p99_us")? / 1000.0);
            rows[7].1.push(run.value(&steady, "rate")?);
        }
        println!("\n{n} subscribers");
        print!("{:<32}", "");
        for head in &heads {
            print!("{head:>16}");
        }
        println!("{:>16}{:>18}", "hub÷anchor", "coalesced÷anchor");
        let hub = heads.iter().position(|h| h == "hub public");
        let anchor = heads.iter().position(|h| h == "anchor public");
        let coalesced = heads.iter().position(|h| h == "coalesced public");
        for (name, values) in rows {
            print!("{name:<32}");
            for v in &values {
                print!("{:>16}", format!("{v:.3}"));
            }
            let against = |side: Option<usize>| match (side, anchor) {
                (Some(h), Some(a)) => ratio(values[h], values[a]),
                _ => "-".to_owned(),
            };
            println!("{:>16}{:>18}", against(hub), against(coalesced));
        }
    }
    println!(
        "\n(the ratios compare the public exact-topic runs; CPU from /proc/PID/stat, writes from syscw)"
    );
    Ok(())
}

/// Resume soak: lost / duplicated / out of order on each side; the hub's must be 0 / 0 / 0.
pub(crate) fn soak(hub: &Run, anchor: &Run) -> Result<(), String> {
    println!(
        "\nresume soak: {} events, {} subscribers, {} random reconnects with Last-Event-ID",
        hub.value("soak", "events")?,
        hub.value("soak", "subscribers")?,
        hub.value("soak", "reconnects")?
    );
    println!(
        "{:<16}{:>14}{:>14}{:>14}{:>14}",
        "", "reconnects", "lost", "duplicated", "out of order"
    );
    let mut hub_total = 0.0;
    for (name, run) in [("hub", hub), ("anchor", anchor)] {
        let get = |key| run.value("soak", key);
        let (r, l, d, o) = (
            get("reconnects")?,
            get("lost")?,
            get("duplicated")?,
            get("out_of_order")?,
        );
        println!("{name:<16}{r:>14}{l:>14}{d:>14}{o:>14}");
        if name == "hub" {
            hub_total = l + d + o;
        }
    }
    println!("(the anchor has no history: a reconnect loses what was published meanwhile)");
    if hub_total > 0.0 {
        return Err("the hub lost, duplicated or reordered events".to_owned());
    }
    Ok(())
}

/// Hubs on Redis (subscribers on A, publisher on B) against one hub in memory, per subscriber
/// count: `(n, embedded, redis)`.
/// The columns of a Redis-against-memory table.
fn redis_header() {
    println!(
        "{:<48}{:>14}{:>14}{:>16}",
        "", "embedded", "redis", "redis÷embedded"
    );
}

/// One figure of a round, for the summary over rounds: its name and value.
pub(crate) type Figure = (String, f64);

/// Prints the fan-out comparison and returns its key figures: what Redis adds to the p99s
/// (ms) and the subscribers' hub CPU per delivery, Redis ÷ embedded.
pub(crate) fn redis(runs: &[(&str, Run, Run)], tick_us: u64) -> Result<Vec<Figure>, String> {
    let mut figures = Vec::new();
    println!(
        "\nfan-out across hubs through Redis against one hub in memory (same run, loopback SSE,"
    );
    println!("one topic, 100-byte events; subscribers on hub A, the publisher on hub B)");
    for (n, embedded, redis) in runs {
        let subscribers: f64 = n.parse().unwrap_or(1.0);
        println!("\n{n} subscribers");
        redis_header();
        let row = |name: &str, e: Option<f64>, r: f64| {
            let e_text = e.map_or_else(|| "-".to_owned(), |e| format!("{e:.3}"));
            let ratio_text = e.map_or_else(|| "-".to_owned(), |e| ratio(r, e));
            println!(
                "{name:<48}{e_text:>14}{:>14}{ratio_text:>16}",
                format!("{r:.3}")
            );
        };
        let (burst, steady) = (format!("burst-public-{n}"), format!("steady-public-{n}"));
        let delivered = |run: &Run, phase: &str| run.value(phase, "deliveries").map(|d| d.max(1.0));
        let cpu = |run: &Run, phase: &str, probe: usize| {
            Ok::<_, String>(run.over(phase, probe, |s| s.cpu_ticks)? as f64 * tick_us as f64)
        };
        let r_burst = delivered(redis, &burst)?;
        let r_events = (r_burst / subscribers).max(1.0);
        let (e_at_burst, r_at_burst) = (
            embedded.per_delivery(&burst, tick_us)?,
            redis.per_delivery(&burst, tick_us)?,
        );
        row(
            "burst: deliveries/s",
            Some(embedded.value(&burst, "per_second")?),
            redis.value(&burst, "per_second")?,
        );
        row(
            "burst: subscribers' hub CPU µs/delivery",
            Some(e_at_burst.0),
            r_at_burst.0,
        );
        figures.push((
            format!("{n}: burst, subscribers' hub CPU per delivery, redis÷embedded"),
            r_at_burst.0 / e_at_burst.0.max(f64::MIN_POSITIVE),
        ));
        row(
            "burst: subscribers' hub writes/delivery",
            Some(e_at_burst.1),
            r_at_burst.1,
        );
        row(
            "burst: publisher's hub B CPU µs/event",
            None,
            cpu(redis, &burst, 1)? / r_events,
        );
        row(
            "burst: redis-server CPU µs/event",
            None,
            cpu(redis, &burst, 2)? / r_events,
        );
        row(
            "burst: all servers' CPU µs/delivery",
            Some(e_at_burst.0),
            (0..3)
                .map(|p| cpu(redis, &burst, p))
                .sum::<Result<f64, _>>()?
                / r_burst,
        );
        row(
            "steady: subscribers' hub CPU µs/delivery",
            Some(embedded.per_delivery(&steady, tick_us)?.0),
            redis.per_delivery(&steady, tick_us)?.0,
        );
        for (name, key) in [
            ("steady: p50 publish→delivery ms", "p50_us"),
            ("steady: p99 publish→delivery ms", "p99_us"),
            ("steady: p50 publish→first delivery ms", "first_p50_us"),
            ("steady: p99 publish→first delivery ms", "first_p99_us"),
        ] {
            row(
                name,
                Some(embedded.value(&steady, key)? / 1000.0),
                redis.value(&steady, key)? / 1000.0,
            );
        }
        for (name, key) in [
            ("steady: p99 added by Redis, ms", "p99_us"),
            (
                "steady: first delivery's p99 added by Redis, ms",
                "first_p99_us",
            ),
        ] {
            let added = (redis.value(&steady, key)? - embedded.value(&steady, key)?) / 1000.0;
            println!("{name:<48}{:>28}", format!("{added:.3}"));
            figures.push((format!("{n}: {name}"), added));
        }
        let calls = redis.over(&burst, 2, |s| s.redis_calls)? as f64;
        let scripts = redis.over(&burst, 2, |s| s.redis_scripts)? as f64;
        println!(
            "burst: Redis commands: {:.3} script calls per publish, {:.3} commands per publish, {:.5} per delivery",
            scripts / r_events,
            calls / r_events,
            calls / r_burst
        );
        for run in [embedded, redis] {
            complete(run, &burst)?;
            complete(run, &steady)?;
        }
    }
    println!(
        "\n(CPU from /proc/PID/stat, writes from syscw, Redis commands from INFO commandstats)"
    );
    Ok(figures)
}

/// Sparse: `n` subscribers each on its own topic, one event each in turn; the subscribers'
/// hub's CPU per event on Redis against in memory.
pub(crate) fn sparse(
    n: &str,
    publishers: &str,
    embedded: &Run,
    redis: &Run,
    tick_us: u64,
) -> Result<Figure, String> {
    let phase = format!("sparse-{n}-by-{publishers}");
    let by = if publishers == "1" {
        "one publisher waiting for each answer".to_owned()
    } else {
        format!("{publishers} publishers at once")
    };
    println!("\n{n} subscribers, each on a topic of its own, one event each in turn; {by}");
    redis_header();
    // One delivery per event: CPU per delivery is CPU per event.
    let (e, r) = (
        embedded.per_delivery(&phase, tick_us)?.0,
        redis.per_delivery(&phase, tick_us)?.0,
    );
    println!(
        "{:<48}{e:>14.3}{r:>14.3}{:>16}",
        "subscribers' hub CPU µs/event",
        ratio(r, e)
    );
    let (e, r) = (
        embedded.value(&phase, "per_second")?,
        redis.value(&phase, "per_second")?,
    );
    println!("{:<48}{e:>14.0}{r:>14.0}{:>16}", "events/s", ratio(r, e));
    complete(embedded, &phase)?;
    complete(redis, &phase)?;
    Ok((
        format!("sparse, {by}: events/s, redis÷embedded"),
        r / e.max(f64::MIN_POSITIVE),
    ))
}

/// The median of each figure over the rounds (each round measured in memory and through
/// Redis in turn), with every round's value beside it.
pub(crate) fn rounds(rounds: &[Vec<Figure>]) {
    let Some(first) = rounds.first() else {
        return;
    };
    println!(
        "\nover {} rounds, each measuring in memory and through Redis in turn: median [each round]",
        rounds.len()
    );
    for (i, (name, _)) in first.iter().enumerate() {
        let mut values: Vec<f64> = rounds
            .iter()
            .filter_map(|r| r.get(i).map(|f| f.1))
            .collect();
        let each = values
            .iter()
            .map(|v| format!("{v:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        values.sort_by(f64::total_cmp);
        let median = values[values.len() / 2];
        println!("{name:<72}{median:>10.2}  [{each}]");
    }
}
