//! `cargo xtask load fanout --redis`: hubs sharing their topics through Redis against one hub
//! on its embedded broker, in the same run, over loopback.
//!
//! A `redis-server` is started here (an ephemeral port, no persistence: the figures are the
//! hub's, not the disk's). Two `push-hub --redis` processes share it; the subscribers connect
//! to hub A and the publisher to hub B, the "client on A, event on B" case. Beside them, one hub
//! in memory takes the same client with both sides on it. At each of the client's marks the
//! figures of hub A, hub B and redis-server are read (CPU and write syscalls from `/proc`,
//! commands from `INFO commandstats`, a count the machine's load cannot blur).
//!
//! The whole comparison runs `--rounds` times (3 unless given), and the summary gives each key
//! figure's median with every round's value: on two shared cores one round's p99 at 10,000
//! subscribers moves by tens of milliseconds, on either side.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::load::{self, Bins, Probe, Server};
use crate::load_report::{Figure, Run};

/// A `redis-server` child on 127.0.0.1, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Result<Self, String> {
        let missing = "redis-server is not installed: `cargo xtask setup` (or `apt-get install \
                       redis-server`) installs it";
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port: {e}"))?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .args(["--loglevel", "warning"])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("{missing} ({e})"))?;
        let redis = Self { child, port };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if redis.ping() {
                return Ok(redis);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "redis-server did not answer on port {port} within 10 s"
        ))
    }

    fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0; 7];
        s.write_all(b"PING\r\n").is_ok()
            && s.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `redis-cli` with `args` against the server on `port`.
fn cli(port: u16, args: &[&str]) -> Result<String, String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .map_err(|e| format!("redis-cli: {e} (it comes with redis-server)"))?;
    if !out.status.success() {
        return Err(format!("redis-cli {args:?} failed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The commands the server on `port` ran so far, and of them the script calls (`evalsha`,
/// `eval`); the `info` and `flushall` calls of this harness are not counted.
pub(crate) fn command_calls(port: u16) -> Result<(u64, u64), String> {
    let stats = cli(port, &["INFO", "commandstats"])?;
    let (mut all, mut scripts) = (0, 0);
    for line in stats.lines() {
        let Some((name, rest)) = line
            .trim()
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        let calls: u64 = rest
            .strip_prefix("calls=")
            .and_then(|r| r.split(',').next())
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        if matches!(name, "info" | "flushall" | "ping" | "command") {
            continue;
        }
        all += calls;
        if matches!(name, "evalsha" | "eval") {
            scripts += calls;
        }
    }
    Ok((all, scripts))
}

/// The sparse runs: subscribers, each on a topic of its own, and the events (one per
/// subscriber at most) with the publishers sharing them. One publisher waiting for each answer
/// measures a publish's round trip; sixteen at once measure what the hubs take in.
const SPARSE: &[(&str, &str, &str)] = &[("10000", "2000", "1"), ("10000", "10000", "16")];

/// The comparison at 1,000 and 10,000 subscribers of one topic, and the sparse runs, `rounds`
/// times; then the median of each round's key figures. One round's p99 at 10,000 subscribers
/// is the tail of a 100 ms fan-out and moves by tens of ms between rounds (both sides).
pub(crate) fn fanout(bins: &Bins, tick_us: u64, rounds: usize) -> Result<(), String> {
    let redis = Redis::start()?;
    let mut figures = Vec::new();
    for round in 1..=rounds {
        eprintln!("\n== round {round} of {rounds}");
        println!("\n# round {round} of {rounds}");
        figures.push(round_of(bins, &redis, tick_us)?);
    }
    crate::load_report::rounds(&figures);
    Ok(())
}

fn round_of(bins: &Bins, redis: &Redis, tick_us: u64) -> Result<Vec<Figure>, String> {
    let mut runs = Vec::new();
    for n in ["1000", "10000"] {
        let client = ["fanout", n, "public"];
        let embedded = load::measure(bins, Server::Hub(None), &client)?;
        cli(redis.port, &["FLUSHALL"])?;
        let shared = pair(bins, redis, &client)?;
        runs.push((n, embedded, shared));
    }
    let mut sparse = Vec::new();
    for &(n, events, publishers) in SPARSE {
        let client = ["sparse", n, events, publishers];
        let embedded = load::measure(bins, Server::Hub(None), &client)?;
        cli(redis.port, &["FLUSHALL"])?;
        let shared = pair(bins, redis, &client)?;
        sparse.push((n, publishers, embedded, shared));
    }
    let mut figures = crate::load_report::redis(&runs, tick_us)?;
    for (n, publishers, embedded, shared) in &sparse {
        figures.push(crate::load_report::sparse(
            n, publishers, embedded, shared, tick_us,
        )?);
    }
    Ok(figures)
}

/// Hub A (the subscribers') and hub B (the publisher's) on `redis`, the client between them:
/// `client` is the scenario and its arguments, as `measure` takes them.
fn pair(bins: &Bins, redis: &Redis, client: &[&str]) -> Result<Run, String> {
    let url = redis.url();
    eprintln!(
        "\n== two hubs on {url}: {}, subscribers on A, publisher on B",
        client.join(" ")
    );
    let start = |bin: &Path| {
        let mut args = load::hub_args();
        args.extend(["--redis", url.as_str()]);
        load::spawn(bin, &args, false)
    };
    let mut a = start(&bins.hub)?;
    let mut b = match start(&bins.hub) {
        Ok(b) => b,
        Err(e) => {
            let _ = a.kill();
            let _ = a.wait();
            return Err(e);
        }
    };
    let probes = [
        Probe::process(a.id()),
        Probe::process(b.id()),
        Probe {
            pid: redis.child.id(),
            redis_port: Some(redis.port),
        },
    ];
    let result = load::listening(&mut a).and_then(|(addr_a, _out_a)| {
        let (addr_b, _out_b) = load::listening(&mut b)?;
        let publish = format!("publish={addr_b}");
        let mut args = vec!["client", client[0], addr_a.as_str()];
        args.extend(&client[1..]);
        args.push(&publish);
        load::drive_client(&bins.load, &args, &probes)
    });
    for child in [&mut a, &mut b] {
        let _ = child.kill();
        let _ = child.wait();
    }
    result
}
