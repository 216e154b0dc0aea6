//! Push streams against h2::client, in-process over an in-memory duplex: cancellation, the
//! concurrency limits, frames refused before the wire, 1xx while a response is prepared, and flow
//! control across pushed bodies.

use crate::support;

use bytes::Bytes;
use h2::client;
use http::header::LINK;
use http::uri::Scheme;
use http::{Method, Response, StatusCode};
use push_h2::{
    Error, ParentState, PushConfig, PushDelivery, PushOutcome, PushRequest, Resource, SkipReason,
};
use support::{connect, get, handler, ok};
use tokio::sync::mpsc;

#[tokio::test]
async fn a_cancelled_push_stops_and_the_client_has_it() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let config = PushConfig::new(Scheme::HTTP).with_max_chunk(1024);
    let server = handler(move |_request, mut parent| {
        let tx = tx.clone();
        async move {
            let request = parent.push_request("/big").unwrap();
            let outcome = parent.push(&request, None, Some(1 << 20)).unwrap();
            parent.send_response(ok(), false).unwrap();
            let delivery = match outcome {
                PushOutcome::Pushed(stream) => stream
                    .send(ok(), Bytes::from(vec![7u8; 1 << 20]))
                    .await
                    .unwrap(),
                PushOutcome::NotPushed(reason) => panic!("not pushed: {reason:?}"),
            };
            tx.send(delivery).unwrap();
            parent.send_data(Bytes::new(), true).unwrap();
        }
    });
    let (send, pushes) = connect(&client::Builder::new(), config, server).await;
    let mut ready = send.ready().await.unwrap();
    let request = http::Request::get("http://example.com/").body(()).unwrap();
    let (mut response, _) = ready.send_request(request, true).unwrap();
    let mut promises = response.push_promises();
    let promise = promises.push_promise().await.unwrap().unwrap();
    assert_eq!(promise.request().uri().path(), "/big");
    drop(promise); // RST_STREAM(CANCEL) for the pushed stream.
    let delivery = tokio::time::timeout(support::LIMIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery, PushDelivery::Cancelled(h2::Reason::CANCEL));
    assert!(pushes.client_has("/big", None));
    assert_eq!(pushes.stats().cancelled, 1);
    assert_eq!(pushes.stats().in_flight, 0);
    let response = response.await.unwrap();
    assert_eq!(support::read_body(response.into_body()).await, "");
}

/// Pushes two resources without answering the first before the second: the second is over the
/// concurrency limit. With `third`, pushes a third once the first is answered.
///
/// (Not with the client's limit: h2's client counts a promised stream from its PUSH_PROMISE until
/// it *receives* END_STREAM, and the promise can overtake the first body on the wire, so the client
/// may refuse the third with REFUSED_STREAM — which `PushedStream::send` observes.)
fn concurrency_server(
    tx: mpsc::UnboundedSender<Vec<Option<SkipReason>>>,
    third: bool,
) -> support::Handler {
    handler(move |_request, mut parent| {
        let tx = tx.clone();
        async move {
            let mut reasons = Vec::new();
            let a = parent
                .push(&parent.push_request("/a").unwrap(), None, None)
                .unwrap();
            reasons.push(a.skip_reason());
            let b = parent
                .push(&parent.push_request("/b").unwrap(), None, None)
                .unwrap();
            reasons.push(b.skip_reason());
            if let Some(a) = a.into_pushed() {
                a.send_now(ok(), Bytes::from_static(b"a")).unwrap();
            }
            if third {
                let c = parent
                    .push(&parent.push_request("/c").unwrap(), None, None)
                    .unwrap();
                reasons.push(c.skip_reason());
                if let Some(c) = c.into_pushed() {
                    c.send_now(ok(), Bytes::from_static(b"c")).unwrap();
                }
            }
            tx.send(reasons).unwrap();
            parent.send_response(ok(), true).unwrap();
        }
    })
}

