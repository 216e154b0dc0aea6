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
}
