//! The harness the real-client tests share (a browser's and Node's `EventSource`): a test server
//! that serves the SSE response, ends the first stream on demand and records every
//! `Last-Event-ID`; the client reports what it saw by POSTing to `/progress` and `/result`; and
//! the scenario both clients go through.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use push_broker::{Config, MemoryBroker};
use push_core::{Cursor, Event, Topic};
use push_sse::server::{self, Endpoint};
use push_test_support::http::serve_http1;
use tokio::sync::{mpsc, oneshot};

pub(crate) const LIMIT: Duration = Duration::from_secs(60);

pub(crate) const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><body><script>
const seen = [];
const es = new EventSource('/events?topic=news&last_event_id=' + location.hash.slice(1));
const record = (e) => {
  seen.push({type: e.type, data: e.data, id: e.lastEventId});
  fetch('/progress', {method: 'POST', body: String(seen.length)});
  if (seen.length === 4) {
    es.close();
    fetch('/result', {method: 'POST', body: JSON.stringify(seen)});
  }
};
es.onmessage = record;
es.addEventListener('gap', record);
</script>"#;

struct Shared {
    /// The endpoint under test (topics from the query, open to all).
    endpoint: Endpoint<MemoryBroker>,
    /// Ends the first stream when fired, to make the browser reconnect.
    cut_first: Mutex<Option<oneshot::Receiver<()>>>,
    /// Every Last-Event-ID header the server received.
    last_event_ids: Mutex<Vec<String>>,
    /// How many items the page has recorded.
    progress: Mutex<usize>,
    result: mpsc::Sender<String>,
}

type Body = Either<server::Body<push_broker::MemorySubscription>, Full<Bytes>>;

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let html = |body: &'static str| {
        let mut r = Response::new(Either::Right(Full::new(Bytes::from_static(
            body.as_bytes(),
        ))));
        r.headers_mut()
            .insert("content-type", "text/html; charset=utf-8".parse().unwrap());
        r
    };
    Ok(match req.uri().path() {
        "/page" => html(PAGE),
        "/events" => {
            if let Some(id) = req.headers().get("last-event-id") {
                shared
                    .last_event_ids
                    .lock()
                    .unwrap()
                    .push(id.to_str().unwrap_or("?").to_owned());
            }
            let cut = shared.cut_first.lock().unwrap().take();
            // The first stream ends when the test says so: its own endpoint's shutdown signal.
            let endpoint = match cut {
                Some(cut) => shared.endpoint.clone().with_shutdown(async move {
                    let _ = cut.await;
                }),
                None => shared.endpoint.clone(),
            };
            let (parts, _) = req.into_parts();
            let response = endpoint.respond(&parts).await;
            assert_eq!(response.status(), 200, "valid request");
            response.map(Either::Left)
        }
        "/progress" => {
            let n = body_text(req).await.parse().unwrap_or(0);
            let mut progress = shared.progress.lock().unwrap();
            *progress = (*progress).max(n);
            html("ok")
        }
        "/result" => {
            let _ = shared.result.send(body_text(req).await).await;
            html("ok")
        }
        _ => html("not found"),
    })
}

/// A request's body as text (what the client reports).
async fn body_text(req: Request<Incoming>) -> String {
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    String::from_utf8_lossy(&body.unwrap_or_default()).into_owned()
}

async fn serve(shared: Arc<Shared>) -> SocketAddr {
    serve_http1(service_fn(move |req| handle(Arc::clone(&shared), req))).await
}

async fn until<F: Fn() -> bool>(what: &str, condition: F) {
    tokio::time::timeout(LIMIT, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

/// The scenario: the client resumes from a cursor whose successor was evicted (a `gap`), gets
/// the two retained events, the server ends the stream, the client reconnects by itself with
/// `Last-Event-ID`, and gets a live event. `start` launches the client for the test server's
/// address and the starting cursor; what it returns is kept alive until the end.
pub(crate) async fn resume_gap_reconnect<C>(start: impl FnOnce(SocketAddr, Cursor) -> C) {
    let broker = MemoryBroker::new(Config::default().with_history_count(2));
    let topic = Topic::new("news").unwrap();
    // The page resumes from `first`; history keeps only p2 and p3, so p1 is lost: a gap.
    let first = broker.publish_now(&topic, Event::new("p0")).unwrap();
    let cursors: Vec<Cursor> = (1..4)
        .map(|i| {
            broker
                .publish_now(&topic, Event::new(format!("p{i}")))
                .unwrap()
        })
        .collect();
    let (cut, cut_rx) = oneshot::channel();
    let (result_tx, mut result_rx) = mpsc::channel(1);
    let config = server::Config::default().with_retry(Some(Duration::from_millis(200)));
    let shared = Arc::new(Shared {
        endpoint: Endpoint::new(broker.clone(), config),
        cut_first: Mutex::new(Some(cut_rx)),
        last_event_ids: Mutex::new(Vec::new()),
        progress: Mutex::new(0),
        result: result_tx,
    });
    let addr = serve(Arc::clone(&shared)).await;
    let _client = start(addr, first);

    // The gap, p2 and p3 arrive on the first stream.
    until("three items on the page", || {
        *shared.progress.lock().unwrap() >= 3
    })
    .await;
    // The server ends that stream; the browser reconnects by itself with Last-Event-ID = p3.
    cut.send(()).unwrap();
    until("the browser's reconnection", || {
        !shared.last_event_ids.lock().unwrap().is_empty()
    })
    .await;
    until("the resubscription", || {
        broker.subscriber_count(&topic) == 1
    })
    .await;
    let live = broker.publish_now(&topic, Event::new("live")).unwrap();
    let result = tokio::time::timeout(LIMIT, result_rx.recv())
        .await
        .expect("the page reported")
        .unwrap();

    assert_eq!(
        shared.last_event_ids.lock().unwrap().as_slice(),
        [cursors[2].to_string()]
    );
    let resume = Cursor::new(broker.epoch(), 2);
    let expected = format!(
        concat!(
            r#"[{{"type":"gap","data":"{{\"reason\":\"evicted\",\"resume\":\"{resume}\"}}","id":"{resume}"}},"#,
            r#"{{"type":"message","data":"p2","id":"{p2}"}},"#,
            r#"{{"type":"message","data":"p3","id":"{p3}"}},"#,
            r#"{{"type":"message","data":"live","id":"{live}"}}]"#
        ),
        resume = resume,
        p2 = cursors[1],
        p3 = cursors[2],
        live = live
    );
    assert_eq!(result, expected);
}
