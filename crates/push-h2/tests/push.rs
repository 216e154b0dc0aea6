//! Pages that push, against h2::client in-process over an in-memory duplex: preloads from a
//! page's `Link` header (deduplicated, hinted when push is off, skipped for what the cache digest
//! says the client has) and event-stream notifications.

use crate::support;

use bytes::Bytes;
use h2::client;
use http::header::{ETAG, LINK};
use http::uri::Scheme;
use http::{Method, StatusCode};
use push_h2::{CacheDigest, PushConfig, PushDelivery, Resource, SkipReason, notify_event};
use support::{connect, get, handler, ok};
use tokio::sync::mpsc;

const LINKS: &str = "</style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script, </no.js>; rel=preload; nopush";

fn resource(path: &str) -> Option<Resource> {
    let (body, etag) = match path {
        "/style.css" => ("p{}", "\"s1\""),
        "/app.js" => ("go()", "\"a1\""),
        _ => return None,
    };
    let mut response = ok();
    response.headers_mut().insert(ETAG, etag.parse().unwrap());
    Some(Resource {
        response,
        body: Bytes::from_static(body.as_bytes()),
    })
}

/// One page's preload outcomes, and whether 103 Early Hints went out.
type PageReport = (Vec<(String, Option<SkipReason>)>, bool);

/// `GET /*` answers a page preloading LINKS; reports each page's outcomes.
fn page_server(report: mpsc::UnboundedSender<PageReport>) -> support::Handler {
    handler(move |request, mut parent| {
        let report = report.clone();
        async move {
            parent.set_digest(CacheDigest::from_cookies(request.headers(), "h2d"));
            let mut head = ok();
            head.headers_mut().insert(LINK, LINKS.parse().unwrap());
            let preloads = parent
                .preload(head.headers(), |push| resource(push.path_and_query()))
                .unwrap();
            report
                .send((preloads.outcomes().to_vec(), preloads.hinted()))
                .unwrap();
            parent.send_response(head, false).unwrap();
            parent
                .send_data(Bytes::from_static(b"<html>"), true)
                .unwrap();
            let sent = preloads.send().await.unwrap();
            assert!(sent.iter().all(|d| *d == PushDelivery::Sent));
        }
    })
}

#[tokio::test]
async fn pushes_preloads_when_the_client_allows_and_dedups_per_connection() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (send, pushes) = connect(
        &client::Builder::new(),
        PushConfig::new(Scheme::HTTP),
        page_server(tx),
    )
    .await;
    let page = get(&send, "/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(page.body, "<html>");
    assert!(page.informational.is_empty());
    let mut uris: Vec<_> = page
        .pushes
        .iter()
        .map(|p| p.request.uri().to_string())
        .collect();
    uris.sort();
    assert_eq!(
        uris,
        ["http://example.com/app.js", "http://example.com/style.css"]
    );
    for pushed in &page.pushes {
        assert_eq!(pushed.request.method(), Method::GET);
        assert_eq!(pushed.request.headers()["accept-encoding"], "gzip");
        assert_eq!(pushed.status, Some(StatusCode::OK));
        assert_eq!(
            Some(pushed.body.clone()),
            resource(pushed.request.uri().path()).map(|r| r.body)
        );
    }
    let (outcomes, hinted) = rx.recv().await.unwrap();
    assert!(!hinted);
    assert_eq!(outcomes[2], ("/no.js".to_owned(), Some(SkipReason::NoPush)));

    // The same resources (path + ETag) are never pushed twice on a connection.
    let again = get(&send, "/again", &[]).await;
    assert!(again.pushes.is_empty());
    let (outcomes, _) = rx.recv().await.unwrap();
    assert_eq!(outcomes[0].1, Some(SkipReason::AlreadyPushed));
    assert_eq!(outcomes[1].1, Some(SkipReason::AlreadyPushed));
    assert!(pushes.diary_contains("/style.css", Some("\"s1\"")));
    assert_eq!(pushes.stats().pushed, 2);
    assert_eq!(pushes.stats().in_flight, 0);
}

#[tokio::test]
async fn early_hints_when_the_client_disabled_push_and_it_is_remembered() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut builder = client::Builder::new();
    builder.enable_push(false);
    let (send, pushes) = connect(&builder, PushConfig::new(Scheme::HTTP), page_server(tx)).await;
    for round in 0..2 {
        let page = get(&send, "/", &[]).await;
        assert!(page.pushes.is_empty());
        assert_eq!(page.informational.len(), 1, "round {round}");
        assert_eq!(page.informational[0].status(), StatusCode::EARLY_HINTS);
        assert_eq!(page.informational[0].headers()[LINK], LINKS);
        let (outcomes, hinted) = rx.recv().await.unwrap();
        assert!(hinted);
        assert!(
            outcomes
                .iter()
                .all(|(_, r)| *r == Some(SkipReason::PushDisabled))
        );
        assert!(pushes.push_disabled());
    }
    assert_eq!(pushes.stats().pushed, 0);
}

#[tokio::test]
async fn the_cookie_digest_skips_what_the_client_has() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (send, _) = connect(
        &client::Builder::new(),
        PushConfig::new(Scheme::HTTP),
        page_server(tx),
    )
    .await;
    let mut digest = CacheDigest::default();
    digest.insert("/style.css", Some("\"s1\""));
    let cookie = format!("h2d={}", digest.encode());
    let page = get(&send, "/", &[("cookie", &cookie)]).await;
    let uris: Vec<_> = page
        .pushes
        .iter()
        .map(|p| p.request.uri().path().to_owned())
        .collect();
    assert_eq!(uris, ["/app.js"]);
    let (outcomes, _) = rx.recv().await.unwrap();
    assert_eq!(outcomes[0].1, Some(SkipReason::ClientHasIt));
}

#[tokio::test]
async fn push_then_notify_on_an_event_stream() {
    let server = handler(|_request, mut parent| async move {
        parent.start_event_stream().unwrap();
        let request = parent.push_request("/blobs/1").unwrap();
        let resource = Resource {
            response: ok(),
            body: Bytes::from(vec![1u8, 2, 3, 0, 255]),
        };
        let notified = parent
            .push_and_notify(&request, resource, notify_event(&request).with_id("1"))
            .await
            .unwrap();
        assert_eq!(notified.push, Ok(PushDelivery::Sent));
        assert_eq!(notified.url, "http://example.com/blobs/1");
        parent.send_data(Bytes::new(), true).unwrap();
    });
    let (send, _) = connect(
        &client::Builder::new(),
        PushConfig::new(Scheme::HTTP),
        server,
    )
    .await;
    let events = get(&send, "/events", &[]).await;
    assert_eq!(
        events.response.headers()["content-type"],
        "text/event-stream"
    );
    // The one event-stream head (push-http's): proxies must not buffer the events.
    assert_eq!(events.response.headers()["cache-control"], "no-cache");
    assert_eq!(events.response.headers()["x-accel-buffering"], "no");
    assert_eq!(
        events.body,
        "event: pushed\nid: 1\ndata: http://example.com/blobs/1\n\n"
    );
    assert_eq!(events.pushes.len(), 1);
    assert_eq!(events.pushes[0].request.uri(), "http://example.com/blobs/1");
    assert_eq!(events.pushes[0].body, &[1u8, 2, 3, 0, 255][..]);
}
