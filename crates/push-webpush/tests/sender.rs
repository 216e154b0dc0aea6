//! The sender against a push service stand-in on loopback. The stand-in is a test of the real
//! protocol: it decrypts every body with the subscription's private key and verifies the VAPID
//! signature, then answers as a push service would (201, 404/410, 413, 429 with Retry-After,
//! 503, or not at all).

use crate::support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use push_webpush::client::{Config, Sender};
use push_webpush::{
    Delivery, EndpointPolicy, Error, Outcome, PushSubscription, Topic, Urgency, Vapid, WebPush,
};
use support::{Setup, push_service};

fn sender(vapid: Vapid, config: Config) -> Sender {
    let policy = EndpointPolicy::hosts(Vec::<String>::new()).with_loopback(true);
    Sender::new(WebPush::new(vapid).with_policy(policy), config).unwrap()
}

fn subscription(setup: &Setup, path: &str) -> PushSubscription {
    setup.subscription(path)
}

#[tokio::test]
async fn a_delivered_message_decrypts_at_the_push_service() {
    let mut setup = push_service().await;
    let sub = subscription(&setup, "/push/abc");
    let sender = sender(setup.vapid, Config::default());
    let delivery = Delivery::default()
        .with_ttl(Duration::from_secs(90))
        .with_urgency(Urgency::Low)
        .with_topic(Topic::new("scores").unwrap());
    let outcome = sender.send(&sub, b"{\"goal\":1}", &delivery).await.unwrap();
    assert_eq!(outcome, Outcome::Delivered);
    let got = setup.received.recv().await.unwrap();
    assert_eq!(got.path, "/push/abc");
    assert_eq!(got.plaintext, b"{\"goal\":1}");
    assert_eq!(got.ttl, "90");
    assert_eq!(got.urgency.as_deref(), Some("low"));
    assert_eq!(got.topic.as_deref(), Some("scores"));
    assert_eq!(got.audience, setup.base);
}

#[tokio::test]
async fn each_answer_is_classified() {
    let setup = push_service().await;
    let sender = sender(setup.vapid.clone_for_test(), Config::default());
    let delivery = Delivery::default();
    for (path, expected) in [
        ("/gone", Outcome::Gone),
        ("/missing", Outcome::Gone),
        ("/big", Outcome::TooLarge),
        (
            "/busy",
            Outcome::Retry {
                after: Some(Duration::from_secs(7)),
            },
        ),
        ("/down", Outcome::Retry { after: None }),
    ] {
        let outcome = sender
            .send(&subscription(&setup, path), b"x", &delivery)
            .await
            .unwrap();
        assert_eq!(outcome, expected, "{path}");
    }
}

#[tokio::test]
async fn work_is_bounded_per_push_service_and_in_total() {
    let setup = push_service().await;
    let config = Config::default().with_queue_depth(3).with_per_service(2);
    let sender = Arc::new(sender(setup.vapid.clone_for_test(), config));
    let sub = subscription(&setup, "/hold");
    let mut sends = Vec::new();
    for _ in 0..3 {
        let (sender, sub) = (sender.clone(), sub.clone());
        sends.push(tokio::spawn(async move {
            sender.send(&sub, b"held", &Delivery::default()).await
        }));
    }
    // Bounded wait until the push service holds two requests.
    for _ in 0..500 {
        if setup.service.active.load(Ordering::SeqCst) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(setup.service.active.load(Ordering::SeqCst), 2);
    // The third waits for its push service; a fourth is refused at once.
    let fourth = sender
        .send(&sub, b"one too many", &Delivery::default())
        .await;
    assert!(matches!(fourth, Err(Error::QueueFull(3))), "{fourth:?}");
    for _ in 0..3 {
        // Bounded: each release lets one held request answer; wait for the next to arrive.
        for _ in 0..500 {
            if setup.service.active.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        setup.service.release.notify_one();
    }
    for send in sends {
        assert_eq!(send.await.unwrap().unwrap(), Outcome::Delivered);
    }
    assert_eq!(setup.service.most_active.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_silent_push_service_times_out() {
    let setup = push_service().await;
    let config = Config::default().with_timeout(Duration::from_millis(300));
    let sender = sender(setup.vapid.clone_for_test(), config);
    let outcome = sender
        .send(&subscription(&setup, "/hold"), b"x", &Delivery::default())
        .await;
    assert!(matches!(outcome, Err(Error::Timeout(_))), "{outcome:?}");
    setup.service.release.notify_waiters();
}

#[tokio::test]
async fn a_refused_endpoint_is_never_connected_to() {
    let setup = push_service().await;
    // The default policy: known push services only, no loopback.
    let sender = Sender::new(
        WebPush::new(setup.vapid.clone_for_test()),
        Config::default(),
    )
    .unwrap();
    let outcome = sender
        .send(&subscription(&setup, "/ok"), b"x", &Delivery::default())
        .await;
    assert!(matches!(outcome, Err(Error::Endpoint(_))), "{outcome:?}");
    assert_eq!(setup.service.connections.load(Ordering::SeqCst), 0);
}

trait CloneForTest {
    fn clone_for_test(&self) -> Self;
}

impl CloneForTest for Vapid {
    fn clone_for_test(&self) -> Self {
        Self::new(self.key().clone(), "mailto:ops@example.com").unwrap()
    }
}
