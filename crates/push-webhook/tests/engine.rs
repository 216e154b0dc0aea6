//! The engine runs any kind of delivery on the one queue and schedule: a scripted kind (no
//! network) classifies its own answers — delivered, gone, refused, retry with `Retry-After` —
//! and the engine reschedules, goes durable after the fast phase, drops and disables as the
//! policy says, and after a restart over the same queue delivers what is left, including a
//! delivery of a kind the first engine did not run. Every wait is bounded.
#![cfg(feature = "sender")]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use push_webhook::sender::{Attempt, Deliver, Engine, Kind, Observer, Queue, Stored};
use push_webhook::{Next, Outcome, Policy};

const SCRIPTED: Kind = Kind(9);

/// Answers each delivery (by message id) with its next scripted outcome, then `Delivered`.
#[derive(Default)]
struct Scripted {
    script: Mutex<HashMap<String, VecDeque<Outcome>>>,
    attempts: Mutex<Vec<(String, u32)>>,
}

impl Deliver for Scripted {
    fn deliver<'a>(&'a self, delivery: &'a Stored, _now: SystemTime) -> Attempt<'a> {
        Box::pin(async move {
            self.attempts
                .lock()
                .unwrap()
                .push((delivery.message_id.clone(), delivery.attempt));
            self.script
                .lock()
                .unwrap()
                .get_mut(&delivery.message_id)
                .and_then(VecDeque::pop_front)
                .unwrap_or(Outcome::Delivered)
        })
    }
}

fn policy() -> Policy {
    Policy {
        schedule: [0, 20, 20, 40, 40, 40].map(Duration::from_millis).to_vec(),
        fast_attempts: 2,
        timeout: Duration::from_secs(5),
        jitter_percent: 0,
        ..Policy::default()
    }
}

fn delivery(id: &str) -> Stored {
    Stored {
        kind: SCRIPTED,
        registration: format!("reg-{id}"),
        url: format!("https://push.example/{id}"),
        message_id: id.to_owned(),
        body: id.as_bytes().to_vec(),
        options: b"ttl=60".to_vec(),
        ..Stored::default()
    }
}

type Steps = Arc<Mutex<Vec<(String, Next)>>>;

fn engine(dir: &std::path::Path, kind: Option<Arc<Scripted>>, steps: &Steps) -> Engine {
    let steps = Arc::clone(steps);
    let observer: Observer = Arc::new(move |d: &Stored, next: Next| {
        steps.lock().unwrap().push((d.message_id.clone(), next));
    });
    let kinds = kind.map(|k| (SCRIPTED, k as Arc<dyn Deliver>));
    Engine::with_kinds(Queue::open(dir).unwrap(), policy(), kinds, Some(observer))
}

fn last(steps: &Steps, id: &str) -> Option<Next> {
    let steps = steps.lock().unwrap();
    steps.iter().rev().find(|(m, _)| m == id).map(|(_, n)| *n)
}

/// Publishes `deliveries` and runs the engine on a fresh runtime until `until` holds, for at
/// most 10 s of 10 ms polls; the runtime (and every task of the engine, which hold the queue's
/// file) ends with it.
fn run_until(engine: Engine, deliveries: Vec<Stored>, until: impl Fn(&Engine) -> bool) -> bool {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let runner = engine.clone();
        tokio::spawn(async move { runner.run().await });
        if !deliveries.is_empty() {
            engine.publish(deliveries).await.unwrap();
        }
        for _ in 0..1000 {
            if until(&engine) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    })
}

