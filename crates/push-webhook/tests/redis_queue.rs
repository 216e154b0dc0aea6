//! The Redis queue against a real `redis-server` on loopback: enqueue / claim / reschedule /
//! remove, lanes and limits; a claim whose holder dies is taken over once its lease has run
//! out; two handles racing for one due delivery: exactly one wins; and an engine over it
//! delivers what another engine left. Times are Unix milliseconds passed in, never read from a
//! clock, so the lease is tested without waiting for it.
#![cfg(feature = "redis")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use push_test_support::redis::RedisServer;
use push_webhook::sender::{
    Attempt, Deliver, Engine, Kind, LEASE, Placed, QueueError, RedisLimits, RedisQueue, Store,
    Stored,
};
use push_webhook::{Outcome, Policy};

const T0: u64 = 1_700_000_000_000;

fn queue(server: &RedisServer, limits: RedisLimits) -> RedisQueue {
    RedisQueue::open(&server.url(), "test:wq", limits).unwrap()
}

fn delivery(registration: &str, n: u32, due: u64) -> Stored {
    Stored {
        registration: registration.to_owned(),
        url: "https://receiver.example/hook".to_owned(),
        message_id: format!("msg_{registration}_{n}"),
        body: format!("{{\"n\":{n}}}").into_bytes(),
        attempt: 1,
        due,
        created: due,
        ..Stored::default()
    }
}

fn due(queue: &RedisQueue, now: u64) -> Vec<Stored> {
    queue.due_where(now, 100, &mut |_| true).unwrap()
}

