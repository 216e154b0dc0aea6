//! Encoding realistic events (id, type, ~200 bytes of JSON) into one `text/event-stream` buffer:
//! push-sse against axum's `Sse` encoder, sse-stream's `SseBody` (the other validating encoder
//! among the decoding peers) and a plain unvalidated concatenation (the ceiling).

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::IntoResponse;
use axum::response::sse::{Event as AxumEvent, Sse};
use bytes::{BufMut, Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group};
use futures::executor::block_on;
use futures::{StreamExt, stream};
use http_body_util::BodyExt;
use push_benches::realistic_events;
use push_core::Event;

const TOTAL: usize = 4 * 1024 * 1024;

/// Into one buffer sized for the stream up front (`capacity`), as the peers' collected bodies
/// are (`Collected::to_bytes` allocates their total once): every side makes one allocation of
/// the whole, so the comparison is of the encoders, not of buffer growth.
fn push_sse(events: &[Event], capacity: usize) -> BytesMut {
    let mut out = BytesMut::with_capacity(capacity);
    for e in events {
        push_sse::encode_event(e, &mut out).expect("valid event");
    }
    out
}

/// axum's encoder as an axum user drives it: build each `Event`, let `Sse` frame the body, collect
/// the body into one buffer.
fn axum(fields: &Arc<Vec<(String, String, String)>>) -> Bytes {
    let fields = Arc::clone(fields);
    let events = stream::iter(0..fields.len()).map(move |i| {
        let (kind, id, data) = &fields[i];
        Ok::<_, Infallible>(AxumEvent::default().event(kind).id(id).data(data))
    });
    let body = Sse::new(events).into_response().into_body();
    block_on(body.collect()).expect("infallible").to_bytes()
}

/// sse-stream's encoder as its users drive it: build each `Sse`, let `SseBody` encode the body,
/// collect it into one buffer.
fn sse_stream(fields: &Arc<Vec<(String, String, String)>>) -> Bytes {
    let fields = Arc::clone(fields);
    let events = stream::iter(0..fields.len()).map(move |i| {
        let (kind, id, data) = &fields[i];
        Ok::<_, Infallible>(
            sse_stream::Sse::default()
                .event(kind.as_str())
                .id(id.as_str())
                .data(data.as_str()),
        )
    });
    let body = sse_stream::SseBody::new(events);
    block_on(body.collect()).expect("valid events").to_bytes()
}

fn concat_ceiling(events: &[Event], capacity: usize) -> BytesMut {
    let mut out = BytesMut::with_capacity(capacity);
    for e in events {
        let kind = e.event.as_deref().unwrap_or_default();
        let id = e.id.as_deref().unwrap_or_default();
        out.reserve(kind.len() + id.len() + e.data.len() + 24);
        out.put_slice(b"event: ");
        out.put_slice(kind.as_bytes());
        out.put_slice(b"\nid: ");
        out.put_slice(id.as_bytes());
        out.put_slice(b"\ndata: ");
        out.put_slice(&e.data);
        out.put_slice(b"\n\n");
    }
    out
}

fn bench(c: &mut Criterion) {
    let events = realistic_events(TOTAL);
    let fields = fields(&events);
    let ours = push_sse(&events, 0);
    let size = ours.len();
    // All three write the same frames (axum writes `event:`/`id:`/`data:` in that order too).
    assert_eq!(ours.len(), concat_ceiling(&events, size).len());
    let theirs = axum(&fields);
    assert_eq!(theirs.len(), ours.len(), "axum writes the same bytes");
    // sse-stream writes `data:` before `id:`: the same length.
    assert_eq!(sse_stream(&fields).len(), ours.len());

    let mut g = c.benchmark_group("sse_encode");
    g.throughput(Throughput::Bytes(ours.len() as u64));
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_secs(1));
    g.sample_size(15);
    g.bench_function("push-sse", |b| {
        b.iter(|| push_sse(black_box(&events), size));
    });
    g.bench_function("axum", |b| b.iter(|| axum(black_box(&fields))));
    g.bench_function("sse-stream", |b| b.iter(|| sse_stream(black_box(&fields))));
    g.bench_function("concat-ceiling", |b| {
        b.iter(|| concat_ceiling(black_box(&events), size));
    });
    g.finish();
    interleaved(&events, size, &fields);
}

/// Alternates rounds of push-sse and sse-stream (the fastest peer encoder) and notes the median
/// of the per-round ratios (criterion measures them seconds apart, and the machine drifts).
fn interleaved(events: &[Event], size: usize, fields: &Arc<Vec<(String, String, String)>>) {
    const ROUNDS: usize = 31;
    const REPEAT: usize = 20;
    let r = push_benches::interleave(
        ROUNDS,
        || {
            let start = Instant::now();
            for _ in 0..REPEAT {
                black_box(push_sse(black_box(events), size));
            }
            start.elapsed()
        },
        || {
            let start = Instant::now();
            for _ in 0..REPEAT {
                black_box(sse_stream(black_box(fields)));
            }
            start.elapsed()
        },
    );
    push_benches::note(
        "sse_encode",
        &format!(
            "sse_encode interleaved ({ROUNDS} rounds of {REPEAT} encodes): push-sse ÷ sse-stream, \
             median of the rounds: {}",
            r.ratio()
        ),
    );
}

/// `drive NAME ROUNDS`: encodes the events ROUNDS times with one encoder (`push-sse`,
/// `sse-stream`, `axum`), for instruction counts:
/// `valgrind --tool=callgrind BINARY drive push-sse 20`.
fn drive(args: &[String]) {
    let events = realistic_events(TOTAL);
    let fields = fields(&events);
    let rounds: usize = args.get(1).map_or(10, |n| n.parse().expect("ROUNDS"));
    let size = push_sse(&events, 0).len();
    let mut total = 0;
    for _ in 0..rounds {
        total += match args.first().map(String::as_str) {
            Some("push-sse") => push_sse(black_box(&events), size).len(),
            Some("sse-stream") => sse_stream(black_box(&fields)).len(),
            Some("axum") => axum(black_box(&fields)).len(),
            other => panic!("drive: unknown encoder {other:?}"),
        };
    }
    println!("{} events x {rounds} rounds, {total} bytes", events.len());
}

/// Each event's type, id and data as the strings a peer's API takes.
fn fields(events: &[Event]) -> Arc<Vec<(String, String, String)>> {
    Arc::new(
        events
            .iter()
            .map(|e| {
                (
                    e.event.clone().unwrap_or_default(),
                    e.id.clone().unwrap_or_default(),
                    String::from_utf8(e.data.to_vec()).expect("UTF-8"),
                )
            })
            .collect(),
    )
}

criterion_group!(benches, bench);
push_benches::criterion_main_with_drive!(benches, drive);
