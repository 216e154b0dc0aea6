//! The hold, under simulated time: no runtime, no sleeps, no clock reads. A `Sim` drives
//! exchanges on real `MemoryBroker` subscriptions with flag wakers and a clock it advances
//! itself to the next deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use push_broker::{Config as BrokerConfig, MemoryBroker, MemorySubscription};
use push_core::{Cursor, Event, Topic};
use push_longpoll::server::{Config, Error};
use push_longpoll::{Exchange, PollRequest, Reply};

/// A request as the server's default hooks read it: the topics from the query too.
fn parse(query: &[u8], prefer: &[&[u8]], inm: &[&[u8]]) -> Result<PollRequest, Error> {
    let query = push_http::query::Query::new(query);
    let selector = query.selector().expect("the query names topics");
    PollRequest::parse(selector, &query, prefer, inm)
}

#[derive(Default)]
struct Flag {
    woken: AtomicBool,
    count: AtomicUsize,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// One poll in flight: its exchange, its registered subscription and its waker.
struct Held {
    exchange: Exchange,
    sub: MemorySubscription,
    flag: Arc<Flag>,
    waker: Waker,
    reply: Option<Reply>,
}

/// The simulated world: a broker, a clock and the polls in flight.
struct Sim {
    broker: MemoryBroker,
    config: Config,
    now: Instant,
    held: Vec<Held>,
}

impl Sim {
    // The simulated clock's origin: read once here, then only ever advanced by the harness.
    #[allow(clippy::disallowed_methods)]
    fn new() -> Self {
        Self {
            broker: MemoryBroker::with_epoch(BrokerConfig::default(), 0x5eed),
            config: Config::default().with_jitter(Duration::ZERO),
            now: Instant::now(),
            held: Vec::new(),
        }
    }

    fn topic() -> Topic {
        Topic::new("t").unwrap()
    }

    fn publish(&self, data: &str) -> Cursor {
        self.broker
            .publish_now(&Self::topic(), Event::new(data.to_owned()))
            .unwrap()
    }

    /// Step 1, register: parse and subscribe. Returns the poll's index.
    fn register(&mut self, query: &str) -> usize {
        let request = parse(query.as_bytes(), &[], &[]).unwrap();
        let sub = self
            .broker
            .subscribe(
                request.selector(),
                request.since(),
                &push_core::Access::public(),
            )
            .unwrap();
        let flag = Arc::new(Flag::default());
        self.held.push(Held {
            exchange: Exchange::new(request, &self.config, self.now, 0),
            sub,
            waker: Waker::from(Arc::clone(&flag)),
            flag,
            reply: None,
        });
        self.held.len() - 1
    }

    /// Step 2, check: take what is ready now without parking.
    fn check(&mut self, i: usize) {
        let h = &mut self.held[i];
        while let Some(d) = h.sub.try_recv() {
            if !h.exchange.handle_delivery(d) {
                break;
            }
        }
    }

    /// Step 3, hold (and every later wake-up): drive the subscription with the poll's waker.
    fn drive(&mut self, i: usize) {
        let h = &mut self.held[i];
        h.flag.woken.store(false, Ordering::SeqCst);
        let mut cx = Context::from_waker(&h.waker);
        if let Poll::Ready(reply) = h.exchange.poll_subscription(&mut h.sub, &mut cx) {
            h.reply = Some(reply);
        }
    }

    /// Drives every woken poll; returns how many were woken.
    fn step(&mut self) -> usize {
        let woken: Vec<usize> = (0..self.held.len())
            .filter(|&i| self.held[i].flag.woken.load(Ordering::SeqCst))
            .collect();
        for &i in &woken {
            self.drive(i);
        }
        woken.len()
    }

    /// Moves the clock to the earliest deadline and fires it.
    fn advance_to_next_deadline(&mut self) -> Option<Instant> {
        let next = self
            .held
            .iter()
            .filter_map(|h| h.exchange.poll_timeout())
            .min()?;
        self.now = next;
        for h in &mut self.held {
            h.exchange.handle_timeout(self.now);
            if let Some(reply) = h.exchange.poll_reply() {
                h.reply = Some(reply);
            }
        }
        Some(next)
    }

