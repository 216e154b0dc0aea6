//! The queue's unit tests: durability, ordering, the record codec.

use super::*;

fn delivery(due: u64) -> Stored {
    Stored {
        id: 0,
        kind: Kind(7),
        registration: "reg".into(),
        url: "http://127.0.0.1:1/hook".into(),
        message_id: format!("msg_{due}"),
        body: b"{\"a\":1}".to_vec(),
        options: b"ttl=60".to_vec(),
        attempt: 1,
        due,
        created: 5,
    }
}

#[test]
fn deliveries_survive_reopening_and_leave_only_when_removed() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let ids = queue
        .enqueue(&[delivery(30), delivery(10), delivery(20)])
        .unwrap();
    assert_eq!(ids, [1, 2, 3]);
    drop(queue);
    let queue = Queue::open(dir.path()).unwrap();
    assert_eq!(queue.len().unwrap(), 3);
    assert_eq!(queue.next_due().unwrap(), Some(10));
    let due = queue.due(20, 10).unwrap();
    let order: Vec<u64> = due.iter().map(|d| d.due).collect();
    assert_eq!(order, [10, 20]);
    assert_eq!(due[0].id, 2);
    assert_eq!(due[0].body, b"{\"a\":1}");
    // A failed attempt moves it; only a removal takes it out.
    queue.reschedule(&due[0], 2, 40).unwrap();
    assert_eq!(queue.due(20, 10).unwrap().len(), 1);
    let moved = queue.due(40, 10).unwrap();
    assert_eq!((moved[2].id, moved[2].attempt), (2, 2));
    queue.remove(&moved[2]).unwrap();
    queue.remove(&moved[0]).unwrap();
    assert_eq!(queue.len().unwrap(), 1);
    // A stale copy cannot be rescheduled back in.
    assert!(matches!(
        queue.reschedule(&moved[2], 3, 50),
        Err(QueueError::Corrupt(2))
    ));
    assert_eq!(queue.enqueue(&[delivery(1)]).unwrap(), [4]);
    // Skipped ids are passed over, and the scan is bounded.
    queue.enqueue(&[delivery(2), delivery(3)]).unwrap();
    let ids = |v: Vec<Stored>| v.iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(ids(queue.due(100, 10).unwrap()), [4, 5, 6, 1]);
    assert_eq!(ids(queue.due(100, 2).unwrap()), [4, 5]);
    let all = queue.due_where(100, 10, |d| d.id != 4).unwrap();
    assert_eq!(ids(all), [5, 6, 1]);
    assert_eq!(ids(queue.due_where(100, 2, |d| d.id != 4).unwrap()), [5]);
}

#[test]
fn records_decode_or_are_refused_never_panic() {
    let mut bytes = Vec::new();
    encode(&delivery(7), &mut bytes);
    let mut expected = delivery(7);
    expected.id = 9;
    assert_eq!(decode(9, &bytes), Some(expected));
    for cut in 0..bytes.len() {
        assert_eq!(decode(9, &bytes[..cut]), None, "cut at {cut}");
    }
    bytes.push(0);
    assert_eq!(decode(9, &bytes), None, "trailing bytes");
    bytes.pop();
    bytes[0] = 3;
    assert_eq!(decode(9, &bytes), None);
}

#[test]
fn a_version_1_record_reads_as_a_webhook() {
    // As the queue wrote it before kinds: attempt 2, due 7, created 5, then four fields.
    let mut v1 = vec![1];
    v1.extend_from_slice(&2u32.to_be_bytes());
    v1.extend_from_slice(&7u64.to_be_bytes());
    v1.extend_from_slice(&5u64.to_be_bytes());
    for field in [&b"reg"[..], b"https://x/hook", b"msg_1", b"{}"] {
        v1.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
        v1.extend_from_slice(field);
    }
    let read = decode(3, &v1).unwrap();
    assert_eq!(read.kind, Kind::WEBHOOK);
    assert_eq!(read.options, b"");
    assert_eq!(
        (
            read.attempt,
            read.due,
            read.url.as_str(),
            read.body.as_slice()
        ),
        (2, 7, "https://x/hook", &b"{}"[..])
    );
}
