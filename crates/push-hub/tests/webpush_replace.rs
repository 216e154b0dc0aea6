//! The Web Push options of each message, against a push service stand-in on loopback: the
//! publisher's `push_replace` form field sets RFC 8030 `Topic` (the digest of its key) for that
//! event only, and the key survives a restart (the journal); `--webpush-ttl` and
//! `--webpush-urgency` are the `TTL` and `Urgency` every message carries. Every wait is bounded.

use crate::support;

use std::time::Duration;

use push_core::Event;
use push_hub::token::Claims;
use push_webpush::{Receiver, Urgency, VapidKey};
use serde_json::json;
use support::webpush::{next, push_service};

fn args(dir: &std::path::Path, key: &VapidKey) -> push_hub::args::Args {
    let mut args = support::args();
    args.in_memory = false;
    args.data_dir = dir.to_owned();
    args.webpush.webpush_allow_loopback = true;
    args.webpush.vapid_key = Some(key.private_key_base64url());
    args.webpush.webpush_ttl = Duration::from_secs(90);
    args.webpush.webpush_urgency = Some(Urgency::High);
    args.callbacks.callbacks_schedule = [0, 100, 100, 200].map(Duration::from_millis).to_vec();
    args
}

/// `curl ARGS…` off the runtime; fails the test unless it succeeds.
async fn curl(args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || {
        let all: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out, err) = support::curl(&all);
        assert!(ok, "curl {args:?}: {err}");
        out
    })
    .await
    .unwrap()
}

/// Publishes `data` on `jobs` through the Mercure form, with `extra` fields.
async fn publish(hub: std::net::SocketAddr, data: &str, extra: &[&str]) {
    let token = support::token(Claims::new().publish("*"));
    let mut args = vec![
        "-f".into(),
        "-H".into(),
        format!("Authorization: Bearer {token}"),
        "--data-urlencode".into(),
        "topic=jobs".into(),
        "--data-urlencode".into(),
        format!("data={data}"),
    ];
    for field in extra {
        args.extend(["--data-urlencode".into(), (*field).to_owned()]);
    }
    args.push(format!("http://{hub}/.well-known/mercure"));
    curl(args).await;
}

fn digest(key: &str) -> Option<String> {
    Some(push_webpush::Topic::digest(key).as_str().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publishers_push_replace_sets_topic_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = VapidKey::generate().unwrap();
    let agent = Receiver::generate().unwrap();
    let (push, mut received) = push_service(agent.clone()).await;

    // A subscription that does not ask for replacement itself.
    let hub = support::start(args(dir.path(), &key));
    let asked =
        json!({"subscription": agent.subscription(&format!("{push}/p")), "topics": ["jobs"]});
    let created = curl(vec![
        "-f".into(),
        "-H".into(),
        "content-type: application/json".into(),
        "--data".into(),
        asked.to_string(),
        format!("http://{}/.well-known/push/webpush", hub.addr),
    ])
    .await;
    assert!(created.contains("hub_id"), "{created}");

    publish(hub.addr, "keyed", &["push_replace=unread/7"]).await;
    let got = next(&mut received).await;
    assert_eq!(got.data(), "keyed");
    assert_eq!(
        got.header("topic"),
        digest("unread/7"),
        "the publisher's key"
    );
    // The TTL counts from the publish: 90 s less the time it took, in whole seconds.
    let ttl: u64 = got.header("ttl").as_deref().unwrap().parse().unwrap();
    assert!((60..=90).contains(&ttl), "TTL {ttl}");
    assert_eq!(got.header("urgency").as_deref(), Some("high"));

    publish(hub.addr, "bare", &["push_replace"]).await;
    let got = next(&mut received).await;
    assert_eq!((got.data(), got.header("topic")), ("bare", digest("jobs")));

    publish(hub.addr, "plain", &[]).await;
    let got = next(&mut received).await;
    assert_eq!(
        (got.data(), got.header("topic")),
        ("plain", None),
        "no field, no Topic"
    );

    // Events journalled while the fan-out is down: the restarted hub reads them from disk.
    let events = vec![
        Event::new("journalled").with_replace("unread/8"),
        Event::new("journalled plain"),
    ];
    let (shutdown, task) =
        support::restart_after(hub, "jobs", events, || args(dir.path(), &key)).await;
    let got = next(&mut received).await;
    assert_eq!(got.data(), "journalled");
    assert_eq!(
        got.header("topic"),
        digest("unread/8"),
        "the key came back from the journal"
    );
    let got = next(&mut received).await;
    assert_eq!(
        (got.data(), got.header("topic")),
        ("journalled plain", None)
    );
    shutdown.trigger();
    let _ = task.await;
}
