//! `cargo xtask load idle|fanout|soak`: the `push-hub` binary against an anchor (axum's `Sse`
//! over a tokio `broadcast` channel, given the same publish form), in the same run, over
//! loopback.
//!
//! The hub is the release binary itself, started with the flags a load test needs (in memory,
//! no publish or per-client quotas, queues and history that hold a whole burst). The anchor
//! and the load client are roles of push-hub's `load` example, built in release and run as
//! child processes (so each server's `/proc` figures are its own). The client publishes with
//! `POST /.well-known/mercure` to either side, prints `mark NAME` where this task reads the
//! server's `/proc/PID` figures (RSS, CPU time, write syscalls) and `result NAME key=value…`
//! for what it measured itself. Everything is bounded: counts are fixed, every phase of the
//! client has a time limit.
//!
//! `idle` also runs the hub's idle subscribers each with a token (the claims held with the
//! subscription), and over TLS and over HTTP/2 with prior knowledge, reported apart from plain
//! HTTP/1.1 (hyper serves those, not the lean path).
//!
//! `fanout` also runs the hub with `--sse-coalesce` (the window given by `--coalesce`,
//! default 250ms) beside it, and `smoke` is the tiny form CI runs: debug builds, 20
//! subscribers, every scenario once, checked but not measured.
//!
//! `--bins DIR` runs binaries built before instead of building (`DIR/push-hub` and
//! `DIR/load`, copied from a release build): the "before" of a before-and-after comparison,
//! measured beside the "after" without rebuilding the checkout.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::load_report::{self, Run};

const USAGE: &str = "usage: cargo xtask load idle|fanout [--coalesce WINDOW | --redis [--rounds N]]|soak|smoke [--bins DIR]";

/// The hub's JWT key (HS256, both roles) in a load run, handed to the client as
/// `LOAD_JWT_KEY`: a harness's own secret, never a deployment's.
const KEY: &str = "the load harness's own secret, never a deployment's";

/// The servers' figures at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Snapshot {
    /// Resident memory, KiB (`VmRSS`).
    pub(crate) rss_kib: u64,
    /// User and system CPU time, clock ticks.
    pub(crate) cpu_ticks: u64,
    /// Write syscalls so far (`syscw`).
    pub(crate) syscw: u64,
    /// For a Redis server: the commands it ran so far, and of them the script calls
    /// (`INFO commandstats`, without the `INFO` calls that read it).
    pub(crate) redis_calls: u64,
    pub(crate) redis_scripts: u64,
}

/// A process whose figures are read at each mark: its pid, and for a Redis server its port.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    pub(crate) pid: u32,
    pub(crate) redis_port: Option<u16>,
}

