//! One resume point on every transport: the Mercure update id an SSE subscriber last saw (a
//! publisher's id or one the hub generated) resumes exactly on `/poll` (`since=`) and `/ws`
//! (`from=`), and an id the hub cannot place is a gap there too, then all it retains.

use crate::support;

use support::{args, curl_async, curl_publish, first_ws_event, start};

/// `curl ARGS…` off the runtime's threads: its stdout.
async fn curl(args: &[&str]) -> String {
    curl_async(args.iter().map(|a| (*a).to_owned()).collect())
        .await
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_id_resumes_exactly_on_poll_and_ws() {
    let hub = start(args());
    let mercure = format!("http://{}/.well-known/mercure", hub.addr);
    let mut ids = Vec::new();
    for form in [
        "topic=/r&data=first&id=the-first",
        "topic=/r&data=second",
        "topic=/r&data=third",
    ] {
        ids.push(curl_publish(hub.addr, &[form]).await);
    }
    assert_eq!(ids[0], "the-first");
    assert!(ids[1].starts_with("urn:uuid:"), "{ids:?}");
    // What an SSE subscriber sees as the events' ids.
    let sse = curl(&[
        "-sS",
        "-N",
        "--max-time",
        "1",
        &format!("{mercure}?topic=/r&lastEventID=earliest"),
    ])
    .await;
    assert!(
        sse.contains(&format!("id: {}\ndata: second", ids[1])),
        "{sse}"
    );

    let poll = |since: &str| {
        let url = format!(
            "http://{}/poll?topic=/r&wait=0&since={}",
            hub.addr,
            since.replace(':', "%3A")
        );
        async move { curl(&["-sS", &url]).await }
    };
    // The generated id: exactly what came after it.
    let after_second = poll(&ids[1]).await;
    assert!(
        after_second.contains("\"data\":\"third\""),
        "{after_second}"
    );
    assert!(
        !after_second.contains("\"data\":\"second\""),
        "{after_second}"
    );
    assert!(after_second.contains("\"gap\":false"), "{after_second}");
    // The publisher's id.
    let after_first = poll("the-first").await;
    assert!(after_first.contains("\"data\":\"second\""), "{after_first}");
    assert!(!after_first.contains("\"data\":\"first\""), "{after_first}");
    // An id the hub never had: a gap, then everything retained.
    let unknown = poll("urn:uuid:never").await;
    assert!(unknown.contains("\"gap\":true"), "{unknown}");
    assert!(unknown.contains("\"data\":\"first\""), "{unknown}");

    // /ws from the generated id: the third event is the first one it gets.
    let url = format!(
        "ws://{}/ws?topic=/r&from={}",
        hub.addr,
        ids[1].replace(':', "%3A")
    );
    let (event, _) = first_ws_event(hub.addr, url).await;
    assert!(event.contains("\"data\":\"third\""), "{event}");
}