#[tokio::test]
async fn pushes_stay_within_the_clients_and_the_configured_concurrency() {
    let expected = vec![None, Some(SkipReason::ConcurrencyLimit), None];
    // The client's SETTINGS_MAX_CONCURRENT_STREAMS = 1.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut builder = client::Builder::new();
    builder.max_concurrent_streams(1);
    let (send, pushes) = connect(
        &builder,
        PushConfig::new(Scheme::HTTP),
        concurrency_server(tx, false),
    )
    .await;
    let page = get(&send, "/", &[]).await;
    assert_eq!(rx.recv().await.unwrap(), expected[..2]);
    assert_eq!(page.pushes.len(), 1);
    assert_eq!(pushes.stats().skipped, 1);
    // A configured limit of 1.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let config = PushConfig::new(Scheme::HTTP).with_max_concurrent(1);
    let (send, _) = connect(
        &client::Builder::new(),
        config,
        concurrency_server(tx, true),
    )
    .await;
    let page = get(&send, "/", &[]).await;
    let bodies: Vec<_> = page.pushes.iter().map(|p| p.body.clone()).collect();
    assert_eq!(bodies, ["a", "c"]);
    assert_eq!(rx.recv().await.unwrap(), expected);
}

#[tokio::test]
async fn invalid_frames_are_refused_before_the_wire_and_the_connection_survives() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let config = PushConfig::new(Scheme::HTTP).with_authorities([
        "example.com".parse().unwrap(),
        "cdn.example.com".parse().unwrap(),
    ]);
    let server = handler(move |request, mut parent| {
        let tx = tx.clone();
        async move {
            let mut errors = Vec::new();
            if request.uri().path() == "/ended" {
                parent.send_response(ok(), true).unwrap();
                let push = parent.push_request("/x").unwrap();
                errors.push(parent.push(&push, None, None).unwrap_err());
                errors.push(parent.send_processing().unwrap_err());
                errors.push(parent.send_data(Bytes::new(), true).unwrap_err());
            } else {
                errors.push(parent.push_request("http://evil.example/x").unwrap_err());
                errors.push(parent.push_request("https://example.com/x").unwrap_err());
                errors.push(PushRequest::new(parent.context(), Method::PUT, "/x").unwrap_err());
                errors.push(parent.send_data(Bytes::new(), false).unwrap_err());
                let mut switching = ok();
                *switching.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
                errors.push(parent.send_informational(switching).unwrap_err());
                errors.push(parent.send_informational(ok()).unwrap_err());
                let head =
                    PushRequest::new(parent.context(), Method::HEAD, "http://cdn.example.com/h")
                        .unwrap();
                let pushed = parent
                    .push(&head, None, None)
                    .unwrap()
                    .into_pushed()
                    .unwrap();
                parent.send_response(ok(), false).unwrap();
                errors.push(parent.send_processing().unwrap_err());
                errors.push(parent.send_response(ok(), true).unwrap_err());
                let mut early = Response::new(());
                *early.status_mut() = StatusCode::CONTINUE;
                errors.push(pushed.send_now(early, Bytes::new()).unwrap_err());
                let head = PushRequest::new(parent.context(), Method::HEAD, "/h2").unwrap();
                let pushed = parent
                    .push(&head, None, None)
                    .unwrap()
                    .into_pushed()
                    .unwrap();
                errors.push(pushed.send_now(ok(), Bytes::from_static(b"x")).unwrap_err());
                parent.send_data(Bytes::from_static(b"done"), true).unwrap();
                assert_eq!(parent.state(), ParentState::Ended);
                errors.push(parent.push(&head, None, None).unwrap_err());
            }
            tx.send(errors.iter().map(ToString::to_string).collect::<Vec<_>>())
                .unwrap();
            assert!(errors.iter().all(|e| !matches!(e, Error::H2(_))));
        }
    });
    let (send, _) = connect(&client::Builder::new(), config, server).await;
    let page = get(&send, "/", &[]).await;
    assert_eq!(page.body, "done");
    let errors = rx.recv().await.unwrap();
    assert_eq!(
        errors,
        [
            Error::ForeignAuthority("evil.example".into()).to_string(),
            Error::SchemeMismatch.to_string(),
            Error::UnsafeMethod(Method::PUT).to_string(),
            Error::NoResponse.to_string(),
            Error::SwitchingProtocols.to_string(),
            Error::NotInformational(StatusCode::OK).to_string(),
            Error::FinalResponseSent.to_string(),
            Error::FinalResponseSent.to_string(),
            Error::NotFinal(StatusCode::CONTINUE).to_string(),
            Error::BodyOnHead.to_string(),
            Error::StreamEnded.to_string(),
        ]
    );
    // The pushes dropped unanswered were reset; their promises were valid (one on the configured
    // second authority).
    let uris: Vec<_> = page
        .pushes
        .iter()
        .map(|p| (p.request.uri().to_string(), p.status))
        .collect();
    assert_eq!(
        uris,
        [
            ("http://cdn.example.com/h".to_owned(), None),
            ("http://example.com/h2".to_owned(), None)
        ]
    );
    let ended = get(&send, "/ended", &[]).await;
    assert_eq!(ended.response.status(), StatusCode::OK);
    let errors = rx.recv().await.unwrap();
    assert_eq!(errors, vec![Error::StreamEnded.to_string(); 3]);
}

