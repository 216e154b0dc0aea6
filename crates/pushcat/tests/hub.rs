//! pushcat pointed at a push-hub (in this process, on loopback): `token` mints the publisher's
//! token for the hub's key, `publish` posts an update with it, and `poll` and `ws` receive it
//! from the cursor taken before; `poll` also from the update's Mercure id in the URL's `since`.

use push_core::Broker as _;
use push_hub::args::Args;
use push_hub::serve::Hub;

use crate::support;

const KEY: &str = "the-pushcat-hub-test-secret-long-enough-for-hs256";

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_publish_poll_and_ws_against_the_hub() {
    let mut args = Args::defaults();
    args.addr = "127.0.0.1:0".parse().unwrap();
    args.in_memory = true;
    args.anonymous = true;
    args.jwt_key = vec![KEY.into()];
    let bound = Hub::new(args).unwrap().bind().unwrap();
    let base = format!("{}", bound.local_addr());
    let since = bound.hub().broker().head().to_string();
    let task = tokio::spawn(bound.run(std::future::pending()));

    let minted = ["token", "--key", KEY, "--publish", "*"];
    let token = stdout(&support::run(minted.iter().map(Into::into).collect()).await);
    let mercure = format!("http://{base}/.well-known/mercure");
    let publish = [
        "publish",
        &mercure,
        "--topic",
        "from-pushcat",
        "--data",
        "hello hub",
        "--token",
        &token,
    ];
    let id = stdout(&support::run(publish.iter().map(Into::into).collect()).await);
    assert!(id.starts_with("urn:"), "the update's id: {id}");

    let poll_url = format!("http://{base}/poll?topic=from-pushcat&wait=5");
    let poll = ["poll", &poll_url, "--since", &since, "--count", "1"];
    let lines = support::json_lines(&support::run(poll.iter().map(Into::into).collect()).await);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["data"], "hello hub");

    let ws_url = format!("ws://{base}/ws");
    let ws = [
        "ws",
        &ws_url,
        "--subscribe",
        "from-pushcat",
        "--from",
        &since,
        "--count",
        "1",
    ];
    let lines = support::json_lines(&support::run(ws.iter().map(Into::into).collect()).await);
    // The hub's `subscribed` answer, then the event.
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["type"], "subscribed");
    assert_eq!(
        (&lines[1]["type"], &lines[1]["data"]),
        (&"event".into(), &"hello hub".into())
    );

    // The update's Mercure id (what an SSE subscriber sees) as the poll's `since`: the hub
    // places it, and the next update is what comes.
    let again = [
        "publish",
        &mercure,
        "--topic",
        "from-pushcat",
        "--data",
        "hello again",
        "--token",
        &token,
    ];
    support::run(again.iter().map(Into::into).collect()).await;
    let encoded = id.replace(':', "%3A");
    let by_id = format!("http://{base}/poll?topic=from-pushcat&wait=5&since={encoded}");
    let poll = ["poll", &by_id, "--count", "1"];
    let lines = support::json_lines(&support::run(poll.iter().map(Into::into).collect()).await);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["data"], "hello again");
    task.abort();
}
