//! Web Push in the hub, against a push service stand-in on loopback (allowed by
//! `--webpush-allow-loopback`, a flag for tests): the VAPID key at its well-known URL, a
//! browser's subscription registered for topics, each event on them encrypted to it (the
//! stand-in decrypts with the browser's keys), a large event sent as its type and cursor, the
//! `Topic` header when the subscription asks for replacement, private events kept from an
//! anonymous subscription, a subscription the push service reports gone removed, `DELETE`, and
//! the authorization of a hub without anonymous subscribers. Every wait is bounded.

use crate::support;

use std::time::Duration;

use push_core::{Broker as _, Event, Topic};
use push_webpush::{Receiver, VapidKey};
use serde_json::{Value, json};
use support::webpush::{next, push_service};

/// `curl` off the runtime: its stdout, `-w` appending the status on the last line.
async fn curl(args: Vec<String>) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["-w", "\n%{http_code}"]);
        let (_, out, err) = support::curl(&all);
        let (body, status) = out.rsplit_once('\n').unwrap_or(("", "0"));
        (
            status
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{out} {err}")),
            body.to_owned(),
        )
    })
    .await
    .unwrap()
}

async fn subscribe(hub: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
    let mut args = vec![
        "-X".into(),
        "POST".into(),
        "-H".into(),
        "content-type: application/json".into(),
        "--data".into(),
        body.to_string(),
        format!("{hub}/.well-known/push/webpush"),
    ];
    if let Some(token) = token {
        args.extend(["-H".into(), format!("authorization: Bearer {token}")]);
    }
    let (status, text) = curl(args).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn hub_args(key: &VapidKey) -> push_hub::args::Args {
    let mut args = support::args();
    args.webpush.webpush_allow_loopback = true;
    args.webpush.vapid_key = Some(key.private_key_base64url());
    args.callbacks.callbacks_schedule = [0, 100, 100, 200].map(Duration::from_millis).to_vec();
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_a_browser_subscription_through_its_push_service() {
    let key = VapidKey::generate().unwrap();
    let hub = support::start(hub_args(&key));
    let base = format!("http://{}", hub.addr);
    let agent = Receiver::generate().unwrap();
    let (push, mut received) = push_service(agent.clone()).await;

    // The key, as JSON and as text.
    let (status, text) = curl(vec![format!("{base}/.well-known/push/vapid")]).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["publicKey"],
        key.public_key()
    );
    let plain = vec![
        "-H".into(),
        "accept: text/plain".into(),
        format!("{base}/.well-known/push/vapid"),
    ];
    assert_eq!(curl(plain).await, (200, key.public_key().to_owned()));

    // Register; the same POST again is the same registration.
    let subscription = agent.subscription(&format!("{push}/push/one"));
    let asked = json!({"subscription": subscription, "topics": ["jobs/1"], "replace": true});
    let (status, created) = subscribe(&base, &asked, None).await;
    assert_eq!(status, 201, "{created}");
    let id = created["hub_id"].as_str().unwrap().to_owned();
    let (status, again) = subscribe(&base, &asked, None).await;
    assert_eq!((status, again["hub_id"].as_str()), (200, Some(id.as_str())));
    // An endpoint that is no push service, and keys that are not keys, are refused.
    let evil =
        json!({"subscription": agent.subscription("https://evil.example/x"), "topics": ["jobs/1"]});
    assert_eq!(subscribe(&base, &evil, None).await.0, 400);
    let mut broken = subscription.clone();
    broken.keys.auth = "AAAA".into();
    let broken = json!({"subscription": broken, "topics": ["jobs/1"]});
    assert_eq!(subscribe(&base, &broken, None).await.0, 400);

    // A private event is not for an anonymous subscription; the public one after it is, whole.
    let topic = Topic::new("jobs/1").unwrap();
    let secret = Event::new("secret").with_audience(push_core::Audience::Private);
    hub.broker
        .publish(std::slice::from_ref(&topic), secret)
        .await
        .unwrap();
    let cursor = hub
        .broker
        .publish(
            std::slice::from_ref(&topic),
            Event::new(r#"{"step":1}"#).with_event("step"),
        )
        .await
        .unwrap();
    let got = next(&mut received).await;
    assert_eq!(got.path, "/push/one");
    assert_eq!(
        got.payload,
        json!({"type": "step", "cursor": cursor.to_string(), "data": r#"{"step":1}"#})
    );
    assert!(
        got.header("authorization").unwrap().starts_with("vapid t="),
        "{}",
        got.header("authorization").unwrap()
    );
    assert!(
        got.header("authorization")
            .unwrap()
            .ends_with(&format!("k={}", key.public_key()))
    );
    assert_eq!(
        got.header("topic").as_deref(),
        Some(push_webpush::Topic::digest("jobs/1").as_str()),
        "replace: the topic's digest"
    );

    // An event too large for one record goes as its type and cursor, never cut.
    let big = "x".repeat(5000);
    let cursor = hub
        .broker
        .publish(
            std::slice::from_ref(&topic),
            Event::new(big).with_event("step"),
        )
        .await
        .unwrap();
    let got = next(&mut received).await;
    assert_eq!(
        got.payload,
        json!({"type": "step", "cursor": cursor.to_string()})
    );

    // A subscription the push service reports gone is removed.
    let gone =
        json!({"subscription": agent.subscription(&format!("{push}/gone")), "topics": ["jobs/2"]});
    let (status, registered) = subscribe(&base, &gone, None).await;
    assert_eq!(status, 201);
    let gone_id = registered["hub_id"].as_str().unwrap().to_owned();
    hub.broker
        .publish(&[Topic::new("jobs/2").unwrap()], Event::new("bye"))
        .await
        .unwrap();
    assert_eq!(next(&mut received).await.path, "/gone");
    let delete = |id: &str| {
        vec![
            "-X".into(),
            "DELETE".into(),
            format!("{base}/.well-known/push/webpush/{id}"),
        ]
    };
    let show = |id: &str| vec![format!("{base}/.well-known/push/webpush/{id}")];
    let (status, shown) = curl(show(&id)).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&shown).unwrap()["status"],
        "active"
    );
    let mut removed = false;
    for _ in 0..200 {
        if curl(show(&gone_id)).await.0 == 404 {
            removed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(removed, "the gone subscription was removed");

    // Unsubscribe: 204, then it is no more.
    assert_eq!(curl(delete(&id)).await.0, 204);
    assert_eq!(curl(delete(&id)).await.0, 404);
    hub.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_is_authorized_like_any_subscription() {
    let key = VapidKey::generate().unwrap();
    let mut args = hub_args(&key);
    args.anonymous = false;
    let hub = support::start(args);
    let base = format!("http://{}", hub.addr);
    let agent = Receiver::generate().unwrap();
    let asked = json!({
        "subscription": agent.subscription("http://127.0.0.1:9/push"),
        "topics": ["jobs/1"],
    });
    assert_eq!(subscribe(&base, &asked, None).await.0, 401, "no token");
    assert_eq!(
        subscribe(&base, &asked, Some("not-a-jwt")).await.0,
        401,
        "a bad token"
    );
    let token = support::token(push_hub::token::Claims::new().subscribe("jobs/1"));
    let (status, created) = subscribe(&base, &asked, Some(&token)).await;
    assert_eq!(status, 201, "{created}");
    hub.shutdown.trigger();
}