impl Probe {
    pub(crate) fn process(pid: u32) -> Self {
        Self {
            pid,
            redis_port: None,
        }
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Server<'a> {
    /// The `push-hub` binary, with `--sse-coalesce WINDOW` if given.
    Hub(Option<&'a str>),
    /// The anchor role of the `load` example.
    Anchor,
    /// The `push-hub` binary with a TLS certificate and key (PEM files).
    HubTls { cert: &'a str, key: &'a str },
}

/// The built binaries.
pub(crate) struct Bins {
    pub(crate) hub: PathBuf,
    pub(crate) load: PathBuf,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let scenario = args.first().map(String::as_str).ok_or(USAGE)?;
    let (args, prebuilt) = match args {
        [rest @ .., flag, dir] if flag == "--bins" => (rest, Some(PathBuf::from(dir))),
        _ => (args, None),
    };
    let (args, rounds) = match args {
        [rest @ .., flag, n] if flag == "--rounds" => (
            rest,
            Some(n.parse::<usize>().map_err(|_| USAGE.to_owned())?.max(1)),
        ),
        _ => (args, None),
    };
    let (args, redis) = match args {
        [rest @ .., flag] if flag == "--redis" && scenario == "fanout" => (rest, true),
        _ => (args, false),
    };
    if rounds.is_some() && !redis {
        return Err(USAGE.to_owned());
    }
    let coalesce = match &args[1..] {
        [] => "250ms",
        [flag, window] if flag == "--coalesce" && scenario == "fanout" => window.as_str(),
        _ => return Err(USAGE.to_owned()),
    };
    if !matches!(scenario, "idle" | "fanout" | "soak" | "smoke") {
        return Err(USAGE.to_owned());
    }
    let release = scenario != "smoke";
    let bins = match prebuilt {
        Some(dir) => Bins {
            hub: dir.join("push-hub"),
            load: dir.join("load"),
        },
        None => {
            let mut build = crate::cargo();
            build.args(["build", "-p", "push-hub", "--bins", "--example", "load"]);
            if release {
                build.arg("--release");
            }
            crate::exec(&mut build)?;
            let dir = target_dir().join(if release { "release" } else { "debug" });
            Bins {
                hub: dir.join("push-hub"),
                load: dir.join("examples/load"),
            }
        }
    };
    let tick_us = 1_000_000 / clock_ticks();
    let (hub, anchor) = (Server::Hub(None), Server::Anchor);
    match scenario {
        "fanout" if redis => crate::load_redis::fanout(&bins, tick_us, rounds.unwrap_or(3)),
        "idle" => {
            let counts = "1000,5000,10000";
            let hub_runs = measure(&bins, hub, &["idle", counts])?;
            let anchor = measure(&bins, anchor, &["idle", counts])?;
            load_report::idle(&hub_runs, &anchor)?;
            // Each subscriber with a token: its claims are held with it.
            let tokens = measure(&bins, hub, &["idle", counts, "token"])?;
            // TLS and HTTP/2, measured apart.
            let (cert, key) = certificate(&bins)?;
            let tls = Server::HubTls {
                cert: &cert,
                key: &key,
            };
            let via_tls = format!("tls={cert}");
            let tls = measure(&bins, tls, &["idle", counts, &via_tls])?;
            let h2c = measure(&bins, hub, &["idle", counts, "h2c"])?;
            load_report::idle_apart(&tokens, &tls, &h2c)
        }
        "fanout" => {
            let mut runs = Vec::new();
            for n in ["1000", "10000"] {
                for (server, name, variant) in [
                    (hub, "hub", "public"),
                    (anchor, "anchor", "public"),
                    (Server::Hub(Some(coalesce)), "coalesced", "public"),
                    (hub, "hub", "template"),
                    (hub, "hub", "private"),
                ] {
                    let run = measure(&bins, server, &["fanout", n, variant])?;
                    runs.push((name, variant, n, run));
                }
            }
            println!(
                "
(coalesced: the hub with --sse-coalesce {coalesce})"
            );
            load_report::fanout(&runs, tick_us)
        }
        "soak" => {
            let hub = measure(&bins, hub, &["soak", "10"])?;
            let anchor = measure(&bins, anchor, &["soak", "10"])?;
            load_report::soak(&hub, &anchor)
        }
        _ => smoke(&bins),
    }
}

/// A self-signed certificate for `localhost` (made by the `load` binary) and its key: the
/// paths of the PEM files, for a hub serving TLS on its one port beside cleartext HTTP.
fn certificate(bins: &Bins) -> Result<(String, String), String> {
    let dir = target_dir().join("load-tls");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = dir.to_string_lossy().into_owned();
    crate::exec(Command::new(&bins.load).args(["cert", &dir]))?;
    Ok((format!("{dir}/cert.pem"), format!("{dir}/key.pem")))
}

/// Every scenario once at a tiny size against the hub (with and without coalescing) and the
/// anchor: the harness works, the hub delivers every event and resumes exactly.
fn smoke(bins: &Bins) -> Result<(), String> {
    for server in [Server::Hub(None), Server::Hub(Some("20ms")), Server::Anchor] {
        let idle = measure(bins, server, &["idle", "10,20"])?;
        idle.mark("idle-20")?;
        for variant in ["public", "private"] {
            let run = measure(bins, server, &["fanout", "20", variant, "smoke"])?;
            for phase in ["burst", "steady"] {
                load_report::complete(&run, &format!("{phase}-{variant}-20"))?;
            }
        }
    }
    let (cert, key) = certificate(bins)?;
    let via_tls = format!("tls={cert}");
    let tls = Server::HubTls {
        cert: &cert,
        key: &key,
    };
    measure(bins, tls, &["idle", "10,20", &via_tls])?.mark("idle-20")?;
    measure(bins, Server::Hub(None), &["idle", "10,20", "h2c"])?.mark("idle-20")?;
    measure(bins, Server::Hub(None), &["idle", "10,20", "token"])?.mark("idle-20")?;
    let soak = measure(bins, Server::Hub(None), &["soak", "3", "500"])?;
    load_report::soak(&soak, &soak)?;
    println!(
        "
load smoke: every scenario ran, every event arrived"
    );
    Ok(())
}

/// Starts `server`, runs the client with `client_args` against it, and stops the server.
pub(crate) fn measure(
    bins: &Bins,
    server: Server<'_>,
    client_args: &[&str],
) -> Result<Run, String> {
    eprintln!("\n== {server:?}: {}", client_args.join(" "));
    let mut child = match server {
        Server::Hub(coalesce) => {
            let mut args = hub_args();
            if let Some(window) = coalesce {
                args.extend(["--sse-coalesce", window]);
            }
            spawn(&bins.hub, &args, false)?
        }
        Server::Anchor => spawn(&bins.load, &["anchor", "127.0.0.1:0"], false)?,
        Server::HubTls { cert, key } => {
            let mut args: Vec<&str> = hub_args();
            args.extend(["--tls-cert", cert, "--tls-key", key]);
            spawn(&bins.hub, &args, false)?
        }
    };
    let pid = child.id();
    let result = listening(&mut child).and_then(|(addr, _stdout)| {
        let mut args = vec!["client", client_args[0], addr.as_str()];
        args.extend(&client_args[1..]);
        drive_client(&bins.load, &args, &[Probe::process(pid)])
    });
    // Our own child, by its handle.
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The hub's flags in a load run: in memory, no publish or per-client quotas, queues and
/// history that hold a whole burst.
pub(crate) fn hub_args() -> Vec<&'static str> {
    vec![
        "--addr",
        "127.0.0.1:0",
        "--in-memory",
        "--jwt-key",
        KEY,
        "--anonymous",
        "--publish-rate",
        "0",
        "--max-streams-per-client",
        "0",
        "--max-streams-per-token",
        "0",
        // A whole burst or soak fits in a queue and the history: the figures count
        // deliveries, not overflows (the anchor's channel holds as many).
        "--queue-count",
        "8192",
        "--queue-bytes",
        "16MiB",
        "--history-count",
        "8192",
        // 10,000 template subscribers, against the default's 1,024.
        "--max-pattern-subscriptions",
        "20000",
        "--log",
        "warn",
    ]
}

/// Spawns a server or the load binary with the open-file limit raised to the hard limit (10,000 sockets
/// need more than the usual 1,024), through `prlimit`.
pub(crate) fn spawn(bin: &Path, args: &[&str], stdin: bool) -> Result<Child, String> {
    let mut cmd = match hard_file_limit() {
        Some(limit) if Path::new("/usr/bin/prlimit").exists() => {
            let mut cmd = Command::new("/usr/bin/prlimit");
            cmd.arg(format!("--nofile={limit}:{limit}")).arg(bin);
            cmd
        }
        _ => Command::new(bin),
    };
    cmd.args(args)
        .env("LOAD_JWT_KEY", KEY)
        .stdout(Stdio::piped())
        .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
        .stderr(Stdio::inherit());
    cmd.spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))
}

