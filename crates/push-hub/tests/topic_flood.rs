//! A flood of publishes to new topics through the hub: past `--max-topics` a publish that
//! would start one more topic gets `503` with a body saying why, while the topics the hub
//! holds keep taking events.

use crate::support;

use push_hub::token::Claims;
use support::{args, curl, start, token};

/// A publish of `data` to `topic`: the status and the body.
fn publish(base: &str, bearer: &str, topic: &str, data: &str) -> (String, String) {
    let topic = format!("topic={topic}");
    let data = format!("data={data}");
    let (_, out, err) = curl(&[
        "-sS",
        "-w",
        "\n%{http_code}",
        "-H",
        bearer,
        "-d",
        &topic,
        "-d",
        &data,
        base,
    ]);
    let (body, status) = out
        .rsplit_once('\n')
        .unwrap_or_else(|| panic!("{out} {err}"));
    (status.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_past_the_topic_limit_get_503_and_held_topics_still_take_events() {
    let mut hub_args = args();
    hub_args.max_topics = 3;
    let hub = start(hub_args);
    let base = format!("http://{}/.well-known/mercure", hub.addr);
    let bearer = format!(
        "Authorization: Bearer {}",
        token(Claims::new().publish("*"))
    );
    tokio::task::spawn_blocking(move || {
        for n in 0..3 {
            let (status, id) = publish(&base, &bearer, &format!("flood-{n}"), "x");
            assert_eq!(status, "200", "{id}");
        }
        for n in 3..20 {
            let (status, body) = publish(&base, &bearer, &format!("flood-{n}"), "x");
            assert_eq!(status, "503", "topic {n}: {body}");
            assert!(!body.trim().is_empty(), "a 503 says why");
        }
        let (status, id) = publish(&base, &bearer, "flood-1", "still taken");
        assert_eq!(status, "200", "{id}");
    })
    .await
    .unwrap();
}
