//! Web Push per message: push-webpush against the `web-push` crate (encryption through the
//! `ece` crate on OpenSSL, a VAPID signature per message through jwt-simple), same run.
//!
//! - `webpush_message`: what a server does per message — encrypt a ~200-byte JSON payload for
//!   a subscription and authorize it with VAPID. push-webpush signs once per push service and
//!   reuses the token (RFC 8292 allows it until `exp`); web-push signs every message.
//! - `webpush_encrypt`: the RFC 8291 encryption alone (a fresh ephemeral key and salt each).

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use push_webpush::{Delivery, Encoding, Receiver, Vapid, VapidKey, WebPush};
use web_push::{ContentEncoding, SubscriptionInfo, VapidSignatureBuilder, WebPushMessageBuilder};

const ENDPOINT: &str = "https://fcm.googleapis.com/fcm/send/bench";

fn payload() -> Vec<u8> {
    br#"{"type":"score","data":{"match":"ARS-CHE","minute":67,"home":2,"away":1,"scorer":"Saka","assist":"Odegaard"},"cursor":"01d2f3a4-000000000000002a","url":"/matches/ars-che"}"#
        .to_vec()
}

struct Peer {
    subscription: SubscriptionInfo,
    vapid: web_push::PartialVapidSignatureBuilder,
}

impl Peer {
    fn message(&self, payload: &[u8]) -> web_push::WebPushMessage {
        let signature = self
            .vapid
            .clone()
            .add_sub_info(&self.subscription)
            .build()
            .expect("VAPID signature");
        let mut builder = WebPushMessageBuilder::new(&self.subscription);
        builder.set_payload(ContentEncoding::Aes128Gcm, payload);
        builder.set_vapid_signature(signature);
        builder.build().expect("web-push message")
    }

    fn encrypt(&self, payload: &[u8]) -> web_push::WebPushMessage {
        let mut builder = WebPushMessageBuilder::new(&self.subscription);
        builder.set_payload(ContentEncoding::Aes128Gcm, payload);
        builder.build().expect("web-push message")
    }
}

fn setup() -> (WebPush, push_webpush::PushSubscription, Peer, Receiver) {
    let receiver = Receiver::generate().expect("keys");
    let subscription = receiver.subscription(ENDPOINT);
    let key = VapidKey::generate().expect("VAPID key");
    let peer = Peer {
        subscription: SubscriptionInfo::new(
            ENDPOINT.to_owned(),
            subscription.keys.p256dh.clone(),
            subscription.keys.auth.clone(),
        ),
        vapid: VapidSignatureBuilder::from_base64_no_sub(&key.private_key_base64url())
            .expect("web-push reads the key"),
    };
    let vapid = Vapid::new(key, "mailto:bench@example.com").expect("subject");
    (WebPush::new(vapid), subscription, peer, receiver)
}

fn bench(c: &mut Criterion) {
    let (ours, subscription, peer, receiver) = setup();
    let payload = payload();
    let delivery = Delivery::default();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    // Both sides produce what the subscription's browser can read.
    let request = ours
        .request(&subscription, &payload, &delivery, now)
        .expect("request");
    assert_eq!(
        receiver.decrypt(request.body()).expect("ours decrypts"),
        payload
    );
    assert_eq!(
        receiver
            .decrypt(&peer.message(&payload).payload.expect("body").content)
            .expect("theirs decrypts"),
        payload
    );

    let mut g = c.benchmark_group("webpush_message");
    g.throughput(Throughput::Elements(1));
    g.bench_function("push-webpush", |b| {
        b.iter(|| {
            ours.request(
                black_box(&subscription),
                black_box(&payload),
                &delivery,
                now,
            )
        })
    });
    g.bench_function("web-push", |b| b.iter(|| peer.message(black_box(&payload))));
    g.finish();

    let recipient = subscription.recipient().expect("keys");
    let encoding = Encoding::default();
    let mut g = c.benchmark_group("webpush_encrypt");
    g.throughput(Throughput::Elements(1));
    g.bench_function("push-webpush", |b| {
        b.iter(|| push_webpush::encrypt(black_box(&recipient), black_box(&payload), &encoding))
    });
    g.bench_function("web-push", |b| b.iter(|| peer.encrypt(black_box(&payload))));
    g.finish();

    interleaved(&ours, &subscription, &peer, &payload, now);
}

/// Alternating rounds of 200 messages each side, the median of per-round ratios.
fn interleaved(
    ours: &WebPush,
    subscription: &push_webpush::PushSubscription,
    peer: &Peer,
    payload: &[u8],
    now: SystemTime,
) {
    const ROUNDS: usize = 15;
    const REPEAT: usize = 200;
    let delivery = Delivery::default();
    let r = push_benches::interleave(
        ROUNDS,
        || {
            let start = Instant::now();
            for _ in 0..REPEAT {
                black_box(
                    ours.request(subscription, payload, &delivery, now)
                        .expect("request"),
                );
            }
            start.elapsed()
        },
        || {
            let start = Instant::now();
            for _ in 0..REPEAT {
                black_box(peer.message(payload));
            }
            start.elapsed()
        },
    );
    println!(
        "webpush interleaved ({ROUNDS} rounds of {REPEAT} messages): push-webpush ÷ web-push, \
         median {:.2}× (min {:.2}×, max {:.2}×)",
        r.median, r.min, r.max
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