    fn reply(&mut self, i: usize) -> Option<Reply> {
        self.held[i].reply.take()
    }
}

fn events(reply: &Reply) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&reply.body()).unwrap();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_publish_between_check_and_hold_wakes_the_hold() {
    let mut sim = Sim::new();
    let i = sim.register("topic=t&wait=20");
    sim.check(i);
    // The race: the event lands after the check found nothing, before the hold parks.
    sim.publish("in the gap");
    sim.drive(i);
    let reply = sim.reply(i).expect("answered at once, not held");
    assert_eq!(reply.status(), 200);
    assert_eq!(events(&reply), ["in the gap"]);
    assert_eq!(reply.next(), Some(sim.broker.head()));
}

#[test]
fn a_publish_between_register_and_check_is_answered_by_the_check() {
    let mut sim = Sim::new();
    let i = sim.register("topic=t&wait=20");
    sim.publish("early");
    sim.check(i);
    let position = sim.held[i].sub.cursor();
    sim.held[i].exchange.handle_idle(position);
    let reply = sim.held[i].exchange.poll_reply().unwrap();
    assert_eq!(events(&reply), ["early"]);
}

#[test]
fn a_publish_during_the_hold_wakes_it() {
    let mut sim = Sim::new();
    let i = sim.register("topic=t&wait=20");
    sim.check(i);
    sim.drive(i);
    assert!(sim.reply(i).is_none(), "held");
    assert_eq!(sim.step(), 0, "nothing wakes it yet");
    sim.publish("live");
    assert_eq!(sim.step(), 1);
    assert_eq!(events(&sim.reply(i).unwrap()), ["live"]);
}

#[test]
fn the_deadline_gives_204_with_the_cursor_and_not_a_moment_before() {
    let mut sim = Sim::new();
    sim.publish("old");
    let t0 = sim.now;
    let i = sim.register("topic=t&wait=20");
    sim.drive(i);
    let deadline = sim.held[i].exchange.poll_timeout().unwrap();
    assert_eq!(deadline, t0 + Duration::from_secs(20));
    sim.held[i]
        .exchange
        .handle_timeout(deadline - Duration::from_nanos(1));
    assert!(sim.held[i].exchange.poll_reply().is_none());
    assert_eq!(sim.advance_to_next_deadline(), Some(deadline));
    let reply = sim.reply(i).unwrap();
    assert_eq!(reply.status(), 204);
    assert_eq!(reply.next(), Some(sim.broker.head()));
    assert!(sim.held[i].exchange.poll_timeout().is_none());
}

#[test]
fn waits_above_the_cap_are_capped_and_jitter_is_deterministic() {
    let mut sim = Sim::new();
    let t0 = sim.now;
    let i = sim.register("topic=t&wait=3600");
    assert_eq!(
        sim.held[i].exchange.poll_timeout(),
        Some(t0 + Duration::from_secs(25))
    );
    let config = Config::default();
    let r = parse(b"topic=t", &[], &[]).unwrap();
    let a = Exchange::new(r.clone(), &config, t0, 42);
    let b = Exchange::new(r.clone(), &config, t0, 42);
    assert_eq!(a.poll_timeout(), b.poll_timeout());
    assert!(a.hold() <= Duration::from_secs(25));
    assert!(a.hold() >= Duration::from_secs(24));
}

#[test]
fn one_publish_wakes_n_waiters() {
    const N: usize = 1000;
    let mut sim = Sim::new();
    for _ in 0..N {
        let i = sim.register("topic=t&wait=20");
        sim.check(i);
        sim.drive(i);
    }
    assert_eq!(sim.broker.subscriber_count(&Sim::topic()), N);
    sim.publish("all");
    assert_eq!(sim.step(), N);
    for i in 0..N {
        assert_eq!(sim.held[i].flag.count.load(Ordering::SeqCst), 1);
        assert_eq!(events(&sim.reply(i).unwrap()), ["all"]);
    }
    sim.held.clear();
    assert_eq!(sim.broker.subscriber_count(&Sim::topic()), 0);
}

