//! `/push.js` in a real browser (headless Chromium over DevTools) against push-ws's and
//! push-longpoll's endpoints, on a test server the test stops and starts at will: delivery on
//! both transports, reconnection with back-off after the server went away, exact resume from the
//! kept cursor (an event published while the server was down arrives once, in order), and the
//! gap a cursor of another broker's epoch gets, surfaced as a `gap` event.
//!
//! The hub itself serves the same file (`assets/push.js`); `tests/browser.rs` drives its pages.

use crate::web;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use http::request::Parts;
use push_broker::MemoryBroker;
use push_core::{Access, Cursor, Event, Selector, Topic};
use push_http::query::query_param;
use push_http::{Hooks, Refusal};
use serde_json::{Value, json};
use web::browser::{Browser, LIMIT, Tab};

/// The page under test: one subscription per transport through `/push.js`, recording what it
/// saw in `window.state`; the WebSocket's token comes from a function (asked at every
/// connection), the long poll's is a string; a third subscription has a wrong token.
const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><script type="module">
import { subscribe } from '/push.js';
const state = { module: typeof subscribe, global: typeof globalThis.push?.subscribe, asked: 0 };
const tokens = { ws: () => { state.asked += 1; return 'letmein'; }, poll: 'letmein' };
for (const t of ['ws', 'poll']) {
  const s = state[t] = { seen: [], status: 'connecting', retries: 0, waits: [] };
  subscribe('/' + t, { topics: ['news'], transport: t, token: tokens[t], wait: 5, minDelay: 50, maxDelay: 400,
    onEvent: (e) => s.seen.push({ kind: 'event', data: e.data, id: e.id }),
    onGap: (g) => s.seen.push({ kind: 'gap', reason: g.reason }),
    onStatus: (x) => {
      s.status = x.status;
      if (x.status === 'waiting') { s.retries += 1; s.waits.push([x.attempt, x.delay]); }
    },
    onFail: (f) => s.seen.push({ kind: 'fail', message: f.message }),
  });
}
state.refused = [];
subscribe('/poll', { topics: ['news'], token: 'guess', onFail: (f) => state.refused.push(f) });
window.state = state;
</script>"#;

/// The test server's authorization: the token `letmein`, as `Authorization: Bearer` (long
/// polling) or the `authorization` query parameter (a browser WebSocket cannot send headers).
#[derive(Clone)]
struct Token;

impl Hooks for Token {
    async fn authorize(&self, request: &Parts, _: &Selector) -> Result<Access, Refusal> {
        let query = request.uri.query().unwrap_or("").as_bytes();
        let header = request.headers.get("authorization");
        if header.is_some_and(|v| v == "Bearer letmein")
            || query_param(query, "authorization")
                .ok()
                .flatten()
                .as_deref()
                == Some("letmein")
        {
            Ok(Access::public())
        } else {
            Err(Refusal::unauthorized("Bearer", "a token is required"))
        }
    }
}

const PUSH_JS: &str = include_str!("../assets/push.js");

/// One run of the test server (its own runtime, so stopping it ends every connection and every
/// WebSocket task it spawned, as a process exit would).
struct Server(Option<tokio::runtime::Runtime>);

impl Server {
    /// Serves the page, `/push.js`, `/ws` and `/poll` over `broker` on `addr` (port 0: any).
    async fn start(addr: SocketAddr, broker: MemoryBroker) -> (Self, SocketAddr) {
        let listener = bind(addr).await;
        let addr = listener.local_addr().expect("bound address");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        let ws =
            push_ws::server::Endpoint::new(broker.clone(), Default::default()).with_hooks(Token);
        let poll =
            push_longpoll::server::Endpoint::new(broker, Default::default()).with_hooks(Token);
        let app = Router::new()
            .route("/page", get(|| async { axum::response::Html(PAGE) }))
            .route(
                "/push.js",
                get(|| async {
                    (
                        [("content-type", "text/javascript; charset=utf-8")],
                        PUSH_JS,
                    )
                        .into_response()
                }),
            )
            .route_service("/ws", ws)
            .route_service("/poll", poll);
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = axum::serve(listener, app).await;
        });
        (Self(Some(runtime)), addr)
    }

    /// Ends the server and every connection it holds, and waits until its port is free.
    async fn stop(mut self) {
        let runtime = self.0.take().expect("running");
        tokio::task::spawn_blocking(move || runtime.shutdown_timeout(Duration::from_secs(5)))
            .await
            .expect("server runtime shut down");
    }
}

/// Binds `addr`, retrying for a while: the previous run's socket may still be closing.
async fn bind(addr: SocketAddr) -> std::net::TcpListener {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => {
                listener.set_nonblocking(true).expect("non-blocking");
                return listener;
            }
            Err(e) if tokio::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("cannot bind {addr} again: {e}"),
        }
    }
}

