//! The router around the Mercure endpoint, with a stand-in endpoint: the publish rate quota
//! (429 + Retry-After), the SSE stream gauge, and a stream that ends at the hub's shutdown with
//! the jittered `retry:` hint of [`Shutdown::farewell`] (the endpoint's, not the router's).

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Method, Response};
use http_body_util::{BodyExt, Full, StreamBody};
use push_hub::ops::shutdown::Shutdown;
use push_hub::serve::{Hub, HubBody, MercureHandler};
use support::{args, curl};

/// Answers a GET with an event stream that ends at `shutdown` with its farewell hint, a POST
/// with `200 urn:x`.
fn stand_in(shutdown: Shutdown) -> MercureHandler {
    Arc::new(move |request: http::Request<HubBody>| {
        let farewell = shutdown.farewell();
        Box::pin(async move {
            if request.method() == Method::POST {
                let body = Full::new(Bytes::from_static(b"urn:x")).map_err(Into::into);
                return Response::new(body.boxed_unsync());
            }
            let frames = futures_util::stream::once(async {
                Ok::<_, push_hub::serve::BoxError>(http_body::Frame::data(Bytes::from_static(
                    b":\n\n",
                )))
            })
            .chain(futures_util::stream::once(async move {
                let millis = farewell.await.as_millis();
                Ok(http_body::Frame::data(Bytes::from(format!(
                    "retry: {millis}\n\n"
                ))))
            }));
            let mut response = Response::new(StreamBody::new(frames).boxed_unsync());
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/event-stream"),
            );
            response
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_over_the_rate_get_429_and_streams_end_with_a_retry_hint() {
    let mut hub_args = args();
    hub_args.publish_rate = 1;
    hub_args.shutdown_retry = Duration::from_secs(2);
    let hub = Hub::new(hub_args).unwrap();
    let handler = stand_in(hub.shutdown().clone());
    let bound = hub.with_mercure(handler).bind().unwrap();
    let addr = bound.local_addr();
    let shutdown = bound.hub().shutdown().clone();
    let metrics = Arc::clone(bound.hub().metrics());
    let run = tokio::spawn(bound.run(std::future::pending()));
    let hub_url = format!("http://{addr}/.well-known/mercure");

    let publish = {
        let hub_url = hub_url.clone();
        move || curl(&["-i", "-d", "topic=a&data=b", &hub_url])
    };
    let (_, first, _) = tokio::task::spawn_blocking(publish.clone()).await.unwrap();
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    let (_, second, _) = tokio::task::spawn_blocking(publish).await.unwrap();
    assert!(second.starts_with("HTTP/1.1 429"), "{second}");
    assert!(
        second.to_ascii_lowercase().contains("retry-after: 1"),
        "{second}"
    );

    let stream = tokio::task::spawn_blocking({
        let url = format!("{hub_url}?topic=a");
        // Over h2c: the router's path (plain HTTP/1.1 subscribers take the lean path).
        move || curl(&["--http2-prior-knowledge", "-N", &url])
    });
    let held = async {
        while metrics
            .streams(push_hub::ops::metrics::Transport::Sse)
            .get()
            != 1
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .unwrap();
    shutdown.trigger();
    let (ok, body, err) = stream.await.unwrap();
    assert!(ok, "{err}");
    let retry: u64 = body
        .strip_prefix(":\n\nretry: ")
        .and_then(|rest| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("{body:?}"))
        .parse()
        .unwrap();
    assert!((2000..=4000).contains(&retry), "{body}");
    run.await.unwrap().unwrap();
    assert_eq!(
        metrics
            .streams(push_hub::ops::metrics::Transport::Sse)
            .get(),
        0
    );
}
