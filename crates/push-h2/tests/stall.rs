//! A client that never opens its HTTP/2 flow-control window: pushed bodies and event streams
//! wait for it at most `PushConfig::stall_timeout`, then are reset, instead of holding the stream
//! (and buffering without bound) for the connection's life. Under paused time.

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use h2::client;
use http::uri::Scheme;
use push_core::Event;
use push_h2::{Error, PushConfig, PushDelivery, PushOutcome};
use support::{connect, ok};
use tokio::sync::mpsc;

/// Longer than the 30 s default stall timeout; paused time gets there at once.
const WAIT: Duration = Duration::from_secs(120);

/// A client whose stream windows start (and stay) at zero.
fn shut_window_client() -> client::Builder {
    let mut builder = client::Builder::new();
    builder.initial_window_size(0);
    builder
}

#[tokio::test(start_paused = true)]
async fn a_push_to_a_shut_window_is_reset_after_the_stall_timeout() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = support::handler(move |_request, mut parent| {
        let tx = tx.clone();
        async move {
            let request = parent.push_request("/big").unwrap();
            let outcome = parent.push(&request, None, Some(4096)).unwrap();
            parent.send_response(ok(), true).unwrap();
            let PushOutcome::Pushed(stream) = outcome else {
                panic!("not pushed: {outcome:?}");
            };
            let delivery = stream.send(ok(), Bytes::from(vec![7u8; 4096])).await;
            tx.send(delivery.map_err(|e| e.to_string())).unwrap();
        }
    });
    let (send, pushes) =
        connect(&shut_window_client(), PushConfig::new(Scheme::HTTP), server).await;
    let mut ready = send.ready().await.unwrap();
    let request = http::Request::get("http://example.com/").body(()).unwrap();
    let (mut response, _) = ready.send_request(request, true).unwrap();
    let mut promises = response.push_promises();
    let promise = promises.push_promise().await.unwrap().unwrap();
    let delivery = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("the push ends within the stall timeout")
        .unwrap();
    assert_eq!(delivery, Ok(PushDelivery::Stalled));
    // The client sees the reset; the diary does not claim it has the resource.
    let (_, pushed) = promise.into_parts();
    let mut body = pushed.await.unwrap().into_body();
    let reset = body.data().await.expect("a reset, not a clean end");
    assert_eq!(reset.unwrap_err().reason(), Some(h2::Reason::CANCEL));
    assert!(!pushes.client_has("/big", None));
    assert_eq!(pushes.stats().in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn an_event_stream_to_a_shut_window_stays_bounded_and_is_reset() {
    const EVENTS: usize = 256;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = support::handler(move |_request, mut parent| {
        let tx = tx.clone();
        async move {
            parent.start_event_stream().unwrap();
            let event = Event::new("x".repeat(4096));
            let mut sent = 0;
            let mut end = None;
            for _ in 0..EVENTS {
                match parent.send_event(&event).await {
                    Ok(()) => sent += 1,
                    Err(error) => {
                        end = Some(error);
                        break;
                    }
                }
            }
            tx.send((sent, end.map(|e| matches!(e, Error::Stalled))))
                .unwrap();
        }
    });
    let (send, _) = connect(&shut_window_client(), PushConfig::new(Scheme::HTTP), server).await;
    let mut ready = send.ready().await.unwrap();
    let request = http::Request::get("http://example.com/events")
        .body(())
        .unwrap();
    let (response, _) = ready.send_request(request, true).unwrap();
    let (sent, stalled) = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("the event stream gives up within the stall timeout")
        .unwrap();
    // Nothing fits a zero window: not one event was queued (before, all 256 were: 1 MiB held
    // in h2's buffer for a client that reads nothing).
    assert_eq!((sent, stalled), (0, Some(true)));
    let response = response.await.unwrap();
    let mut body = response.into_body();
    let end = body.data().await.expect("a reset, not a clean end");
    assert_eq!(end.unwrap_err().reason(), Some(h2::Reason::CANCEL));
}
