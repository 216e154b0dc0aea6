//! Decoding a realistic `text/event-stream` fed in 16 KiB chunks: push-sse against its peers and
//! a memchr newline count (the ceiling: every decoder must at least find every line ending).
//!
//! The same binary is the driver for instruction counts (`drive` mode, see [`drive`]).

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group};
use futures::executor::block_on;
use futures::{StreamExt, TryStreamExt, stream};
use push_benches::{CHUNK, realistic_events, realistic_stream};
use push_sse::{Decoded, Decoder, SharedEvent};

const TOTAL: usize = 4 * 1024 * 1024;

fn chunks(input: &[u8]) -> Vec<Bytes> {
    input.chunks(CHUNK).map(Bytes::copy_from_slice).collect()
}

/// As an HTTP client would: the body's `Bytes` frames go in without a copy (like the peers get),
/// and events come out borrowed (`poll_ref`), used as an application would: its type matched,
/// its data and id read.
fn push_sse(chunks: &[Bytes]) -> usize {
    let mut d = Decoder::new();
    let mut n = 0;
    for chunk in chunks {
        d.feed_bytes(chunk.clone());
        while let Some(item) = d.poll_ref().expect("valid stream") {
            if let Decoded::Event(e) = item {
                black_box(e.event_type() == "heartbeat");
                black_box(e.last_event_id());
                n += black_box(e.data()).len();
            }
        }
    }
    d.finish();
    while d.poll_ref().expect("valid stream").is_some() {}
    n
}

/// The same with events that share the chunk (`poll_shared`: `SharedEvent`s, which can be kept).
fn push_sse_shared(chunks: &[Bytes]) -> usize {
    let mut d = Decoder::new();
    let mut n = 0;
    let mut consume = |item: Decoded<SharedEvent>| {
        if let Decoded::Event(e) = item {
            black_box(e.event_type() == "heartbeat");
            black_box(e.last_event_id());
            n += black_box(e.data()).len();
        }
    };
    for chunk in chunks {
        d.feed_bytes(chunk.clone());
        while let Some(item) = d.poll_shared().expect("valid stream") {
            consume(item);
        }
    }
    d.finish();
    while let Some(item) = d.poll_shared().expect("valid stream") {
        consume(item);
    }
    n
}

/// `feed_bytes` and owned events (`poll_owned`: a `push_core::Event` each).
fn push_sse_owned(chunks: &[Bytes]) -> usize {
    push_sse_with(chunks, |d, chunk| d.feed_bytes(chunk.clone()))
}

/// From borrowed slices (`Decoder::feed` copies each chunk).
fn push_sse_slices(chunks: &[Bytes]) -> usize {
    push_sse_with(chunks, |d, chunk| d.feed(chunk))
}

fn push_sse_with(chunks: &[Bytes], feed: impl Fn(&mut Decoder, &Bytes)) -> usize {
    let mut d = Decoder::new();
    let mut n = 0;
    for chunk in chunks {
        feed(&mut d, chunk);
        while let Some(item) = d.poll_owned().expect("valid stream") {
            if let Decoded::Event(e) = item {
                black_box(e.event.as_deref() == Some("heartbeat"));
                black_box(&e.id);
                n += black_box(&e.data).len();
            }
        }
    }
    d.finish();
    while d.poll_owned().expect("valid stream").is_some() {}
    n
}

// Each peer's events are used the same way: the type compared, the id read, the data's length
// summed (`black_box` keeps every read).

fn eventsource_stream(chunks: &[Bytes]) -> usize {
    use eventsource_stream::EventStream;
    let s = EventStream::new(stream::iter(
        chunks.iter().cloned().map(Ok::<_, Infallible>),
    ));
    block_on(s.fold(0, |n, e| async move {
        let e = e.expect("valid stream");
        black_box(e.event == "heartbeat");
        black_box(&e.id);
        n + black_box(&e.data).len()
    }))
}

fn sse_stream(chunks: &[Bytes]) -> usize {
    use sse_stream::SseByteStream;
    let s = SseByteStream::new(stream::iter(
        chunks.iter().cloned().map(Ok::<_, Infallible>),
    ));
    block_on(s.fold(0, |n, e| async move {
        let e = e.expect("valid stream");
        black_box(e.event.as_deref() == Some("heartbeat"));
        black_box(&e.id);
        n + black_box(&e.data).as_ref().map_or(0, String::len)
    }))
}

fn async_sse(chunks: &[Bytes]) -> usize {
    let reader =
        stream::iter(chunks.iter().cloned().map(Ok::<_, std::io::Error>)).into_async_read();
    let s = async_sse::decode(reader);
    block_on(s.fold(0, |n, e| async move {
        match e.expect("valid stream") {
            async_sse::Event::Message(m) => {
                black_box(m.name() == "heartbeat");
                black_box(m.id());
                n + black_box(m.data()).len()
            }
            async_sse::Event::Retry(_) => n,
        }
    }))
}