fn ids(list: &[Stored]) -> Vec<u64> {
    let mut ids: Vec<u64> = list.iter().map(|d| d.id).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn enqueue_claim_reschedule_and_remove() {
    let server = RedisServer::start();
    let q = queue(&server, RedisLimits::default());
    let placed = q
        .enqueue_in_lanes(
            &[
                delivery("a", 1, T0),
                delivery("a", 2, T0),
                delivery("b", 1, T0 + 500),
            ],
            &|_| 1,
        )
        .unwrap();
    assert_eq!(
        placed,
        [Placed::Released(1), Placed::Held(2), Placed::Released(3)]
    );
    assert_eq!(q.len().unwrap(), 3);
    assert_eq!(q.next_due().unwrap(), Some(T0));
    assert_eq!(q.oldest().unwrap(), Some(T0));
    // Only released deliveries that are due.
    assert_eq!(ids(&due(&q, T0)), [1]);
    assert_eq!(ids(&due(&q, T0 + 500)), [1, 3]);

    let first = due(&q, T0).remove(0);
    assert_eq!(first.body, b"{\"n\":1}");
    assert!(q.claim(&first, T0).unwrap());
    assert!(!q.claim(&first, T0).unwrap(), "held: not claimed twice");
    assert!(due(&q, T0 + 1).is_empty(), "a claimed delivery is not due");
    // A failed attempt: the next is number 2, due 5 s later; the attempt count survives.
    q.reschedule(&first, 2, T0 + 5_000).unwrap();
    assert!(
        !q.claim(&first, T0 + 5_000).unwrap(),
        "the old copy is stale"
    );
    let again = due(&q, T0 + 5_000).into_iter().find(|d| d.id == 1).unwrap();
    assert_eq!((again.attempt, again.due), (2, T0 + 5_000));
    assert!(!q.claim(&again, T0 + 4_999).unwrap(), "not due yet");
    assert!(q.claim(&again, T0 + 5_000).unwrap());
    // Delivered: removed, and its lane's held delivery is released, due at its stored time.
    let released = q.remove_and_release(&again).unwrap().unwrap();
    assert_eq!((released.id, released.message_id.as_str()), (2, "msg_a_2"));
    assert_eq!(ids(&due(&q, T0 + 5_000)), [2, 3]);
    assert_eq!(q.len().unwrap(), 2);
    for d in due(&q, T0 + 5_000) {
        assert!(q.claim(&d, T0 + 5_000).unwrap());
        assert_eq!(q.remove_and_release(&d).unwrap(), None);
    }
    assert!(q.is_empty().unwrap());
    assert_eq!(q.next_due().unwrap(), None);
    assert_eq!(
        q.reschedule(&again, 3, T0).map_err(|e| e.to_string()),
        Err("delivery 1 in the queue does not decode".into())
    );
}

#[test]
fn a_delivery_queued_twice_is_queued_once() {
    let server = RedisServer::start();
    let q = queue(&server, RedisLimits::default());
    let first = q.enqueue_in_lanes(&[delivery("a", 1, T0)], &|_| 4).unwrap();
    // A second hub's fan-out, or a retried enqueue: the same message id.
    let second = q.enqueue_in_lanes(&[delivery("a", 1, T0)], &|_| 4).unwrap();
    assert_eq!(first, [Placed::Released(1)]);
    assert_eq!(second, [Placed::Held(1)]);
    assert_eq!(q.len().unwrap(), 1);
}

#[test]
fn limits_per_registration_and_in_all() {
    let server = RedisServer::start();
    let limits = RedisLimits {
        per_registration: 2,
        total: 3,
    };
    let q = queue(&server, limits);
    let placed = q
        .enqueue_in_lanes(
            &[
                delivery("a", 1, T0),
                delivery("a", 2, T0),
                delivery("a", 3, T0),
            ],
            &|_| 8,
        )
        .unwrap();
    assert_eq!(
        placed,
        [Placed::Released(1), Placed::Released(2), Placed::Refused]
    );
    assert_eq!(q.len().unwrap(), 2);
    // Two more would pass the total of 3: nothing of the batch is queued.
    let full = q.enqueue_in_lanes(&[delivery("b", 1, T0), delivery("b", 2, T0)], &|_| 8);
    assert!(matches!(full, Err(QueueError::Full)), "{full:?}");
    assert_eq!(q.len().unwrap(), 2);
    assert_eq!(
        q.enqueue_in_lanes(&[delivery("b", 1, T0)], &|_| 8).unwrap(),
        [Placed::Released(4)]
    );
}

#[test]
fn a_dead_holders_claim_is_taken_over_after_its_lease() {
    let server = RedisServer::start();
    let hub_a = queue(&server, RedisLimits::default());
    let hub_b = queue(&server, RedisLimits::default());
    hub_a
        .enqueue_in_lanes(&[delivery("a", 1, T0)], &|_| 1)
        .unwrap();
    let copy = due(&hub_a, T0).remove(0);
    assert!(hub_a.claim(&copy, T0).unwrap());
    // Hub A dies holding it (no reschedule, no removal). Hub B sees nothing due until the
    // lease has run out, then takes it, with its attempt number and schedule.
    let lease = u64::try_from(LEASE.as_millis()).unwrap();
    assert!(due(&hub_b, T0 + lease - 1).is_empty());
    assert!(!hub_b.claim(&copy, T0 + lease - 1).unwrap());
    assert!(hub_b.next_due().unwrap().is_some_and(|at| at <= T0 + lease));
    let taken = due(&hub_b, T0 + lease);
    assert_eq!(ids(&taken), [1]);
    assert_eq!((taken[0].attempt, taken[0].due), (1, T0));
    assert!(hub_b.claim(&taken[0], T0 + lease).unwrap());
    assert_eq!(hub_b.remove_and_release(&taken[0]).unwrap(), None);
    assert!(hub_b.is_empty().unwrap());
}

#[test]
fn two_handles_racing_for_one_due_delivery_one_wins() {
    let server = RedisServer::start();
    let setup = queue(&server, RedisLimits::default());
    setup
        .enqueue_in_lanes(&[delivery("a", 1, T0)], &|_| 1)
        .unwrap();
    for round in 0..20u64 {
        let now = T0 + round * 10 * u64::try_from(LEASE.as_millis()).unwrap();
        let copy = due(&setup, now).remove(0);
        let start = Arc::new(Barrier::new(2));
        let wins = Arc::new(AtomicUsize::new(0));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (q, copy) = (queue(&server, RedisLimits::default()), copy.clone());
                let (start, wins) = (Arc::clone(&start), Arc::clone(&wins));
                std::thread::spawn(move || {
                    // Connected before the barrier, so both claims go out together.
                    assert_eq!(q.len().unwrap(), 1);
                    start.wait();
                    if q.claim(&copy, now).unwrap() {
                        wins.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for racer in racers {
            racer.join().unwrap();
        }
        assert_eq!(wins.load(Ordering::SeqCst), 1, "round {round}");
    }
}

/// Counts attempts; answers 204.
#[derive(Default)]
struct Counting(AtomicUsize);

impl Deliver for Counting {
    fn deliver<'a>(&'a self, _: &'a Stored, _: SystemTime) -> Attempt<'a> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            Outcome::Status {
                status: http::StatusCode::NO_CONTENT,
                retry_after: None,
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_delivers_what_another_hub_queued() {
    let server = RedisServer::start();
    let kind = Kind(9);
    // Queued by a hub that died before its first attempt (nothing claimed it).
    let mut left = delivery("a", 1, 0);
    left.kind = kind;
    queue(&server, RedisLimits::default())
        .enqueue_in_lanes(&[left], &|_| 1)
        .unwrap();
    let counting = Arc::new(Counting::default());
    let engine = Engine::with_kinds(
        queue(&server, RedisLimits::default()),
        Policy::default(),
        [(kind, Arc::clone(&counting) as Arc<dyn Deliver>)],
        None,
    );
    let runner = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run().await }
    });
    for _ in 0..500 {
        if engine.queue().is_empty().unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    runner.abort();
    assert!(engine.queue().is_empty().unwrap(), "delivered and removed");
    assert_eq!(counting.0.load(Ordering::SeqCst), 1);
}
