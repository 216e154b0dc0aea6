//! The spine's hand-off to the lean path: plain HTTP/1.1 subscribers go to `lean`, with the
//! router's quota and SSE gauge kept around them; other requests on the same port still reach
//! the router through hyper.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use push_core::{Access, Broker, Event, Topic};
use push_hub::ops::metrics::Transport;
use push_hub::serve::{Hub, HubBroker, SubscribeFn};
use push_sse::server::EventStream;
use support::{args, curl};

/// Public events of the `topic` parameters, from now.
// The lean path takes a refusal as a whole `Response` (a cold path).
#[allow(clippy::result_large_err)]
fn subscribe(broker: HubBroker) -> SubscribeFn {
    Arc::new(move |parts: &http::request::Parts| {
        let refuse = |message: String| {
            let body = http_body_util::Full::new(bytes::Bytes::from(message)).map_err(Into::into);
            let mut response = http::Response::new(body.boxed_unsync());
            *response.status_mut() = http::StatusCode::BAD_REQUEST;
            response
        };
        let query = parts.uri.query().unwrap_or("").as_bytes();
        let selector = push_hub::auth::selector_from_query(query)
            .map_err(|r| refuse(r.message().to_owned()))?;
        let subscription = broker
            .subscribe(&selector, None, &Access::public())
            .map_err(|e| refuse(e.to_string()))?;
        let events = EventStream::new(subscription, &push_sse::server::Config::default());
        let (head, ()) = push_http::head::event_stream_response(()).into_parts();
        Ok((head, events))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_are_held_on_the_lean_path_with_their_quota() {
    let mut hub_args = args();
    hub_args.max_streams_per_client = 1;
    let hub = Hub::new(hub_args).unwrap();
    let broker = hub.broker().clone();
    let bound = hub
        .with_lean_subscribe(subscribe(broker.clone()))
        .bind()
        .unwrap();
    let addr = bound.local_addr();
    let metrics = Arc::clone(bound.hub().metrics());
    let shutdown = bound.hub().shutdown().clone();
    let run = tokio::spawn(bound.run(std::future::pending()));
    let url = format!("http://{addr}/.well-known/mercure?topic=lean");

    let stream = tokio::task::spawn_blocking({
        let url = url.clone();
        move || curl(&["-N", "--max-time", "3", &url])
    });
    let held = async {
        while metrics.streams(Transport::Sse).get() != 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .unwrap();
    // The client's one stream is taken: a second is refused by the quota, on the lean path too.
    let (_, second, _) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || curl(&["-i", &url])
    })
    .await
    .unwrap();
    assert!(second.starts_with("HTTP/1.1 429"), "{second}");
    let topic = Topic::new("lean").unwrap();
    broker
        .publish(std::slice::from_ref(&topic), Event::new("held lean"))
        .await
        .unwrap();
    // curl ends at its --max-time; what it printed is the stream.
    let (_, body, _) = stream.await.unwrap();
    assert!(body.contains("data: held lean\n"), "{body:?}");
    // The stream is released with its connection.
    let released = async {
        while metrics.streams(Transport::Sse).get() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), released)
        .await
        .unwrap();
    // Other requests on the port still reach the router.
    let (ok, health, _) =
        tokio::task::spawn_blocking(move || curl(&[&format!("http://{addr}/healthz")]))
            .await
            .unwrap();
    assert!(ok && health == "ok\n");
    shutdown.trigger();
    run.await.unwrap().unwrap();
}
