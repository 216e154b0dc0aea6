//! Web Push on push-webhook's delivery engine, against the loopback push service stand-in
//! (which decrypts every body and verifies every VAPID token): 201 delivers, 404/410 report the
//! subscription gone, 413 is never retried, 429 with `Retry-After` and 5xx are retried on the
//! engine's schedule — past the fast phase, from the durable queue — and a push service down
//! for a while gets the message once it is back, across a restart of the engine over the same
//! queue. Loopback only; every wait is bounded.
#![cfg(feature = "engine")]

use crate::support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use push_webhook::sender::{Deliver, Engine, Observer, Queue, Stored};
use push_webhook::{Next, Policy};
use push_webpush::client::{Config, Sender};
use push_webpush::engine::WebPushKind;
use push_webpush::{
    Delivery, EndpointPolicy, PushSubscription, Receiver, Topic, Urgency, Vapid, VapidKey, WebPush,
};

/// (registration, when the delivery was queued in Unix ms, what the engine did next).
type Steps = Arc<Mutex<Vec<(String, u64, Next)>>>;

struct Harness {
    engine: Engine,
    steps: Steps,
    gone: Arc<Mutex<Vec<String>>>,
    subscriptions: Arc<Mutex<HashMap<String, PushSubscription>>>,
}

fn policy() -> Policy {
    Policy {
        schedule: [0, 100, 100, 200, 200, 200, 200]
            .map(Duration::from_millis)
            .to_vec(),
        fast_attempts: 2,
        jitter_percent: 0,
        timeout: Duration::from_secs(5),
        ..Policy::default()
    }
}

fn harness(dir: &Path, vapid: Vapid) -> Harness {
    let policy_ = EndpointPolicy::hosts(Vec::<String>::new()).with_loopback(true);
    let sender = Sender::new(WebPush::new(vapid).with_policy(policy_), Config::default()).unwrap();
    let subscriptions: Arc<Mutex<HashMap<String, PushSubscription>>> = Arc::default();
    let lookup = Arc::clone(&subscriptions);
    let gone: Arc<Mutex<Vec<String>>> = Arc::default();
    let told = Arc::clone(&gone);
    let kind = WebPushKind::new(
        Arc::new(sender),
        Arc::new(move |registration| lookup.lock().unwrap().get(registration).cloned()),
    )
    .with_on_gone(Arc::new(move |registration| {
        told.lock().unwrap().push(registration.to_owned());
    }));
    let steps: Steps = Arc::default();
    let seen = Arc::clone(&steps);
    let observer: Observer = Arc::new(move |d: &Stored, next| {
        seen.lock()
            .unwrap()
            .push((d.registration.clone(), d.created, next));
    });
    let kinds = [(WebPushKind::KIND, Arc::new(kind) as Arc<dyn Deliver>)];
    let engine = Engine::with_kinds(Queue::open(dir).unwrap(), policy(), kinds, Some(observer));
    Harness {
        engine,
        steps,
        gone,
        subscriptions,
    }
}

impl Harness {
    fn stored(
        &self,
        registration: &str,
        subscription: PushSubscription,
        delivery: &Delivery,
    ) -> Stored {
        let payload = format!("{{\"for\":\"{registration}\"}}").into_bytes();
        let stored = WebPushKind::stored(
            registration,
            &subscription,
            &format!("msg-{registration}"),
            payload,
            delivery,
        );
        self.subscriptions
            .lock()
            .unwrap()
            .insert(registration.to_owned(), subscription);
        stored
    }

    fn steps(&self, registration: &str) -> Vec<Next> {
        let steps = self.steps.lock().unwrap();
        steps
            .iter()
            .filter(|(r, _, _)| r == registration)
            .map(|(_, _, n)| *n)
            .collect()
    }

