//! The Web Push options of each message, against a push service stand-in on loopback: the
//! publisher's `push_replace` form field sets RFC 8030 `Topic` (the digest of its key) for that
//! event only, and the key survives a restart (the journal); `--webpush-ttl` and
//! `--webpush-urgency` are the `TTL` and `Urgency` every message carries. Every wait is bounded.

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use push_core::{Broker as _, Event, Topic};
use push_hub::serve::Hub;
use push_hub::token::Claims;
use push_webpush::{Receiver, Urgency, VapidKey};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// One message the stand-in received: its decrypted payload's data and its option headers.
#[derive(Debug)]
struct Received {
    data: String,
    topic: Option<String>,
    ttl: Option<String>,
    urgency: Option<String>,
}

/// A push service that decrypts every message for `agent` and answers 201.
async fn push_service(agent: Receiver) -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let agent = Arc::new(agent);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (tx, agent) = (tx.clone(), Arc::clone(&agent));
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let (tx, agent) = (tx.clone(), Arc::clone(&agent));
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let plaintext = agent.decrypt(&body).expect("the body decrypts");
                        let payload: Value = serde_json::from_slice(&plaintext).unwrap();
                        let header = |name: &str| {
                            parts
                                .headers
                                .get(name)
                                .map(|v| v.to_str().unwrap().to_owned())
                        };
                        let _ = tx.send(Received {
                            data: payload["data"].as_str().unwrap_or_default().to_owned(),
                            topic: header("topic"),
                            ttl: header("ttl"),
                            urgency: header("urgency"),
                        });
                        let mut response = Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = http::StatusCode::CREATED;
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (base, rx)
}

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

async fn next(received: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a push message within 10 s")
        .unwrap()
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
    assert_eq!(got.data, "keyed");
    assert_eq!(got.topic, digest("unread/7"), "the publisher's key");
    // The TTL counts from the publish: 90 s less the time it took, in whole seconds.
    let ttl: u64 = got.ttl.as_deref().unwrap().parse().unwrap();
    assert!((60..=90).contains(&ttl), "TTL {ttl}");
    assert_eq!(got.urgency.as_deref(), Some("high"));

    publish(hub.addr, "bare", &["push_replace"]).await;
    let got = next(&mut received).await;
    assert_eq!((got.data.as_str(), got.topic), ("bare", digest("jobs")));

    publish(hub.addr, "plain", &[]).await;
    let got = next(&mut received).await;
    assert_eq!(
        (got.data.as_str(), got.topic),
        ("plain", None),
        "no field, no Topic"
    );

    hub.shutdown.trigger();
    hub.task.await.unwrap().unwrap();
    drop(hub.broker);

    // Events journalled while the fan-out is down: the restarted hub reads them from disk.
    let store = retry(|| push_hub::store::open(dir.path(), push_broker::Config::default())).await;
    let jobs = [Topic::new("jobs").unwrap()];
    store
        .publish(&jobs, Event::new("journalled").with_replace("unread/8"))
        .await
        .unwrap();
    store
        .publish(&jobs, Event::new("journalled plain"))
        .await
        .unwrap();
    drop(store);

    let bound = retry(|| Hub::new(args(dir.path(), &key)))
        .await
        .bind()
        .unwrap();
    let shutdown = bound.hub().shutdown().clone();
    let task = tokio::spawn(bound.run(std::future::pending()));
    let got = next(&mut received).await;
    assert_eq!(got.data, "journalled");
    assert_eq!(
        got.topic,
        digest("unread/8"),
        "the key came back from the journal"
    );
    let got = next(&mut received).await;
    assert_eq!((got.data.as_str(), got.topic), ("journalled plain", None));
    shutdown.trigger();
    let _ = task.await;
}

/// Retries `open` for a while: the stopped hub's tasks let go of its files as they are dropped.
async fn retry<T, E: std::fmt::Debug>(mut open: impl FnMut() -> Result<T, E>) -> T {
    let mut last = None;
    for _ in 0..100 {
        match open() {
            Ok(value) => return value,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{last:?}")
}
