//! The `Endpoint`'s one path through the hooks: topics only from `Hooks::topics`, refusals
//! answered as the hooks built them, the `Access` of `Hooks::authorize` ending the hold at its
//! `until`. On tokio's paused clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use push_broker::MemoryBroker;
use push_core::{Access, Audience, Event, Selector, Topic};
use push_http::query::Query;
use push_longpoll::server::{Config, Endpoint, Hooks, Refusal};
use tower_service::Service;

/// Topics from the path (`/poll/NAME`), never from the query; a token header decides access:
/// `ok` for an hour, `short` for 3 seconds, `private` with the private events of the topic
/// asked for, none refused with 401.
#[derive(Clone, Default)]
struct PathTopics {
    authorized: Arc<AtomicUsize>,
}

impl Hooks for PathTopics {
    fn topics(&self, request: &Parts, _: &Query<'_>) -> Result<Selector, Refusal> {
        let name = request
            .uri
            .path()
            .strip_prefix("/poll/")
            .unwrap_or_default();
        let topic = Topic::new(name).map_err(Refusal::from)?;
        Ok(Selector::one(topic))
    }

    async fn authorize(&self, request: &Parts, selector: &Selector) -> Result<Access, Refusal> {
        self.authorized.fetch_add(1, Ordering::SeqCst);
        let now = tokio::time::Instant::now().into_std();
        match request.headers.get("x-token").map(|v| v.as_bytes()) {
            Some(b"ok") => Ok(Access::public().with_until(now + Duration::from_secs(3600))),
            Some(b"short") => Ok(Access::public().with_until(now + Duration::from_secs(3))),
            Some(b"private") => Ok(Access::public().with_private(selector.clone())),
            _ => Err(Refusal::unauthorized("Token", "a token is required")),
        }
    }
}

fn endpoint(hooks: PathTopics) -> Endpoint<MemoryBroker, PathTopics> {
    Endpoint::new(
        MemoryBroker::default(),
        Config::default().with_jitter(Duration::ZERO),
    )
    .with_hooks(hooks)
}

async fn answer(
    endpoint: &Endpoint<MemoryBroker, PathTopics>,
    uri: &str,
    token: Option<&str>,
) -> Response<Bytes> {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header("x-token", token);
    }
    let response = endpoint
        .clone()
        .call(request.body(()).unwrap())
        .await
        .unwrap();
    let (head, body) = response.into_parts();
    Response::from_parts(head, body.collect().await.unwrap().to_bytes())
}

#[tokio::test(start_paused = true)]
async fn topics_come_only_from_the_hook() {
    let hooks = PathTopics::default();
    let poll = endpoint(hooks.clone());
    let a = Topic::new("a").unwrap();
    let cursor = poll.broker().publish_now(&a, Event::new("on a")).unwrap();
    let since = push_core::Cursor::new(cursor.epoch(), 0);
    // `topic=b` in the query is not what this hook reads: the poll is for `a`.
    let response = answer(&poll, &format!("/poll/a?topic=b&since={since}"), Some("ok")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(v["events"][0]["data"], "on a");
    // A topic the hook refuses: its refusal, and no authorization asked.
    let before = hooks.authorized.load(Ordering::SeqCst);
    let response = answer(&poll, "/poll/", Some("ok")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(hooks.authorized.load(Ordering::SeqCst), before);
}

#[tokio::test(start_paused = true)]
async fn a_refusal_is_answered_as_the_hook_built_it_and_a_malformed_poll_is_never_authorized() {
    let hooks = PathTopics::default();
    let poll = endpoint(hooks.clone());
    let response = answer(&poll, "/poll/a?wait=0", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Token");
    assert!(String::from_utf8_lossy(response.body()).contains("a token is required"));
    assert_eq!(poll.broker().topic_count(), 0, "no subscription was opened");
    let asked = hooks.authorized.load(Ordering::SeqCst);
    let response = answer(&poll, "/poll/a?since=%zz", Some("ok")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(hooks.authorized.load(Ordering::SeqCst), asked);
}

#[tokio::test(start_paused = true)]
async fn the_access_until_ends_the_hold_then() {
    let poll = endpoint(PathTopics::default());
    let start = tokio::time::Instant::now();
    // Asked to wait 20 s, authorized for 3: answered at 3 s, with the cursor to come back from.
    let response = answer(&poll, "/poll/a?wait=20", Some("short")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(
        response.headers()["push-cursor"],
        poll.broker().head().to_string()
    );
    // Authorized for longer than the hold: the hold's own deadline.
    let start = tokio::time::Instant::now();
    let response = answer(&poll, "/poll/a?wait=20", Some("ok")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(start.elapsed(), Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn other_methods_are_refused_with_allow() {
    let mut poll = Endpoint::new(MemoryBroker::default(), Config::default());
    let response = poll
        .call(Request::post("/poll?topic=a").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
}

/// The `Access` the hook grants is the one the broker checks: a private event reaches the poll
/// granted it and no other.
#[tokio::test(start_paused = true)]
async fn the_access_of_the_hook_is_what_the_broker_checks() {
    let poll = endpoint(PathTopics::default());
    let a = Topic::new("a").unwrap();
    let since = poll.broker().head();
    let secret = Event::new("secret").with_audience(Audience::Private);
    poll.broker().publish_now(&a, secret).unwrap();
    let target = format!("/poll/a?since={since}&wait=0");
    let public = answer(&poll, &target, Some("ok")).await;
    assert_eq!(
        public.status(),
        StatusCode::NO_CONTENT,
        "a private event leaked"
    );
    let granted = answer(&poll, &target, Some("private")).await;
    assert_eq!(granted.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(granted.body()).unwrap();
    assert_eq!(v["events"][0]["data"], "secret");
}

/// A held poll keeps what it parsed, never the request's head: the headers, URI and
/// extensions are freed when the hold starts (10,000 held polls would otherwise keep 10,000
/// heads). The head's extensions hold a marker whose count says whether the head is alive.
#[tokio::test(start_paused = true)]
async fn a_held_poll_does_not_keep_the_request_head() {
    let poll = Endpoint::new(MemoryBroker::default(), Config::default());
    let topic = Topic::new("t").unwrap();
    let marker = Arc::new(());
    let mut request = Request::get("/poll?topic=t&wait=20").body(()).unwrap();
    request.extensions_mut().insert(Arc::clone(&marker));
    let held = tokio::spawn(poll.clone().call(request));
    for _ in 0..100 {
        if poll.broker().subscriber_count(&topic) == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        poll.broker().subscriber_count(&topic),
        1,
        "the poll is held"
    );
    assert_eq!(
        Arc::strong_count(&marker),
        1,
        "the held poll still owns the request's head"
    );
    poll.broker()
        .publish_now(&topic, Event::new("wake"))
        .unwrap();
    let response = held.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// One split of the query per poll: the hooks' `topics` and the poll's own parameters
/// (`since`, `wait`) read the same split `Query` (push-http counts its splits per thread).
#[tokio::test(start_paused = true)]
async fn a_polls_query_is_split_once() {
    let poll = Endpoint::new(MemoryBroker::default(), Config::default());
    let before = push_http::__fuzz::query_splits();
    let response = poll
        .clone()
        .call(
            Request::get("/poll?topic=t&since=&wait=0")
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        push_http::__fuzz::query_splits() - before,
        1,
        "the poll's query was split more than once"
    );
}