async fn state(browser: &mut Browser, tab: &Tab) -> Value {
    browser
        .eval(tab, "JSON.parse(JSON.stringify(window.state))")
        .await
}

/// Waits until both transports' `seen` lists hold `n` items.
async fn until_seen(browser: &mut Browser, tab: &Tab, n: usize) {
    let condition =
        format!("window.state && state.ws.seen.length >= {n} && state.poll.seen.length >= {n}");
    browser
        .until(
            tab,
            &format!("{n} items on both transports"),
            &condition,
            "JSON.stringify(window.state)",
        )
        .await;
}

fn event(data: &str, cursor: Cursor) -> Value {
    json!({ "kind": "event", "data": data, "id": cursor.to_string() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_js_delivers_resumes_after_restarts_and_surfaces_gaps() {
    let news = Topic::new("news").unwrap();
    let broker = MemoryBroker::default();
    let (server, addr) = Server::start("127.0.0.1:0".parse().unwrap(), broker.clone()).await;
    let mut browser = Browser::launch("push-js").await;
    let tab = browser.open(&format!("http://{addr}/page")).await;
    let report = "JSON.stringify(window.state)";
    browser
        .until(
            &tab,
            "both subscriptions open",
            "window.state && state.ws.status === 'open' && state.poll.status === 'open'",
            report,
        )
        .await;
    let exported = state(&mut browser, &tab).await;
    assert_eq!(
        (exported["module"].as_str(), exported["global"].as_str()),
        (Some("function"), Some("function"))
    );

    // Live delivery on both transports.
    let a = broker.publish_now(&news, Event::new("a")).unwrap();
    let b = broker.publish_now(&news, Event::new("b")).unwrap();
    until_seen(&mut browser, &tab, 2).await;

    // The server goes away; an event is published meanwhile (the history survives, as the hub's
    // store keeps it). Both clients back off, reconnect to the next run and resume after `b`.
    server.stop().await;
    let c = broker.publish_now(&news, Event::new("c")).unwrap();
    browser
        .until(
            &tab,
            "three retries on both transports",
            "state.ws.retries >= 3 && state.poll.retries >= 3",
            report,
        )
        .await;
    let (server, _) = Server::start(addr, broker.clone()).await;
    until_seen(&mut browser, &tab, 3).await;
    browser
        .until(
            &tab,
            "both subscriptions open again",
            "state.ws.status === 'open' && state.poll.status === 'open'",
            report,
        )
        .await;
    let d = broker.publish_now(&news, Event::new("d")).unwrap();
    until_seen(&mut browser, &tab, 4).await;

    // A run with a fresh broker (another epoch: a hub without its history) cannot honour the
    // cursor: each transport surfaces a gap, then delivers what comes next.
    server.stop().await;
    let fresh = MemoryBroker::default();
    assert_ne!(fresh.epoch(), broker.epoch());
    let (server, _) = Server::start(addr, fresh.clone()).await;
    until_seen(&mut browser, &tab, 5).await;
    browser
        .until(
            &tab,
            "both subscriptions open on the fresh broker",
            "state.ws.status === 'open' && state.poll.status === 'open'",
            report,
        )
        .await;
    let e = fresh.publish_now(&news, Event::new("e")).unwrap();
    until_seen(&mut browser, &tab, 6).await;

    let seen = state(&mut browser, &tab).await;
    let expected = |gap: &str| {
        json!([
            event("a", a),
            event("b", b),
            event("c", c),
            event("d", d),
            { "kind": "gap", "reason": gap },
            event("e", e),
        ])
    };
    assert_eq!(seen["ws"]["seen"], expected("unknown-epoch"), "WebSocket");
    // A refused token ends a subscription with the hub's answer; a token function is asked at
    // every connection (the first and three runs of the server at least).
    assert_eq!(
        seen["refused"],
        json!([{ "status": 401, "message": "a token is required" }])
    );
    assert!(seen["asked"].as_u64().unwrap() >= 4, "{}", seen["asked"]);
    assert_eq!(
        seen["poll"]["seen"],
        expected("unspecified"),
        "long polling"
    );
    // The attempts while the first server was away count up from 0, and every back-off lies in
    // [c/2, c] for c = min(max, min × 2^attempt) (here 50 ms and 400 ms).
    for transport in ["ws", "poll"] {
        let waits = seen[transport]["waits"].as_array().expect("waits");
        let attempts: Vec<u64> = waits.iter().map(|w| w[0].as_u64().unwrap()).collect();
        assert_eq!(attempts[..3], [0, 1, 2], "{transport}");
        for wait in waits {
            let (attempt, delay) = (wait[0].as_u64().unwrap(), wait[1].as_f64().unwrap());
            let ceiling = (50.0 * 2f64.powi(i32::try_from(attempt).unwrap())).min(400.0);
            assert!(
                (ceiling / 2.0..=ceiling).contains(&delay),
                "{transport}: attempt {attempt} waited {delay} ms"
            );
        }
    }
    server.stop().await;
}
