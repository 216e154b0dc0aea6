//! The window between a publish's `200` and its deliveries' queueing: events committed to the
//! hub's history while the callbacks' fan-out was not running (a crash right after the
//! answers) are matched and delivered after the restart, from the fan-out's stored cursor.

use std::time::Duration;

use push_core::{Broker as _, Event, Topic};
use push_hub::args::Args;
use push_hub::token::Claims;
use serde_json::json;

use crate::support;

use crate::receiver;

fn args(dir: &std::path::Path) -> Args {
    let mut args = support::args();
    args.in_memory = false;
    args.data_dir = dir.to_owned();
    args.callbacks.callbacks_allow_private = true;
    args.callbacks.callbacks_schedule = vec![Duration::ZERO, Duration::from_millis(100)];
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_published_while_the_fanout_was_down_are_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = receiver::Receiver::start("127.0.0.1:0".parse().unwrap()).await;

    // A hub with a registration for `jobs`.
    let hub = support::start(args(dir.path()));
    let token = support::token(Claims::new().subscribe("jobs"));
    let body = json!({"url": receiver.url(), "topics": ["jobs"], "id": "replayed"}).to_string();
    let url = format!("http://{}/.well-known/push/callbacks", hub.addr);
    let (ok, answer, err) = tokio::task::spawn_blocking(move || {
        support::curl(&[
            "-f",
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body,
            &url,
        ])
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    let registration: serde_json::Value = serde_json::from_str(&answer).unwrap();
    receiver.set_secrets(vec![
        registration["secret"].as_str().unwrap().parse().unwrap(),
    ]);
    hub.broker
        .publish(&[Topic::new("jobs").unwrap()], Event::new("before"))
        .await
        .unwrap();
    receiver
        .until("the first event", |s| s.effects.len() == 1)
        .await;
    // The history takes two events while the fan-out is down; the restart resumes from its
    // cursor and queues both.
    let events = ["during 1", "during 2"].map(Event::new).to_vec();
    let (shutdown, task) = support::restart_after(hub, "jobs", events, || args(dir.path())).await;
    receiver
        .until("both events", |s| s.effects.len() == 3)
        .await;
    let data: Vec<String> = receiver
        .effects()
        .iter()
        .map(|e| e["data"]["data"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(data, ["before", "during 1", "during 2"]);
    shutdown.trigger();
    let _ = task.await;
}
