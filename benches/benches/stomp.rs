//! STOMP frames: push-stomp's decoder and encoder against `stomp-parser` (the STOMP parser on
//! crates.io, nom 7), on realistic `SEND` frames (destination, content-type, a receipt, a JSON
//! body of ~200 bytes).
//!
//! - `stomp_decode/push-stomp parse`: one frame at a time from a slice (`parse`), as a server
//!   reading whole WebSocket messages would.
//! - `stomp_decode/push-stomp stream`: the same frames as one stream in 16 KiB chunks through
//!   the incremental `Decoder` (frames split across chunks).
//! - `stomp_decode/stomp-parser`: `ClientFrame::try_from(Vec<u8>)`, its API (it takes an owned
//!   vector, so the copy into one is part of its cost), reading the same fields.
//! - `stomp_encode/push-stomp`: `MESSAGE` frames with a subscription's headers.
//! - `stomp_fanout_encode`: one event's `MESSAGE` for 1,000 subscriptions, as a whole frame
//!   per subscriber (`encode`) against the server's split (`encode_tail` once, `encode_head`
//!   per subscriber).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use push_stomp::{
    Command, Decoder, Frame, Item, Limits, Version, encode, encode_head, encode_tail, parse,
};
use stomp_parser::client::ClientFrame;

const FRAMES: usize = 1000;

fn frames() -> Vec<Vec<u8>> {
    (0..FRAMES)
        .map(|i| {
            let body = format!(
                r#"{{"id":{i},"user":"user-{}","text":"a message of about two hundred bytes, as chat and notification payloads are","tags":["news","sport"],"at":"2026-12-02T07:00:00Z"}}"#,
                i % 97
            );
            format!(
                "SEND\ndestination:/topic/room-{}\ncontent-type:application/json\nreceipt:r-{i}\ncontent-length:{}\n\n{body}\0",
                i % 13,
                body.len()
            )
            .into_bytes()
        })
        .collect()
}

fn push_stomp_parse(frames: &[Vec<u8>], limits: &Limits) -> usize {
    let mut n = 0;
    for wire in frames {
        let Ok(Some((Item::Frame(frame), _))) = parse(wire, Version::V1_2, limits) else {
            panic!("a frame");
        };
        black_box(frame.header("destination"));
        n += black_box(frame.body()).len();
    }
    n
}

fn push_stomp_stream(chunks: &[&[u8]], limits: Limits) -> usize {
    let mut decoder = Decoder::new(limits);
    let mut n = 0;
    for chunk in chunks {
        decoder.feed(chunk);
        while let Some(item) = decoder.poll().expect("valid stream") {
            if let Item::Frame(frame) = item {
                black_box(frame.header("destination"));
                n += black_box(frame.body()).len();
            }
        }
    }
    n
}

fn stomp_parser(frames: &[Vec<u8>]) -> usize {
    let mut n = 0;
    for wire in frames {
        let Ok(ClientFrame::Send(frame)) = ClientFrame::try_from(wire.clone()) else {
            panic!("a SEND frame");
        };
        black_box(frame.destination().value());
        n += black_box(frame.body()).map_or(0, <[u8]>::len);
    }
    n
}

fn bench(c: &mut Criterion) {
    let frames = frames();
    let stream: Vec<u8> = frames.concat();
    let chunks: Vec<&[u8]> = stream.chunks(16 << 10).collect();
    let limits = Limits::default();
    assert_eq!(push_stomp_parse(&frames, &limits), stomp_parser(&frames));
    assert_eq!(push_stomp_stream(&chunks, limits), stomp_parser(&frames));

    let mut group = c.benchmark_group("stomp_decode");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("push-stomp parse", |b| {
        b.iter(|| push_stomp_parse(&frames, &limits));
    });
    group.bench_function("push-stomp stream", |b| {
        b.iter(|| push_stomp_stream(&chunks, limits));
    });
    group.bench_function("stomp-parser", |b| b.iter(|| stomp_parser(&frames)));
    group.finish();

    let messages: Vec<Frame> = frames
        .iter()
        .map(|wire| {
            let Ok(Some((Item::Frame(send), _))) = parse(wire, Version::V1_2, &limits) else {
                panic!("a frame");
            };
            Frame::new(Command::Message)
                .with_header("subscription", "sub-0")
                .with_header("message-id", "3f2a9c0d11e4b7a2-1a2b")
                .with_header(
                    "destination",
                    send.header("destination").unwrap_or_default(),
                )
                .with_header("content-type", "application/json")
                .with_body_and_length(send.body().clone())
        })
        .collect();
    let mut out = Vec::with_capacity(stream.len() * 2);
    let mut group = c.benchmark_group("stomp_encode");
    let encoded: usize = messages
        .iter()
        .map(|m| {
            out.clear();
            encode(m, Version::V1_2, &mut out).unwrap();
            out.len()
        })
        .sum();
    group.throughput(Throughput::Bytes(encoded as u64));
    group.bench_function("push-stomp", |b| {
        b.iter(|| {
            out.clear();
            for m in &messages {
                encode(m, Version::V1_2, &mut out).unwrap();
            }
            black_box(out.len())
        });
    });
    group.finish();
    fanout(c, &messages[0]);
}

/// One event to 1,000 subscriptions: a whole frame each, or a shared tail and a head each.
fn fanout(c: &mut Criterion, message: &Frame) {
    const SUBSCRIBERS: usize = 1000;
    let ids: Vec<String> = (0..SUBSCRIBERS).map(|i| format!("sub-{i}")).collect();
    let shared: Vec<(&str, &str)> = message
        .headers()
        .filter(|(name, _)| *name != "subscription")
        .collect();
    let mut group = c.benchmark_group("stomp_fanout_encode");
    group.throughput(Throughput::Elements(SUBSCRIBERS as u64));
    group.bench_function("whole frame per subscriber", |b| {
        b.iter(|| {
            let mut n = 0;
            for id in &ids {
                let mut frame = Frame::new(Command::Message).with_header("subscription", id);
                for (name, value) in &shared {
                    frame.push_header(*name, *value);
                }
                let frame = frame.with_body(message.body().clone());
                let mut out = Vec::new();
                encode(&frame, Version::V1_2, &mut out).unwrap();
                n += black_box(out).len();
            }
            n
        });
    });
    group.bench_function("shared tail, head per subscriber", |b| {
        b.iter(|| {
            let mut tail = Vec::new();
            let body = message.body();
            encode_tail(
                Command::Message,
                shared.iter().copied(),
                body,
                Version::V1_2,
                &mut tail,
            )
            .unwrap();
            let tail = bytes::Bytes::from(tail);
            let mut n = 0;
            for id in &ids {
                let mut head = Vec::with_capacity(32);
                let headers = [("subscription", id.as_str())];
                encode_head(Command::Message, headers, Version::V1_2, &mut head).unwrap();
                n += black_box(head).len() + black_box(tail.clone()).len();
            }
            n
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
