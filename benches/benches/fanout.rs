//! Fan-out of one publish to 1, 100 and 10,000 in-process subscribers: the embedded broker
//! (history, gap detection, bounded queues included) against `tokio::sync::broadcast`, which has
//! none of those, on the same multi-threaded runtime in the same run.
//!
//! Each iteration publishes one event and waits until every subscriber task has received it; the
//! throughput is deliveries (subscribers) per iteration.
//!
//! Afterwards, at 10,000 subscribers, both are also run in alternating rounds (see
//! `interleaved`), whose median ratio is noted: the two criterion figures are taken seconds apart
//! and drift with the machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use push_broker::{Config, MemoryBroker};
use push_core::{Delivery, Event, Selector, Topic};
use tokio::runtime::Runtime;
use tokio::sync::{Notify, broadcast};

const SIZES: [usize; 3] = [1, 100, 10_000];

/// Counts deliveries down; the task that delivers the last one wakes the publisher.
struct Done {
    remaining: AtomicUsize,
    notify: Notify,
}

impl Done {
    fn delivered(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.notify.notify_one();
        }
    }
}

fn event() -> Event {
    Event::new(vec![b'x'; 100]).with_event("update")
}

fn bench_broker(rt: &Runtime, n: usize, iters: u64) -> Duration {
    let broker = MemoryBroker::new(Config::default());
    let topic = Topic::new("fanout").expect("topic");
    let done = Arc::new(Done {
        remaining: AtomicUsize::new(usize::MAX),
        notify: Notify::new(),
    });
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let mut sub = broker
                .subscribe(
                    &Selector::one(topic.clone()),
                    None,
                    &push_core::Access::public(),
                )
                .expect("subscribe");
            let done = Arc::clone(&done);
            rt.spawn(async move {
                while let Some(d) = sub.next().await {
                    if let Delivery::Event(p) = d {
                        std::hint::black_box(&p);
                        done.delivered();
                    }
                }
            })
        })
        .collect();
    let elapsed = rt.block_on(async {
        // One untimed round so every task has been polled and is parked.
        done.remaining.store(n, Ordering::Release);
        broker.publish_now(&topic, event()).expect("publish");
        done.notify.notified().await;
        let started = Instant::now();
        for _ in 0..iters {
            done.remaining.store(n, Ordering::Release);
            broker.publish_now(&topic, event()).expect("publish");
            done.notify.notified().await;
        }
        started.elapsed()
    });
    for t in tasks {
        t.abort();
    }
    elapsed
}

fn bench_broadcast(rt: &Runtime, n: usize, iters: u64) -> Duration {
    let (tx, _) = broadcast::channel::<Arc<Event>>(1024);
    let done = Arc::new(Done {
        remaining: AtomicUsize::new(usize::MAX),
        notify: Notify::new(),
    });
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let mut rx = tx.subscribe();
            let done = Arc::clone(&done);
            rt.spawn(async move {
                while let Ok(e) = rx.recv().await {
                    std::hint::black_box(&e);
                    done.delivered();
                }
            })
        })
        .collect();
    let elapsed = rt.block_on(async {
        // One untimed round so every task has been polled and is parked.
        done.remaining.store(n, Ordering::Release);
        tx.send(Arc::new(event())).expect("receivers");
        done.notify.notified().await;
        let started = Instant::now();
        for _ in 0..iters {
            done.remaining.store(n, Ordering::Release);
            tx.send(Arc::new(event())).expect("receivers");
            done.notify.notified().await;
        }
        started.elapsed()
    });
    for t in tasks {
        t.abort();
    }
    elapsed
}

fn fanout(c: &mut Criterion) {
    let rt = push_benches::runtime();
    for n in SIZES {
        let mut group = c.benchmark_group(format!("fanout_{n}"));
        group
            .throughput(Throughput::Elements(n as u64))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        group.bench_function("push-broker", |b| {
            b.iter_custom(|iters| bench_broker(&rt, n, iters));
        });
        group.bench_function("tokio-broadcast", |b| {
            b.iter_custom(|iters| bench_broadcast(&rt, n, iters));
        });
        group.finish();
    }
    interleaved(&rt);
}

/// At the largest size, alternates rounds of `PUBLISHES` publishes through each side (the same
/// harness as the criterion functions, fresh subscribers every round) and notes the median of
/// the per-round ratios of deliveries per second.
fn interleaved(rt: &Runtime) {
    const ROUNDS: usize = 15;
    const PUBLISHES: u64 = 40;
    let n = SIZES[SIZES.len() - 1];
    let r = push_benches::interleave(
        ROUNDS,
        || bench_broker(rt, n, PUBLISHES),
        || bench_broadcast(rt, n, PUBLISHES),
    );
    let per = PUBLISHES as u32;
    push_benches::note(
        &format!("fanout_{n}"),
        &format!(
            "fanout_{n} interleaved ({ROUNDS} rounds of {PUBLISHES} publishes): per publish \
             push-broker median {:?}, tokio-broadcast median {:?}; \
             push-broker ÷ tokio-broadcast deliveries/s, median of the rounds: {}",
            r.ours / per,
            r.theirs / per,
            r.ratio(),
        ),
    );
}

criterion_group!(benches, fanout);
criterion_main!(benches);
