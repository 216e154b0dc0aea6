//! Decoding a realistic `text/event-stream` fed in 16 KiB chunks: push-sse against its peers and
//! a memchr newline count (the ceiling: every decoder must at least find every line ending).

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::executor::block_on;
use futures::{StreamExt, TryStreamExt, stream};
use push_benches::{CHUNK, realistic_events, realistic_stream};
use push_sse::{Decoder, Item, RawItem};

const TOTAL: usize = 4 * 1024 * 1024;

fn chunks(input: &[u8]) -> Vec<Bytes> {
    input.chunks(CHUNK).map(Bytes::copy_from_slice).collect()
}

/// As an HTTP client would: the body's `Bytes` frames go in without a copy (like the peers get),
/// and events come out zero-copy (`poll_event`), used as an application would: its type
/// matched, its data and id read.
fn push_sse(chunks: &[Bytes]) -> usize {
    let mut d = Decoder::new();
    let mut n = 0;
    let mut consume = |item| {
        if let RawItem::Event(e) = item {
            black_box(e.event_type() == "heartbeat");
            black_box(e.last_event_id());
            n += black_box(e.data()).len();
        }
    };
    for chunk in chunks {
        d.feed_bytes(chunk.clone());
        while let Some(item) = d.poll_event().expect("valid stream") {
            consume(item);
        }
    }
    d.finish();
    while let Some(item) = d.poll_event().expect("valid stream") {
        consume(item);
    }
    n
}

/// `feed_bytes` and owned events (`poll_item`: a `push_core::Event` each).
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
        while let Some(item) = d.poll_item().expect("valid stream") {
            if let Item::Event(e) = item {
                n += e.data.len();
            }
        }
    }
    d.finish();
    while d.poll_item().expect("valid stream").is_some() {}
    n
}

fn eventsource_stream(chunks: &[Bytes]) -> usize {
    use eventsource_stream::EventStream;
    let s = EventStream::new(stream::iter(
        chunks.iter().cloned().map(Ok::<_, Infallible>),
    ));
    block_on(s.fold(
        0,
        |n, e| async move { n + e.expect("valid stream").data.len() },
    ))
}

fn sse_stream(chunks: &[Bytes]) -> usize {
    use sse_stream::SseByteStream;
    let s = SseByteStream::new(stream::iter(
        chunks.iter().cloned().map(Ok::<_, Infallible>),
    ));
    block_on(s.fold(0, |n, e| async move {
        n + e.expect("valid stream").data.map_or(0, |d| d.len())
    }))
}

fn async_sse(chunks: &[Bytes]) -> usize {
    let reader =
        stream::iter(chunks.iter().cloned().map(Ok::<_, std::io::Error>)).into_async_read();
    let s = async_sse::decode(reader);
    block_on(s.fold(0, |n, e| async move {
        match e.expect("valid stream") {
            async_sse::Event::Message(m) => n + m.data().len(),
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