    /// Bounded wait (10 s) for the queue to empty.
    async fn drained(&self) -> bool {
        for _ in 0..1000 {
            if self.engine.queue().is_empty().unwrap() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_answer_takes_the_engines_path() {
    let tmp = tempfile::tempdir().unwrap();
    let mut setup = support::push_service().await;
    let h = harness(
        tmp.path(),
        Vapid::new(setup.vapid.key().clone(), "mailto:ops@example.com").unwrap(),
    );
    let runner = h.engine.clone();
    tokio::spawn(async move { runner.run().await });
    let options = Delivery::default()
        .with_ttl(Duration::from_secs(90))
        .with_urgency(Urgency::Low)
        .with_topic(Topic::new("scores").unwrap());
    let plain = Delivery::default();
    let deliveries = vec![
        h.stored("ok", setup.subscription("/push/ok"), &options),
        h.stored("gone", setup.subscription("/gone"), &plain),
        h.stored("missing", setup.subscription("/missing"), &plain),
        h.stored("big", setup.subscription("/big"), &plain),
        h.stored("busy", setup.subscription("/status/429/1/busy"), &plain),
        h.stored("flaky", setup.subscription("/status/503/3/flaky"), &plain),
    ];
    h.engine.publish(deliveries).await.unwrap();
    assert!(h.drained().await, "{:?}", h.steps.lock().unwrap());

    assert_eq!(h.steps("ok"), [Next::Delivered]);
    let mut gone = h.gone.lock().unwrap().clone();
    gone.sort();
    assert_eq!(gone, ["gone", "missing"]);
    assert_eq!(h.steps("gone"), [Next::Disable]);
    assert_eq!(h.steps("missing"), [Next::Disable]);
    assert_eq!(h.steps("big"), [Next::Discard], "413 is never retried");
    // 429 asked for a second: the retry is due a second or more after the queueing, not at the
    // schedule's 100 ms.
    let busy = h.steps("busy");
    let Some(&Next::Retry { at, attempt: 2, .. }) = busy.first() else {
        panic!("{busy:?}");
    };
    let created = h
        .steps
        .lock()
        .unwrap()
        .iter()
        .find(|(r, _, _)| r == "busy")
        .unwrap()
        .1;
    let due = at
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(
        due >= u128::from(created) + 1000,
        "due {due}, queued {created}"
    );
    assert!(busy.ends_with(&[Next::Delivered]), "{busy:?}");
    // Three 503s: two fast attempts, the third from the durable queue, then delivered.
    let flaky = h.steps("flaky");
    assert!(
        matches!(
            flaky[..],
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
                Next::Retry {
                    attempt: 4,
                    durable: true,
                    ..
                },
                Next::Delivered,
            ]
        ),
        "{flaky:?}"
    );

    let mut received = Vec::new();
    while let Ok(r) = setup.received.try_recv() {
        received.push(r);
    }
    let by_path = |path: &str| received.iter().filter(|r| r.path == path).count();
    assert_eq!(by_path("/big"), 1);
    assert_eq!(by_path("/status/429/1/busy"), 2);
    assert_eq!(by_path("/status/503/3/flaky"), 4);
    let ok = received.iter().find(|r| r.path == "/push/ok").unwrap();
    assert_eq!(ok.plaintext, br#"{"for":"ok"}"#);
    assert_eq!(
        (ok.urgency.as_deref(), ok.topic.as_deref()),
        (Some("low"), Some("scores"))
    );
    let ttl: u64 = ok.ttl.parse().unwrap();
    assert!((1..=90).contains(&ttl), "{ttl}");
    assert_eq!(
        received
            .iter()
            .find(|r| r.path.ends_with("/busy"))
            .unwrap()
            .status,
        429
    );
}

fn unused_port() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_push_service_down_for_a_while_gets_the_message_after_an_engine_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let key = VapidKey::generate().unwrap();
    let vapid = || Vapid::new(key.clone(), "mailto:ops@example.com").unwrap();
    let addr = unused_port();
    let agent = Receiver::generate().unwrap();
    let subscription = agent.subscription(&format!("http://{addr}/push/later"));

    // The push service is down: the fast attempts fail, the message goes to the durable queue,
    // and the engine stops there.
    let first = runtime();
    let went_durable = first.block_on(async {
        let h = harness(tmp.path(), vapid());
        let runner = h.engine.clone();
        tokio::spawn(async move { runner.run().await });
        let stored = h.stored("later", subscription.clone(), &Delivery::default());
        h.engine.publish(vec![stored]).await.unwrap();
        for _ in 0..1000 {
            if h.steps("later")
                .iter()
                .any(|n| matches!(n, Next::Retry { durable: true, .. }))
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    });
    drop(first);
    assert!(went_durable);
    assert_eq!(Queue::open(tmp.path()).unwrap().len().unwrap(), 1);

    // The push service is back; a new engine over the same queue delivers.
    let second = runtime();
    second.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let mut setup = support::serve(listener, agent, &key).await;
        let h = harness(tmp.path(), vapid());
        h.subscriptions
            .lock()
            .unwrap()
            .insert("later".to_owned(), subscription);
        let runner = h.engine.clone();
        tokio::spawn(async move { runner.run().await });
        assert!(h.drained().await, "{:?}", h.steps.lock().unwrap());
        assert_eq!(h.steps("later"), [Next::Delivered]);
        let got = setup.received.recv().await.unwrap();
        assert_eq!(got.path, "/push/later");
        assert_eq!(got.plaintext, br#"{"for":"later"}"#);
    });
}
