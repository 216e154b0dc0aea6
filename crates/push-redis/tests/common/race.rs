//! The race both the single-server and the Cluster tests run (see tests/race.rs).

use push_core::{Access, Broker, Cursor, Delivery, Event, Topic};
use push_redis::{Config, RedisBroker};

use super::*;

pub const PER_TOPIC: usize = 400;

async fn publish_all(broker: RedisBroker, topic: Topic) -> RedisBroker {
    for i in 0..PER_TOPIC {
        broker
            .publish(std::slice::from_ref(&topic), Event::new(i.to_string()))
            .await
            .expect("publish");
    }
    broker
}

/// Two publishers (own brokers) on two topics of different partitions; a subscriber of both
/// reconnecting with its cursor, alternating between two more brokers; a steady subscriber.
pub async fn race(config: impl Fn() -> Config) {
    let connect = || async { RedisBroker::connect(config()).await.unwrap() };
    let (p1, p2, s1, s2) = (
        connect().await,
        connect().await,
        connect().await,
        connect().await,
    );
    let (a, b) = two_partitions(&s1, "race");
    let selector = both(&a, &b);
    // One subscriber that never reconnects: live delivery alone must keep cursor order.
    let mut steady = s2.subscribe(&selector, None, &Access::public()).unwrap();

    let start = s1.head();
    let pub_a = tokio::spawn(publish_all(p1, a.clone()));
    let pub_b = tokio::spawn(publish_all(p2, b.clone()));

    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    let mut cursor: Cursor = start;
    let mut reconnects = 0;
    while got_a.len() < PER_TOPIC || got_b.len() < PER_TOPIC {
        let hub = if reconnects % 2 == 0 { &s1 } else { &s2 };
        let mut sub = hub
            .subscribe(&selector, Some(cursor), &Access::public())
            .unwrap();
        reconnects += 1;
        for _ in 0..=rand(15) {
            match next(&mut sub).await {
                Delivery::Event(p) => {
                    assert!(
                        p.cursor() > cursor,
                        "cursor order: {} after {cursor}",
                        p.cursor()
                    );
                    cursor = p.cursor();
                    let n: usize = data(&p).parse().unwrap();
                    if p.topic() == &a {
                        got_a.push(n);
                    } else {
                        got_b.push(n);
                    }
                }
                other => panic!("no gap is due here: {other:?}"),
            }
            if got_a.len() == PER_TOPIC && got_b.len() == PER_TOPIC {
                break;
            }
        }
    }
    let want: Vec<usize> = (0..PER_TOPIC).collect();
    assert_eq!(got_a, want, "topic a: no loss, no duplicate, in order");
    assert_eq!(got_b, want, "topic b: no loss, no duplicate, in order");
    assert!(
        reconnects > 20,
        "the subscriber reconnected {reconnects} times"
    );

    let mut last = start;
    for _ in 0..2 * PER_TOPIC {
        let Delivery::Event(p) = next(&mut steady).await else {
            panic!("events only")
        };
        assert!(
            p.cursor() > last,
            "live cursor order: {} after {last}",
            p.cursor()
        );
        last = p.cursor();
    }
    assert_eq!(last, cursor, "both subscribers end on the same last event");
    drop((pub_a.await.unwrap(), pub_b.await.unwrap()));
}