/// The server's address, from its first line: the anchor's `listening ADDR`, or the hub's
/// banner, `push-hub listening on http://ADDR/ (…)`.
pub(crate) fn listening(child: &mut Child) -> Result<(String, BufReader<ChildStdout>), String> {
    let stdout = child.stdout.take().ok_or("no server stdout")?;
    let mut lines = BufReader::new(stdout);
    let mut line = String::new();
    lines
        .read_line(&mut line)
        .map_err(|e| format!("server: {e}"))?;
    let line = line.trim();
    let addr = line
        .strip_prefix("listening ")
        .or_else(|| {
            let url = line
                .strip_prefix("push-hub listening on http://")
                .or_else(|| line.strip_prefix("push-hub listening on https://"))?;
            url.split('/').next()
        })
        .ok_or_else(|| format!("the server said {line:?}"))?;
    Ok((addr.to_owned(), lines))
}

/// Runs the client, reading the figures of `probes` at each of its marks (the first's are
/// `Run::marks`, the others' `Run::others`).
pub(crate) fn drive_client(bin: &Path, args: &[&str], probes: &[Probe]) -> Result<Run, String> {
    let mut client = spawn(bin, args, true)?;
    let stdout = client.stdout.take().ok_or("no client stdout")?;
    let mut stdin = client.stdin.take().ok_or("no client stdin")?;
    let mut run = Run::default();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("client: {e}"))?;
        if let Some(name) = line.strip_prefix("mark ") {
            let mut all = probes.iter().map(snapshot).collect::<Result<Vec<_>, _>>()?;
            eprintln!("   {name}: {all:?}");
            let first = all.remove(0);
            run.marks.insert(name.to_owned(), first);
            run.others.insert(name.to_owned(), all);
            writeln!(stdin).map_err(|e| format!("client: {e}"))?;
        } else if let Some(result) = line.strip_prefix("result ") {
            eprintln!("   {result}");
            let mut words = result.split_whitespace();
            let name = words.next().unwrap_or_default().to_owned();
            let values: HashMap<String, String> = words
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            run.results.insert(name, values);
        }
    }
    let status = client.wait().map_err(|e| format!("client: {e}"))?;
    if !status.success() {
        return Err(format!("the load client failed ({status})"));
    }
    Ok(run)
}

/// The `/proc` figures of `probe`'s process now, and a Redis server's command counts.
fn snapshot(probe: &Probe) -> Result<Snapshot, String> {
    let pid = probe.pid;
    let read = |file: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/{file}"))
            .map_err(|e| format!("/proc/{pid}/{file}: {e}"))
    };
    let field = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let status = read("status")?;
    let io = read("io")?;
    let stat = read("stat")?;
    // Fields 14 and 15 (utime, stime), counted after the command name's closing parenthesis.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let cpu_ticks = fields.get(11).unwrap_or(&0) + fields.get(12).unwrap_or(&0);
    let (redis_calls, redis_scripts) = match probe.redis_port {
        Some(port) => crate::load_redis::command_calls(port)?,
        None => (0, 0),
    };
    Ok(Snapshot {
        rss_kib: field(&status, "VmRSS:"),
        cpu_ticks,
        syscw: field(&io, "syscw:"),
        redis_calls,
        redis_scripts,
    })
}

/// This process's hard limit of open files.
fn hard_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(4)?.parse().ok()
}

/// `CLK_TCK`, the unit of `/proc/PID/stat`'s CPU times (100 on Linux unless told otherwise).
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// Cargo's target directory, as the build just used it.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| crate::root().join("target"), PathBuf::from)
}