#[test]
fn a_kind_that_classifies_its_answers_shares_the_schedule_the_queue_and_the_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let steps: Steps = Arc::default();
    let kind = Arc::new(Scripted::default());
    let retry = |secs: Option<u64>| Outcome::Retry {
        retry_after: secs.map(Duration::from_secs),
    };
    kind.script.lock().unwrap().extend([
        // Fails the whole fast phase, then is delivered from the durable queue.
        (
            "slow".to_owned(),
            VecDeque::from([retry(None), retry(None)]),
        ),
        ("gone".to_owned(), VecDeque::from([Outcome::Gone])),
        ("refused".to_owned(), VecDeque::from([Outcome::Refused])),
        // Asks for an hour: still queued when the engine stops.
        ("later".to_owned(), VecDeque::from([retry(Some(3600))])),
    ]);
    let first = engine(tmp.path(), Some(Arc::clone(&kind)), &steps);
    let deliveries = ["slow", "gone", "refused", "later"].map(delivery).to_vec();
    let done = run_until(first, deliveries, |engine| {
        ["slow", "gone", "refused", "later"]
            .iter()
            .all(|id| last(&steps, id).is_some())
            && last(&steps, "slow") == Some(Next::Delivered)
            && engine.queue().len().unwrap() == 1
    });
    assert!(done, "steps: {:?}", steps.lock().unwrap());
    assert_eq!(last(&steps, "gone"), Some(Next::Disable));
    assert_eq!(last(&steps, "refused"), Some(Next::Discard));
    // "slow": two fast attempts, the second moving it to the durable queue, then the third.
    let slow: Vec<Next> = steps
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, _)| m == "slow")
        .map(|(_, n)| *n)
        .collect();
    assert!(
        matches!(
            slow[..],
            [
                Next::Retry {
                    attempt: 2,
                    durable: false,
                    ..
                },
                Next::Retry {
                    attempt: 3,
                    durable: true,
                    ..
                },
                Next::Delivered
            ]
        ),
        "{slow:?}"
    );
    // The Retry-After of an hour, not the schedule's 20 ms.
    let Some(Next::Retry { at, attempt: 2, .. }) = last(&steps, "later") else {
        panic!("{:?}", steps.lock().unwrap());
    };
    let asked = at.duration_since(SystemTime::UNIX_EPOCH).unwrap();
    let queue = Queue::open(tmp.path()).unwrap();
    let kept = queue.due(u64::MAX, 10).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(u128::from(kept[0].due), asked.as_millis());
    assert_eq!(
        (kept[0].kind, kept[0].options.as_slice()),
        (SCRIPTED, &b"ttl=60"[..])
    );
    // Bring "later" due now, and queue one more for a restart without the kind.
    queue.reschedule(&kept[0], 2, 0).unwrap();
    let mut orphan = delivery("orphan");
    orphan.attempt = 1;
    queue.enqueue(&[orphan]).unwrap();
    drop(queue);

    // A restart that does not run the kind: its deliveries are failed attempts, kept.
    let steps_without: Steps = Arc::default();
    let without = engine(tmp.path(), None, &steps_without);
    let tried = run_until(without, Vec::new(), |_| {
        last(&steps_without, "later").is_some() && last(&steps_without, "orphan").is_some()
    });
    assert!(tried, "{:?}", steps_without.lock().unwrap());
    // Kept on the schedule (a second fast attempt may have run before the engine stopped).
    assert!(matches!(
        last(&steps_without, "orphan"),
        Some(Next::Retry { attempt: 2.., .. })
    ));

    // A restart with the kind delivers both from the queue alone.
    let before = kind.attempts.lock().unwrap().len();
    let again = engine(tmp.path(), Some(Arc::clone(&kind)), &steps);
    let drained = run_until(again, Vec::new(), |engine| {
        engine.queue().is_empty().unwrap()
    });
    assert!(drained, "{:?}", steps.lock().unwrap());
    assert_eq!(last(&steps, "later"), Some(Next::Delivered));
    assert_eq!(last(&steps, "orphan"), Some(Next::Delivered));
    let after: Vec<(String, u32)> = kind.attempts.lock().unwrap()[before..].to_vec();
    // Each resumed at the attempt the queue recorded (past the ones the kind-less run made).
    for id in ["later", "orphan"] {
        assert!(
            after
                .iter()
                .any(|(m, attempt)| m == id && *attempt >= 3 - u32::from(id == "orphan")),
            "{after:?}"
        );
    }
}

/// Holds every attempt until the test lets it go; counts attempts running per origin.
struct Held {
    gate: tokio::sync::Semaphore,
    running: Mutex<HashMap<String, usize>>,
    most: Mutex<HashMap<String, usize>>,
}

impl Deliver for Held {
    fn deliver<'a>(&'a self, delivery: &'a Stored, _now: SystemTime) -> Attempt<'a> {
        let origin = delivery.url.rsplit_once('/').unwrap().0.to_owned();
        Box::pin(async move {
            {
                let mut running = self.running.lock().unwrap();
                let now = running.entry(origin.clone()).or_default();
                *now += 1;
                let mut most = self.most.lock().unwrap();
                let most = most.entry(origin.clone()).or_default();
                *most = (*most).max(*now);
            }
            self.gate.acquire().await.unwrap().forget();
            *self.running.lock().unwrap().get_mut(&origin).unwrap() -= 1;
            Outcome::Delivered
        })
    }
}

#[test]
fn memory_is_bounded_in_all_and_per_origin_and_the_rest_waits_in_the_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let held = Arc::new(Held {
        gate: tokio::sync::Semaphore::new(0),
        running: Mutex::default(),
        most: Mutex::default(),
    });
    let policy = Policy {
        max_in_memory: 3,
        max_in_memory_per_origin: 2,
        ..policy()
    };
    let kinds = [(SCRIPTED, Arc::clone(&held) as Arc<dyn Deliver>)];
    let engine = Engine::with_kinds(Queue::open(tmp.path()).unwrap(), policy, kinds, None);
    // Six for a big push service, two for another.
    let mut deliveries = Vec::new();
    for i in 0..6 {
        let mut d = delivery(&format!("big-{i}"));
        d.url = format!("https://big.example/{i}");
        deliveries.push(d);
    }
    for i in 0..2 {
        let mut d = delivery(&format!("small-{i}"));
        d.url = format!("https://small.example/{i}");
        deliveries.push(d);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let runner = engine.clone();
        tokio::spawn(async move { runner.run().await });
        engine.publish(deliveries).await.unwrap();
        let running = |origin: &str| {
            held.running
                .lock()
                .unwrap()
                .get(&format!("https://{origin}"))
                .copied()
                .unwrap_or(0)
        };
        // Bounded wait: three held attempts, at most two of them for the big service.
        for _ in 0..500 {
            if running("big.example") + running("small.example") == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(engine.in_memory(), 3);
        assert_eq!(running("big.example"), 2);
        assert_eq!(running("small.example"), 1);
        assert_eq!(engine.queue().len().unwrap(), 8, "every delivery is queued");
        // Let them go one at a time: the queue feeds the freed slots until all are delivered.
        for _ in 0..500 {
            if engine.queue().is_empty().unwrap() {
                break;
            }
            held.gate.add_permits(1);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(engine.queue().is_empty().unwrap());
    });
    let most = held.most.lock().unwrap();
    assert_eq!(most["https://big.example"], 2);
    assert!(most.values().sum::<usize>() <= 4, "{most:?}");
}