fn memchr_ceiling(chunks: &[Bytes]) -> usize {
    chunks
        .iter()
        .map(|c| memchr::memchr_iter(b'\n', c).count())
        .sum()
}

fn bench(c: &mut Criterion) {
    let input = realistic_stream(TOTAL);
    let chunks = chunks(&input);
    let events = realistic_events(TOTAL).len();
    let data: usize = realistic_events(TOTAL).iter().map(|e| e.data.len()).sum();
    // Every decoder sees every event (the results are compared once, outside the measurement).
    assert_eq!(push_sse(&chunks), data);
    assert_eq!(push_sse_shared(&chunks), data);
    assert_eq!(push_sse_owned(&chunks), data);
    assert_eq!(push_sse_slices(&chunks), data);
    assert_eq!(eventsource_stream(&chunks), data);
    assert_eq!(sse_stream(&chunks), data);
    assert_eq!(async_sse(&chunks), data);
    assert_eq!(memchr_ceiling(&chunks), events * 4);

    let mut g = c.benchmark_group("sse_decode");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_secs(1));
    g.sample_size(15);
    g.bench_function("push-sse", |b| b.iter(|| push_sse(black_box(&chunks))));
    g.bench_function("push-sse-shared", |b| {
        b.iter(|| push_sse_shared(black_box(&chunks)));
    });
    g.bench_function("push-sse-owned", |b| {
        b.iter(|| push_sse_owned(black_box(&chunks)));
    });
    g.bench_function("push-sse-feed-slices", |b| {
        b.iter(|| push_sse_slices(black_box(&chunks)));
    });
    g.bench_function("eventsource-stream", |b| {
        b.iter(|| eventsource_stream(black_box(&chunks)));
    });
    g.bench_function("sse-stream", |b| b.iter(|| sse_stream(black_box(&chunks))));
    g.bench_function("async-sse", |b| b.iter(|| async_sse(black_box(&chunks))));
    g.bench_function("memchr-ceiling", |b| {
        b.iter(|| memchr_ceiling(black_box(&chunks)));
    });
    g.finish();
    interleaved(&chunks);
}

/// Alternates rounds of the borrowed, shared and owned paths with sse-stream and notes the
/// median of the per-round ratios (criterion measures them seconds apart, and the machine
/// drifts).
fn interleaved(chunks: &[Bytes]) {
    const ROUNDS: usize = 31;
    const REPEAT: usize = 20;
    let timed = |decode: fn(&[Bytes]) -> usize| {
        move || {
            let start = Instant::now();
            for _ in 0..REPEAT {
                black_box(decode(black_box(chunks)));
            }
            start.elapsed()
        }
    };
    let mut line = format!(
        "sse_decode interleaved ({ROUNDS} rounds of {REPEAT} decodes), ours ÷ sse-stream, median:"
    );
    for (name, ours) in [
        ("push-sse (poll_ref)", push_sse as fn(&[Bytes]) -> usize),
        ("push-sse-shared (poll_shared)", push_sse_shared),
        ("push-sse-owned (poll_owned)", push_sse_owned),
    ] {
        let r = push_benches::interleave(ROUNDS, timed(ours), timed(sse_stream));
        line.push_str(&format!(" {name} {};", r.ratio()));
    }
    push_benches::note("sse_decode", line.trim_end_matches(';'));
}

/// `drive NAME ROUNDS`: decodes the stream ROUNDS times with one decoder (`push-sse`,
/// `push-sse-shared`, `push-sse-owned`, `sse-stream`, `eventsource-stream`, `async-sse`), for instruction counts:
/// `valgrind --tool=callgrind BINARY drive push-sse 20`.
fn drive(args: &[String]) {
    let decode = match args.first().map(String::as_str) {
        Some("push-sse") => push_sse,
        Some("push-sse-shared") => push_sse_shared,
        Some("push-sse-owned") => push_sse_owned,
        Some("sse-stream") => sse_stream,
        Some("eventsource-stream") => eventsource_stream,
        Some("async-sse") => async_sse,
        other => panic!("drive: unknown decoder {other:?}"),
    };
    let rounds: usize = args.get(1).map_or(10, |n| n.parse().expect("ROUNDS"));
    let chunks = chunks(&realistic_stream(TOTAL));
    let events = realistic_events(TOTAL).len();
    let mut total = 0;
    for _ in 0..rounds {
        total += decode(black_box(&chunks));
    }
    println!("{events} events x {rounds} rounds, {total} data bytes");
}

criterion_group!(benches, bench);
push_benches::criterion_main_with_drive!(benches, drive);