#[tokio::test]
async fn processing_while_a_long_operation_runs() {
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let server = handler(move |_request, mut parent| {
        let mut done = done_rx.clone();
        async move {
            let work = async move {
                let _ = done.wait_for(|d| *d).await;
                42
            };
            let answer = parent
                .with_processing(std::time::Duration::from_millis(10), work)
                .await;
            assert_eq!(answer, 42);
            parent.send_response(ok(), true).unwrap();
        }
    });
    let (send, _) = connect(
        &client::Builder::new(),
        PushConfig::new(Scheme::HTTP),
        server,
    )
    .await;
    let mut ready = send.ready().await.unwrap();
    let request = http::Request::get("http://example.com/slow")
        .body(())
        .unwrap();
    let (mut response, _) = ready.send_request(request, true).unwrap();
    let info = std::future::poll_fn(|cx| response.poll_informational(cx));
    let info = tokio::time::timeout(support::LIMIT, info)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(info.status(), StatusCode::PROCESSING);
    done_tx.send(true).unwrap();
    let response = tokio::time::timeout(support::LIMIT, response)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// A client that reads the second pushed resource before the first, with a stream window far
/// smaller than either body: the pushes must progress side by side, or the second never comes.
#[tokio::test]
async fn pushed_bodies_progress_together_under_flow_control() {
    const SIZE: usize = 16 * 1024;
    let server = handler(|_request, mut parent| async move {
        let mut head = ok();
        head.headers_mut().insert(
            LINK,
            "</a>; rel=preload, </b>; rel=preload".parse().unwrap(),
        );
        let preloads = parent
            .preload(head.headers(), |push| {
                let fill = if push.path_and_query() == "/a" {
                    b'a'
                } else {
                    b'b'
                };
                Some(Resource {
                    response: ok(),
                    body: Bytes::from(vec![fill; SIZE]),
                })
            })
            .unwrap();
        parent.send_response(head, true).unwrap();
        let sent = preloads.send().await.unwrap();
        assert_eq!(sent, [PushDelivery::Sent, PushDelivery::Sent]);
    });
    let mut builder = client::Builder::new();
    builder.initial_window_size(1024);
    let (send, _pushes) = connect(&builder, PushConfig::new(Scheme::HTTP), server).await;
    let mut send = send.ready().await.unwrap();
    let request = http::Request::get("http://example.com/").body(()).unwrap();
    let (mut response, _) = send.send_request(request, true).unwrap();
    let mut promises = response.push_promises();
    let exchange = async {
        let _ = (&mut response).await.unwrap();
        let mut pushed = Vec::new();
        while pushed.len() < 2 {
            let (request, response) = promises.push_promise().await.unwrap().unwrap().into_parts();
            pushed.push((request.uri().path().to_owned(), response));
        }
        // The second resource first, then the first.
        let mut bodies = Vec::new();
        for (path, response) in pushed.into_iter().rev() {
            let body = support::read_body(response.await.unwrap().into_body()).await;
            bodies.push((path, body));
        }
        bodies
    };
    let bodies = tokio::time::timeout(support::LIMIT, exchange)
        .await
        .expect("both pushes arrive: neither waits for the other to be read");
    assert_eq!(bodies[0], ("/b".to_owned(), Bytes::from(vec![b'b'; SIZE])));
    assert_eq!(bodies[1], ("/a".to_owned(), Bytes::from(vec![b'a'; SIZE])));
}
