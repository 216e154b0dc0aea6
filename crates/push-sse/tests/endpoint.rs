//! The endpoint in process, on tokio's paused clock: the hooks decide the topics and the grant,
//! a refusal is answered as it says, the stream ends at the grant's expiry even when idle, the
//! resume parameter is percent-decoded, and only GET reads a stream.

use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use push_broker::{MemoryBroker, MemorySubscription};
use push_core::{Access, Audience, Event, Selector, Topic};
use push_http::query::Query;
use push_http::{Hooks, Refusal};
use push_sse::server::{Body, Config, Endpoint};
use tower::ServiceExt;

fn topic() -> Topic {
    Topic::new("news").unwrap()
}

/// Topics from a header; a key required; the grant expires an hour after it is given.
#[derive(Clone, Debug)]
struct Keyed;

impl Hooks for Keyed {
    fn topics(&self, request: &Parts, _: &Query<'_>) -> Result<Selector, Refusal> {
        let name = request
            .headers
            .get("x-topic")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "x-topic is required"))?;
        Topic::new(name).map(Selector::one).map_err(Refusal::from)
    }

    async fn authorize(&self, request: &Parts, selector: &Selector) -> Result<Access, Refusal> {
        match request.headers.get("x-key") {
            Some(key) if key == "s3cret" => {
                let until = tokio::time::Instant::now().into_std() + Duration::from_secs(3600);
                Ok(Access::public().with_until(until))
            }
            // The insider also gets the private events of the topics it asked for.
            Some(key) if key == "insider" => Ok(Access::public().with_private(selector.clone())),
            Some(_) => Err(Refusal::forbidden("wrong key")),
            None => Err(Refusal::unauthorized("Key", "a key is required")),
        }
    }
}

async fn call<H: Hooks>(
    endpoint: &Endpoint<MemoryBroker, H>,
    request: http::request::Builder,
) -> Response<Body<MemorySubscription>> {
    let request: Request<()> = request.body(()).unwrap();
    endpoint.clone().oneshot(request).await.unwrap()
}

/// The next data frame of `body`, `None` at its end.
async fn frame(body: &mut Body<MemorySubscription>) -> Option<Bytes> {
    let frame = body.frame().await?.unwrap();
    Some(frame.into_data().unwrap())
}

