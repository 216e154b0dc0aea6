//! One topic model on every transport: a private update whose alternate topic matches a
//! URI-template selector reaches a subscriber whose token grants that template, over SSE,
//! `/poll` and `/ws`, and never a subscriber without one.

use crate::support;

use push_core::Broker as _;
use push_hub::token::Claims;
use support::{args, curl_async, curl_publish, first_ws_event, start, token};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// `curl ARGS…` off the runtime's threads: its stdout.
async fn curl_out(args: Vec<String>) -> String {
    curl_async(args).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_update_on_an_alternate_reaches_granted_template_subscribers_on_every_transport()
{
    let hub = start(args());
    let since = hub.broker.head();
    let bearer = format!(
        "Authorization: Bearer {}",
        token(Claims::new().subscribe("/books/{id}"))
    );
    let mercure = format!("http://{}/.well-known/mercure", hub.addr);
    // The canonical topic is not the one the subscribers select: the alternate is.
    let id = curl_publish(
        hub.addr,
        &[
            "topic=/canonical/1",
            "topic=/books/1",
            "private=on",
            "data=a-private-book",
        ],
    )
    .await;
    assert!(id.starts_with("urn:"), "published: {id}");
    let selector = "/books/%7Bid%7D";

    // Long polling, from the cursor before the publish.
    let poll = format!("http://{}/poll?topic={selector}&since={since}", hub.addr);
    let granted = curl_out(vec![
        "-sS".into(),
        "-H".into(),
        bearer.clone(),
        format!("{poll}&wait=5"),
    ])
    .await;
    assert!(granted.contains("a-private-book"), "{granted}");
    let anonymous = curl_out(vec!["-sS".into(), format!("{poll}&wait=1")]).await;
    assert!(!anonymous.contains("a-private-book"), "{anonymous}");

    // SSE, from the earliest retained event, for a second.
    let sse = format!("{mercure}?topic={selector}&lastEventID=earliest");
    let held = |extra: Vec<String>| {
        let mut args: Vec<String> = ["-sS", "-N", "--max-time", "1"].map(String::from).to_vec();
        args.extend(extra);
        args.push(sse.clone());
        curl_out(args)
    };
    let granted = held(vec!["-H".into(), bearer.clone()]).await;
    assert!(granted.contains("data: a-private-book"), "{granted}");
    let anonymous = held(Vec::new()).await;
    assert!(!anonymous.contains("a-private-book"), "{anonymous}");

    // WebSocket, from the cursor before the publish: the URL's template is the selection.
    let url = format!("ws://{}/ws?topic={selector}&from={since}", hub.addr);
    let mut request = url.into_client_request().unwrap();
    let value = bearer.split_once(": ").unwrap().1;
    request
        .headers_mut()
        .insert("authorization", value.parse().unwrap());
    let (message, seen) = first_ws_event(hub.addr, request).await;
    assert!(message.contains("a-private-book"), "{message}");
    assert!(
        seen.iter().any(|s| s.contains("/books/{id}")),
        "the selection names the template: {seen:?}"
    );
}

/// 1.0's `match_urlpattern` in a `/ws` and a `/poll` URL: the WHATWG URL pattern, relative,
/// is resolved against the hub's URL as on `/.well-known/mercure`, and selects what it
/// matches; a topic it does not match is not delivered. (Before, the relative pattern was a
/// 400 on both: only the Mercure route resolved it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_pattern_in_the_ws_url_selects_what_it_matches() {
    let hub = start(args());
    let since = hub.broker.head();
    let mercure = format!("http://{}/.well-known/mercure", hub.addr);
    // Topics are absolute URLs on the hub's origin, where the relative pattern resolves.
    let origin = format!("http://{}", hub.addr);
    for (path, data) in [("/authors/1", "an-author"), ("/books/2", "a-book")] {
        let (topic, data) = (format!("topic={origin}{path}"), format!("data={data}"));
        let id = curl_publish(hub.addr, &[&topic, &data]).await;
        assert!(id.starts_with("urn:"), "published: {id}");
    }
    let pattern = "%2Fbooks%2F%3Aid";

    // Over SSE, the route that resolved relative patterns before.
    let sse = format!("{mercure}?match_urlpattern={pattern}&last_event_id=earliest");
    let streamed = curl_out(
        ["-sS", "-N", "--max-time", "1", &sse]
            .map(String::from)
            .to_vec(),
    )
    .await;
    assert!(streamed.contains("data: a-book"), "{streamed}");
    assert!(!streamed.contains("an-author"), "{streamed}");

    // The same pattern over /poll: the book, not the author.
    let poll = format!(
        "http://{}/poll?match_urlpattern={pattern}&since={since}&wait=5",
        hub.addr
    );
    let polled = curl_out(vec!["-sS".into(), poll]).await;
    assert!(polled.contains("a-book"), "{polled}");
    assert!(!polled.contains("an-author"), "{polled}");

    let url = format!(
        "ws://{}/ws?match_urlpattern={pattern}&from={since}",
        hub.addr
    );
    let (message, seen) = first_ws_event(hub.addr, url).await;
    // Events come in order: the author's, published first, would have come first.
    assert!(message.contains("a-book"), "{message}");
    assert!(
        seen.iter().any(|s| s.contains("/books/:id")),
        "the selection names the pattern: {seen:?}"
    );
}
