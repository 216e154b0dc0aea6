//! One topic model on every transport: a private update whose alternate topic matches a
//! URI-template selector reaches a subscriber whose token grants that template, over SSE,
//! `/poll` and `/ws`, and never a subscriber without one.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use push_core::Broker as _;
use push_hub::token::Claims;
use support::{args, curl_async, start, token};
use tokio_tungstenite::tungstenite::Message;
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
    let publisher = format!(
        "Authorization: Bearer {}",
        token(Claims::new().publish("*"))
    );
    let mercure = format!("http://{}/.well-known/mercure", hub.addr);
    // The canonical topic is not the one the subscribers select: the alternate is.
    let id = curl_out(
        [
            "-sS",
            "-f",
            "-H",
            &publisher,
            "-d",
            "topic=/canonical/1",
            "-d",
            "topic=/books/1",
            "-d",
            "private=on",
            "-d",
            "data=a-private-book",
            &mercure,
        ]
        .map(String::from)
        .to_vec(),
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
    let tcp = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    let mut seen = Vec::new();
    let message = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await.unwrap().unwrap() {
                Message::Text(text) if text.contains("\"event\"") => return text,
                other => seen.push(format!("{other:?}")),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no event over /ws: {seen:?}"));
    assert!(message.contains("a-private-book"), "{message}");
    assert!(
        seen.iter().any(|s| s.contains("/books/{id}")),
        "the selection names the template: {seen:?}"
    );
}