async fn text(response: Response<Body<MemorySubscription>>) -> String {
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_hooks_choose_the_topics_and_the_stream_ends_when_the_grant_expires() {
    let broker = MemoryBroker::default();
    let endpoint =
        Endpoint::new(broker.clone(), Config::default().with_keep_alive(None)).with_hooks(Keyed);
    let start = tokio::time::Instant::now();
    // The query names another topic: only the hook's counts.
    let response = call(
        &endpoint,
        Request::get("/events?topic=other")
            .header("x-topic", "news")
            .header("x-key", "s3cret"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    assert_eq!(frame(&mut body).await.as_deref(), Some(&b": ok\n\n"[..]));
    let cursor = broker.publish_now(&topic(), Event::new("hello")).unwrap();
    let event = frame(&mut body).await.unwrap();
    assert_eq!(event, format!("id: {cursor}\ndata: hello\n\n"));
    assert_eq!(broker.subscriber_count(&topic()), 1);
    // Nothing more is published: the idle stream still ends, at the expiry (the paused clock
    // jumps there), and its subscription is gone.
    assert_eq!(frame(&mut body).await, None);
    assert!(tokio::time::Instant::now() >= start + Duration::from_secs(3600));
    assert!(http_body::Body::is_end_stream(&body));
    drop(body);
    assert_eq!(broker.subscriber_count(&topic()), 0);
}

#[tokio::test]
async fn a_refusal_is_answered_with_its_status_headers_and_message() {
    let broker = MemoryBroker::default();
    let endpoint = Endpoint::new(broker.clone(), Config::default()).with_hooks(Keyed);
    let response = call(&endpoint, Request::get("/events").header("x-topic", "news")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Key");
    assert_eq!(text(response).await, "a key is required\n");
    let response = call(
        &endpoint,
        Request::get("/events")
            .header("x-topic", "news")
            .header("x-key", "guess"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = call(&endpoint, Request::get("/events").header("x-key", "s3cret")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(text(response).await, "x-topic is required\n");
    assert_eq!(broker.subscriber_count(&topic()), 0);
}

#[tokio::test]
async fn the_resume_parameter_is_percent_decoded() {
    let broker = MemoryBroker::default();
    let cursors: Vec<_> = (0..3)
        .map(|i| {
            broker
                .publish_now(&topic(), Event::new(format!("e{i}")))
                .unwrap()
        })
        .collect();
    let endpoint = Endpoint::new(broker.clone(), Config::default());
    // `-` written `%2D`, as a client that encodes every byte of a parameter sends it.
    let resume = cursors[1].to_string().replace('-', "%2D");
    let response = call(
        &endpoint,
        Request::get(format!("/events?topic=news&last_event_id={resume}")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    assert_eq!(frame(&mut body).await.as_deref(), Some(&b": ok\n\n"[..]));
    let event = frame(&mut body).await.unwrap();
    assert_eq!(event, format!("id: {}\ndata: e2\n\n", cursors[2]));
    // A malformed escape is a 400 that says why, not a stream from now.
    let response = call(
        &endpoint,
        Request::get("/events?topic=news&lastEventID=%zz"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_get_and_head_read_a_stream_and_a_closed_broker_is_a_503() {
    let broker = MemoryBroker::default();
    let endpoint = Endpoint::new(broker.clone(), Config::default());
    let response = call(&endpoint, Request::post("/events?topic=news")).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    broker.close();
    let response = call(&endpoint, Request::get("/events?topic=news")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(text(response).await.starts_with("cannot subscribe: "));
}

#[tokio::test(start_paused = true)]
async fn the_shutdown_signal_ends_every_open_stream() {
    let broker = MemoryBroker::default();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let endpoint = Endpoint::new(broker.clone(), Config::default()).with_shutdown(async move {
        let _ = rx.await;
    });
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let mut body = call(&endpoint, Request::get("/events?topic=news"))
            .await
            .into_body();
        assert_eq!(frame(&mut body).await.as_deref(), Some(&b": ok\n\n"[..]));
        bodies.push(body);
    }
    tx.send(()).unwrap();
    for mut body in bodies {
        assert_eq!(frame(&mut body).await, None);
    }
}

#[tokio::test]
async fn private_events_reach_only_the_subscribers_granted_them() {
    let broker = MemoryBroker::default();
    let endpoint = Endpoint::new(broker.clone(), Config::default()).with_hooks(Keyed);
    let mut bodies = Vec::new();
    for key in ["insider", "s3cret"] {
        let response = call(
            &endpoint,
            Request::get("/events")
                .header("x-topic", "news")
                .header("x-key", key),
        )
        .await;
        let mut body = response.into_body();
        assert_eq!(frame(&mut body).await.as_deref(), Some(&b": ok\n\n"[..]));
        bodies.push(body);
    }
    let secret = Event::new("secret").with_audience(Audience::Private);
    let hidden = broker.publish_now(&topic(), secret).unwrap();
    let open = broker.publish_now(&topic(), Event::new("open")).unwrap();
    let [insider, outsider] = &mut bodies[..] else {
        unreachable!()
    };
    let want = format!("id: {hidden}\ndata: secret\n\n");
    assert_eq!(frame(insider).await.unwrap(), want);
    assert_eq!(
        frame(insider).await.unwrap(),
        format!("id: {open}\ndata: open\n\n")
    );
    // The outsider's next frame is the public event: the private one never reached it.
    assert_eq!(
        frame(outsider).await.unwrap(),
        format!("id: {open}\ndata: open\n\n")
    );
}
