//! What the history store costs a publish: one event (100 bytes, a Mercure-style id) published
//! on one topic through the broker alone and through the broker journalling into the store
//! (one redb commit with immediate durability per publish), in the same run.
//!
//! The journalled figure is the disk's: a commit waits for `fsync`. It is the latency a
//! publisher sees and, since publishes are serialised through the journal, the bound on
//! publishes per second; subscribers do not wait for it.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use push_broker::{Config, MemoryBroker};
use push_core::{Event, Topic};

fn event(i: u64) -> Event {
    Event::new(vec![b'x'; 100]).with_id(format!("urn:uuid:{i:032x}"))
}

fn publish(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let journalled = push_hub::store::open(dir.path(), Config::default()).expect("store");
    let memory = MemoryBroker::new(Config::default());
    let topic = Topic::new("bench").expect("topic");
    let mut group = c.benchmark_group("store_publish");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let mut i = 0;
    group.bench_function("memory", |b| {
        b.iter(|| {
            i += 1;
            black_box(memory.publish_now(&topic, event(i)).expect("publish"))
        });
    });
    group.bench_function("redb-journal", |b| {
        b.iter(|| {
            i += 1;
            black_box(journalled.publish_now(&topic, event(i)).expect("publish"))
        });
    });
    group.finish();
}

criterion_group!(benches, publish);
criterion_main!(benches);