#[test]
fn short_polling_with_etags() {
    let mut sim = Sim::new();
    let c = sim.publish("one");
    // Nothing after c: 204 without If-None-Match, 304 with it.
    let i = sim.register(&format!("topic=t&since={c}&wait=0"));
    sim.drive(i);
    assert_eq!(sim.reply(i).unwrap().status(), 204);
    let request = parse(
        format!("topic=t&wait=0&since={c}").as_bytes(),
        &[],
        &[format!("\"{c}\"").as_bytes()],
    )
    .unwrap();
    let mut ex = Exchange::new(request, &sim.config, sim.now, 0);
    ex.handle_idle(c);
    let reply = ex.poll_reply().unwrap();
    assert_eq!(reply.status(), 304);
    assert_eq!(reply.next(), Some(c));
    // Something new: 200 whatever If-None-Match says, with the new ETag.
    let before = Cursor::new(0x5eed, 0);
    let i = sim.register(&format!("topic=t&since={before}&wait=0"));
    sim.drive(i);
    let reply = sim.reply(i).unwrap();
    assert_eq!(events(&reply), ["one"]);
    assert!(reply.headers().contains(&("etag", format!("\"{c}\""))));
}

#[test]
fn batches_are_bounded_by_count_and_bytes_and_resume_exactly() {
    let mut sim = Sim::new();
    sim.config = sim.config.clone().with_max_events(3).with_max_bytes(150);
    let start = sim.broker.head();
    for i in 0..10 {
        sim.publish(&format!("event-{i}"));
    }
    sim.publish(&"x".repeat(500));
    let mut since = start;
    let mut got = Vec::new();
    let mut sizes = Vec::new();
    for _ in 0..20 {
        let i = sim.register(&format!("topic=t&since={since}&wait=0"));
        sim.drive(i);
        let reply = sim.reply(i).unwrap();
        if reply.status() == 204 {
            break;
        }
        let e = events(&reply);
        sizes.push(e.len());
        got.extend(e);
        since = reply.next().unwrap();
    }
    assert_eq!(got.len(), 11);
    assert_eq!(got[0], "event-0");
    assert!(sizes.iter().all(|&n| n <= 3));
    assert_eq!(sizes.last(), Some(&1), "the oversized event goes alone");
}

#[test]
fn another_epoch_is_a_gap_with_next_from_where_history_starts() {
    let mut sim = Sim::new();
    sim.publish("a");
    sim.publish("b");
    let i = sim.register("topic=t&since=1-5&wait=20");
    sim.drive(i);
    let reply = sim.reply(i).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&reply.body()).unwrap();
    assert_eq!(v["gap"], true);
    assert_eq!(events(&reply), ["a", "b"]);
    assert_eq!(v["next"], sim.broker.head().to_string());
    // A gap alone (a cursor from the future) is answered at once, not held.
    let i = sim.register("topic=t&since=5eed-99&wait=20");
    sim.drive(i);
    let reply = sim.reply(i).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&reply.body()).unwrap();
    assert_eq!((v["gap"].as_bool(), events(&reply).len()), (Some(true), 0));
    assert_eq!(v["next"], sim.broker.head().to_string());
}

#[test]
fn an_eviction_gap_after_events_ends_the_batch_before_it() {
    let mut sim = Sim::new();
    sim.broker = MemoryBroker::with_epoch(BrokerConfig::default().with_history_count(2), 0x5eed);
    let start = sim.broker.head();
    let publish = |t: &str, d: &str| {
        sim.broker
            .publish_now(&Topic::new(t).unwrap(), Event::new(d.to_owned()))
            .unwrap()
    };
    let b1 = publish("b", "b1");
    for i in 0..4 {
        publish("a", &format!("a{i}")); // a0 and a1 are evicted
    }
    publish("b", "b2");
    let i = sim.register(&format!("topic=a&topic=b&since={start}&wait=0"));
    sim.drive(i);
    let reply = sim.reply(i).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&reply.body()).unwrap();
    assert_eq!(
        (events(&reply), v["gap"].as_bool()),
        (vec!["b1".to_owned()], Some(false))
    );
    assert_eq!(reply.next(), Some(b1), "the batch ends before the loss");
    let i = sim.register(&format!("topic=a&topic=b&since={b1}&wait=0"));
    sim.drive(i);
    let reply = sim.reply(i).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&reply.body()).unwrap();
    assert_eq!(v["gap"], true, "the next poll starts with the loss");
    assert_eq!(events(&reply), ["a2", "a3", "b2"]);
}

#[test]
fn a_closed_broker_answers_503_and_dropping_frees_everything() {
    let mut sim = Sim::new();
    let i = sim.register("topic=t&wait=20");
    sim.drive(i);
    sim.broker.close();
    assert_eq!(sim.step(), 1);
    assert_eq!(sim.reply(i).unwrap().status(), 503);
    sim.held.clear();
    assert_eq!(sim.broker.topic_count(), 0);
}
