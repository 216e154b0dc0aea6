//! RedisBroker against a real redis-server: live delivery, resume across brokers (hubs),
//! multi-topic events, private events, epochs, cursors from the future, trimming, ids, AUTH.

use crate::common;

use common::*;
use push_core::{
    Access, Audience, Broker, Cursor, Delivery, Error, Event, GapReason, Selector, Subscription,
};
use push_redis::{Config, ConnectError, RedisBroker};
use push_test_support::redis::{RedisOptions, RedisServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_reach_another_broker_and_a_cursor_resumes_on_either() {
    let server = RedisServer::start();
    let (a, b) = (broker(&server).await, broker(&server).await);
    assert_eq!(a.epoch(), b.epoch(), "one deployment, one epoch");
    let news = topic("news");
    let mut on_a = subscribe(&a, &news, None);
    let first = publish(&b, &news, "one").await;
    publish(&b, &news, "two").await;
    assert_eq!(next_data(&mut on_a).await, "one");
    assert_eq!(next_data(&mut on_a).await, "two");
    assert_eq!(a.head(), on_a.cursor());

    // Resume on B from A's first cursor: the second from Redis, the third live (published on A).
    let mut on_b = subscribe(&b, &news, Some(first));
    assert_eq!(next_data(&mut on_b).await, "two");
    publish(&a, &news, "three").await;
    assert_eq!(next_data(&mut on_b).await, "three");
    assert_eq!(next_data(&mut on_a).await, "three");
    assert_eq!(on_a.cursor(), on_b.cursor());

    // The lag: 0 while caught up; once A's reader has relayed two more, 1 after the first.
    assert_eq!(on_a.lag(), Some(0));
    publish(&b, &news, "four").await;
    let fifth = publish(&b, &news, "five").await;
    for _ in 0..500 {
        if a.head() == fifth {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(a.head(), fifth, "A's reader relays B's events");
    assert_eq!(next_data(&mut on_a).await, "four");
    assert_eq!(on_a.lag(), Some(1));
    assert_eq!(next_data(&mut on_a).await, "five");
    assert_eq!(on_a.lag(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_on_two_topics_comes_once_and_private_ones_only_where_granted() {
    let server = RedisServer::start();
    let hub = broker(&server).await;
    let (x, y) = two_partitions(&hub, "two");
    let mut public = hub
        .subscribe(&both(&x, &y), None, &Access::public())
        .unwrap();
    let granted = Access::public().with_private(Selector::one(y.clone()));
    let mut private = hub
        .subscribe(&Selector::one(x.clone()), None, &granted)
        .unwrap();
    hub.publish(&[y.clone(), x.clone()], Event::new("both"))
        .await
        .unwrap();
    // Delivered before the next publish: "both" lives in y's partition, the others in x's, and
    // events of two partitions within one millisecond order by partition (ARCHITECTURE.md).
    match next(&mut public).await {
        Delivery::Event(p) => assert_eq!(
            (data(&p).as_str(), p.topics()),
            ("both", &[y.clone(), x.clone()][..])
        ),
        other => panic!("{other:?}"),
    }
    let mut secret = Event::new("secret");
    secret.audience = Audience::Private;
    hub.publish(&[x.clone(), y.clone()], secret).await.unwrap();
    publish(&hub, &x, "end").await;
    assert_eq!(
        next_data(&mut public).await,
        "end",
        "the private event skips a public access"
    );
    for want in ["both", "secret", "end"] {
        assert_eq!(next_data(&mut private).await, want);
    }
    assert_eq!(
        hub.publish(&[], Event::new("none")).await,
        Err(Error::SelectorEmpty)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_epoch_and_a_cursor_from_the_future_are_announced() {
    let server = RedisServer::start();
    let hub = broker(&server).await;
    let t = topic("t");
    let sel = Selector::one(t.clone());
    let c1 = publish(&hub, &t, "one").await;
    publish(&hub, &t, "two").await;

    let stale = Cursor::new(hub.epoch() ^ 1, 5);
    let mut sub = hub.subscribe(&sel, Some(stale), &Access::public()).unwrap();
    match next(&mut sub).await {
        Delivery::Gap(g) => {
            assert_eq!(g.reason, GapReason::UnknownEpoch);
            assert_eq!(g.resume.epoch(), hub.epoch());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(next_data(&mut sub).await, "one", "then everything retained");
    assert_eq!(next_data(&mut sub).await, "two");

    let future =
        Cursor::with_sequence(hub.epoch(), c1.offset() + 3_600_000, c1.sequence().unwrap());
    let mut sub = hub
        .subscribe(&sel, Some(future), &Access::public())
        .unwrap();
    match next(&mut sub).await {
        Delivery::Gap(g) => assert_eq!(g.reason, GapReason::FromFuture),
        other => panic!("{other:?}"),
    }
    publish(&hub, &t, "three").await;
    assert_eq!(next_data(&mut sub).await, "three", "then live events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trimmed_history_is_a_gap_before_what_is_retained() {
    let server = RedisServer::start();
    let hub = RedisBroker::connect(config(&server).with_partitions(1).with_history_count(10))
        .await
        .unwrap();
    let t = topic("busy");
    let first = publish(&hub, &t, "0").await;
    for i in 1..400 {
        publish(&hub, &t, &i.to_string()).await;
    }
    let mut sub = subscribe(&hub, &t, Some(first));
    let Delivery::Gap(gap) = next(&mut sub).await else {
        panic!("a gap first: entries after the cursor were trimmed");
    };
    assert_eq!(gap.reason, GapReason::Evicted);
    // Then the retained events, in order, each after the gap's cursor, up to the last one.
    let mut last = gap.resume;
    let mut seen = 0;
    loop {
        let Delivery::Event(p) = next(&mut sub).await else {
            panic!("only events after the gap")
        };
        assert!(p.cursor() > last);
        last = p.cursor();
        seen += 1;
        if data(&p) == "399" {
            break;
        }
    }
    assert!((10..400).contains(&seen), "retained {seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_ids_resolve_on_every_broker_that_read_them() {
    let server = RedisServer::start();
    let (a, b) = (broker(&server).await, broker(&server).await);
    let t = topic("ids");
    let mut on_a = subscribe(&a, &t, None);
    let at = b
        .publish(std::slice::from_ref(&t), Event::new("x").with_id("order-7"))
        .await
        .unwrap();
    b.publish(std::slice::from_ref(&t), Event::new("y").with_id("order-8"))
        .await
        .unwrap();
    assert_eq!(next_data(&mut on_a).await, "x");
    assert_eq!(next_data(&mut on_a).await, "y");
    assert_eq!(a.resolve("order-7"), Some(at));
    assert_eq!(a.resolve("order-9"), None);
    let mut resumed = subscribe(&a, &t, a.resolve("order-7"));
    assert_eq!(next_data(&mut resumed).await, "y");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_is_required_and_used() {
    let server = RedisServer::start_with(RedisOptions {
        password: Some("s3cret".into()),
        ..RedisOptions::default()
    });
    let hub = broker(&server).await;
    let t = topic("auth");
    let mut sub = subscribe(&hub, &t, None);
    publish(&hub, &t, "ok").await;
    assert_eq!(next_data(&mut sub).await, "ok");
    let wrong = format!("redis://:wrong@127.0.0.1:{}/", server.port());
    let refused = RedisBroker::connect(Config::new(wrong)).await.unwrap_err();
    assert!(matches!(refused, ConnectError::Redis(_)), "{refused:?}");
    let bad = RedisBroker::connect(Config::new("http://nope"))
        .await
        .unwrap_err();
    assert!(matches!(bad, ConnectError::Url(_)), "{bad:?}");
}
