//! The duplicate-send race: a due scan reads a delivery, an attempt of it that was in flight
//! ends and records its result, and only then does the scan's task run — with a copy that is
//! no longer current. It must not be sent again.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::sender::{Attempt, Queue};

const COUNTED: Kind = Kind(7);

#[derive(Default)]
struct Counting(AtomicUsize);

impl Deliver for Counting {
    fn deliver<'a>(&'a self, _: &'a Stored, _: SystemTime) -> Attempt<'a> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Outcome::Delivered })
    }
}

fn engine() -> (Engine, Arc<Counting>) {
    let counting = Arc::new(Counting::default());
    let kinds = [(COUNTED, Arc::clone(&counting) as Arc<dyn Deliver>)];
    let engine = Engine::with_kinds(Queue::in_memory().unwrap(), Policy::default(), kinds, None);
    (engine, counting)
}

/// Queues one delivery due now and returns the copy a due scan reads.
fn scanned(engine: &Engine, name: &str) -> Stored {
    let now = unix_millis(wall_clock());
    let delivery = Stored {
        kind: COUNTED,
        registration: name.to_owned(),
        url: "https://receiver.example/hook".to_owned(),
        message_id: format!("msg_{name}"),
        attempt: 1,
        due: now,
        created: now,
        ..Stored::default()
    };
    engine
        .queue()
        .enqueue_in_lanes(&[delivery], &|_| u32::MAX)
        .unwrap();
    let mut due = engine
        .queue()
        .due_where(now, 16, &mut |d| d.registration == name)
        .unwrap();
    assert_eq!(due.len(), 1);
    due.remove(0)
}

#[tokio::test]
async fn a_due_scans_copy_of_a_delivery_just_delivered_is_not_sent_again() {
    let (engine, counting) = engine();
    let stale = scanned(&engine, "a");
    // The attempt in flight got its 2xx and removed the delivery after the scan's read.
    engine.queue().remove_and_release(&stale).unwrap();
    attempts(Arc::clone(&engine.inner), stale).await;
    assert_eq!(counting.0.load(Ordering::SeqCst), 0, "sent again");
}

#[tokio::test]
async fn a_due_scans_copy_of_a_delivery_just_rescheduled_is_not_sent_again() {
    let (engine, counting) = engine();
    let stale = scanned(&engine, "b");
    // The attempt in flight failed and recorded attempt 2, an hour on, after the scan's read.
    let later = stale.due + 3_600_000;
    engine.queue().reschedule(&stale, 2, later).unwrap();
    attempts(Arc::clone(&engine.inner), stale.clone()).await;
    assert_eq!(counting.0.load(Ordering::SeqCst), 0, "sent again");
    // The current copy is not lost: it is due at its rescheduled time.
    assert_eq!(engine.queue().next_due().unwrap(), Some(later));
    assert_eq!(engine.queue().len().unwrap(), 1);
}

#[tokio::test]
async fn a_current_copy_is_sent_once() {
    let (engine, counting) = engine();
    let current = scanned(&engine, "c");
    attempts(Arc::clone(&engine.inner), current).await;
    assert_eq!(counting.0.load(Ordering::SeqCst), 1);
    assert!(engine.queue().is_empty().unwrap());
}
