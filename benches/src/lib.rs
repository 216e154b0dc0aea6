//! Shared inputs of the push benchmarks (the benchmarks themselves live in `benches/`).
//!
//! Inputs are generated in code, deterministically, so every run and every machine measures the
//! same bytes.

use bytes::Bytes;
use push_core::Event;

/// The chunk size a network read typically hands to a decoder.
pub const CHUNK: usize = 16 * 1024;

/// A realistic event sequence of about `total` bytes once encoded: each event has an `id`, an
/// `event` type and about 200 bytes of JSON data.
pub fn realistic_events(total: usize) -> Vec<Event> {
    const KINDS: [&str; 4] = ["price", "trade", "order-update", "heartbeat"];
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    let mut events = Vec::new();
    let mut size = 0;
    let mut offset = 0u64;
    while size < total {
        offset += 1;
        let r = next();
        let kind = KINDS[(r % 4) as usize];
        let data = format!(
            r#"{{"symbol":"SYM{:04}","price":{}.{:02},"qty":{},"side":"{}","venue":"XNAS","ts":{},"trace":"{:016x}","note":"realistic payload for the push benchmarks","seq":{}}}"#,
            r % 10_000,
            next() % 100_000,
            next() % 100,
            next() % 5_000,
            if r & 1 == 0 { "buy" } else { "sell" },
            1_763_000_000_000u64 + offset * 37,
            next() * next(),
            offset,
        );
        let e = Event::new(Bytes::from(data))
            .with_event(kind)
            .with_id(format!("5eed-{offset:x}"));
        size += e.weight() + 20;
        events.push(e);
    }
    events
}

/// The `text/event-stream` bytes of [`realistic_events`], written without validation.
pub fn realistic_stream(total: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(total + 1024);
    for e in realistic_events(total) {
        for (name, value) in [("event", e.event.as_deref()), ("id", e.id.as_deref())] {
            if let Some(v) = value {
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(v.as_bytes());
                out.push(b'\n');
            }
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&e.data);
        out.extend_from_slice(b"\n\n");
    }
    out
}

/// The runtime the loopback and fan-out benches run on: two workers, as many as the machine's
/// cores, with I/O and timers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Records a figure that criterion does not report (a percentile, a memory size) so that
/// `cargo xtask bench` prints it under its table: prints `line` and writes it to
/// `target/push-bench-notes/<name>.txt`.
pub fn note(name: &str, line: &str) {
    println!("{line}");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    let dir = target.join("push-bench-notes");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("{name}.txt")), format!("{line}\n"));
    }
}

/// What [`interleave`] measured: the median per-round durations of each side and the per-round
/// ratios of their rates (`theirs ÷ ours` of the durations, so above 1 means ours is faster).
#[derive(Debug, Clone, Copy)]
pub struct Interleaved {
    pub rounds: usize,
    pub ours: std::time::Duration,
    pub theirs: std::time::Duration,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Interleaved {
    /// The ratios as `0.93× (min 0.81, max 1.05)`: median, then the extremes.
    pub fn ratio(&self) -> String {
        format!(
            "{:.2}× (min {:.2}, max {:.2})",
            self.median, self.min, self.max
        )
    }
}

/// Runs `rounds` rounds of the same work for both sides, alternating which side goes first, and
/// summarises the per-round rate ratios. Criterion measures two functions seconds apart, and on a
/// shared or virtualised machine the speed drifts between them; the median of ratios taken
/// side by side cancels that drift. Each closure runs one round and returns its timed duration.
pub fn interleave(
    rounds: usize,
    mut ours: impl FnMut() -> std::time::Duration,
    mut theirs: impl FnMut() -> std::time::Duration,
) -> Interleaved {
    assert!(rounds > 0, "at least one round");
    let mut times: Vec<(std::time::Duration, std::time::Duration)> = (0..rounds)
        .map(|round| {
            if round % 2 == 0 {
                let o = ours();
                (o, theirs())
            } else {
                let t = theirs();
                (ours(), t)
            }
        })
        .collect();
    let mut ratios: Vec<f64> = times
        .iter()
        .map(|(o, t)| t.as_secs_f64() / o.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    times.sort_by_key(|r| r.0);
    let ours = times[rounds / 2].0;
    times.sort_by_key(|r| r.1);
    let theirs = times[rounds / 2].1;
    Interleaved {
        rounds,
        ours,
        theirs,
        median: ratios[rounds / 2],
        min: ratios[0],
        max: ratios[rounds - 1],
    }
}

/// `criterion_main!` for a bench whose binary is also a callgrind driver: `BINARY drive ARGS…`
/// calls `$drive(&ARGS)` instead of running the criterion groups in `$group`.
#[macro_export]
macro_rules! criterion_main_with_drive {
    ($group:path, $drive:path) => {
        fn main() {
            let args: Vec<String> = std::env::args().skip(1).collect();
            if args.first().is_some_and(|a| a == "drive") {
                $drive(&args[1..]);
                return;
            }
            $group();
            criterion::Criterion::default()
                .configure_from_args()
                .final_summary();
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_realistic() {
        let events = realistic_events(100_000);
        let avg = events.iter().map(|e| e.data.len()).sum::<usize>() / events.len();
        assert!((150..=260).contains(&avg), "average data {avg}");
        let stream = realistic_stream(100_000);
        assert!(stream.len() >= 100_000);
        assert_eq!(
            stream.iter().filter(|&&b| b == b'\n').count(),
            events.len() * 4
        );
    }

    #[test]
    fn interleave_alternates_and_takes_the_median() {
        use std::time::Duration;
        let order = std::cell::RefCell::new(Vec::new());
        let r = interleave(
            3,
            || {
                order.borrow_mut().push('o');
                Duration::from_millis(10)
            },
            || {
                order.borrow_mut().push('t');
                Duration::from_millis(20)
            },
        );
        assert_eq!(order.into_inner(), ['o', 't', 't', 'o', 'o', 't']);
        assert_eq!(r.ours, Duration::from_millis(10));
        assert_eq!(r.theirs, Duration::from_millis(20));
        assert!((r.median - 2.0).abs() < 1e-9);
    }
}
