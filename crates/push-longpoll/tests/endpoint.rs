//! The `Endpoint` as a tower service over `http` types, on tokio's paused clock (no real
//! waiting).

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_longpoll::server::{Body, Config, Endpoint};
use tower_service::Service;

/// Polls once with a no-op waker: enough to register the waiter.
fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

fn get(uri: &str) -> Request<()> {
    Request::get(uri).body(()).unwrap()
}

/// The whole answer: head, and body collected.
async fn answer<B, H>(endpoint: &Endpoint<B, H>, request: Request<()>) -> Response<Bytes>
where
    Endpoint<B, H>:
        Service<Request<()>, Response = Response<Body>, Error = std::convert::Infallible> + Clone,
{
    let response = endpoint.clone().call(request).await.unwrap();
    let (head, body) = response.into_parts();
    Response::from_parts(head, body.collect().await.unwrap().to_bytes())
}

fn json(response: &Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(response.body()).unwrap()
}

fn handler() -> Endpoint<MemoryBroker> {
    Endpoint::new(
        MemoryBroker::default(),
        Config::default().with_jitter(Duration::ZERO),
    )
}

#[tokio::test(start_paused = true)]
async fn a_held_poll_is_answered_by_a_publish() {
    let h = handler();
    let topic = Topic::new("t").unwrap();
    let task = tokio::spawn({
        let h = h.clone();
        async move { answer(&h, get("/poll?topic=t&wait=20")).await }
    });
    while h.broker().subscriber_count(&topic) == 0 {
        tokio::task::yield_now().await;
    }
    let c = h
        .broker()
        .publish_now(&topic, Event::new("hi").with_event("greet"))
        .unwrap();
    let response = task.await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["push-cursor"], c.to_string());
    let v = json(&response);
    assert_eq!(v["events"][0]["data"], "hi");
    assert_eq!(v["events"][0]["event"], "greet");
    assert_eq!(v["events"][0]["id"], c.to_string());
    assert_eq!(v["next"], c.to_string());
    assert_eq!(h.broker().subscriber_count(&topic), 0);
}

#[tokio::test(start_paused = true)]
async fn a_hold_ends_with_204_at_the_capped_deadline() {
    let h = handler();
    let start = tokio::time::Instant::now();
    let response = answer(
        &h,
        Request::get("/poll?topic=t")
            .header("prefer", "wait=3600")
            .body(())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert_eq!(start.elapsed(), Duration::from_secs(25));
    assert_eq!(
        response.headers()["push-cursor"],
        h.broker().head().to_string()
    );
    assert!(response.body().is_empty());
    // The preference was applied, capped: RFC 7240's Preference-Applied says how.
    assert_eq!(response.headers()["preference-applied"], "wait=25");
    // The query's `wait` wins over Prefer, and is not a preference: no Preference-Applied.
    let response = answer(
        &h,
        Request::get("/poll?topic=t&wait=0")
            .header("prefer", "wait=3600")
            .body(())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert!(response.headers().get("preference-applied").is_none());
}

#[tokio::test(start_paused = true)]
async fn bad_input_is_a_400_saying_which() {
    let h = handler();
    for (uri, needle) in [
        ("/poll?topic=t&since=%zz", "query string"),
        ("/poll?topic=t&since=1-1&since=1-2", "\"since\""),
        ("/poll?topic=t&wait=soon", "wait"),
        ("/poll?since=1-1", "topic"),
    ] {
        let response = answer(&h, get(uri)).await;
        assert_eq!(response.status(), 400, "{uri}");
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(text.contains(needle), "{uri}: {text}");
    }
    // RFC 7240 §2: a preference the server cannot parse is ignored, not refused: the poll is
    // served with the default hold and says nothing was applied.
    let response = answer(
        &h,
        Request::get("/poll?topic=t")
            .header("prefer", "wait=x")
            .body(())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert!(response.headers().get("preference-applied").is_none());
}

/// A broker that publishes one event (once) the first time a subscription's poll finds
/// nothing: the event lands exactly between the handler's check and its hold.
#[derive(Clone)]
struct RacingBroker(MemoryBroker, Arc<AtomicBool>);

struct RacingSubscription {
    inner: push_broker::MemorySubscription,
    broker: MemoryBroker,
    raced: Arc<AtomicBool>,
}

impl push_core::Broker for RacingBroker {
    type Subscription = RacingSubscription;

    fn publish(
        &self,
        topics: &[Topic],
        event: Event,
    ) -> impl Future<Output = Result<push_core::Cursor, push_core::Error>> + Send {
        self.0.publish(topics, event)
    }

    fn subscribe(
        &self,
        selector: &push_core::Selector,
        from: Option<push_core::Cursor>,
        access: &push_core::Access,
    ) -> Result<RacingSubscription, push_core::Error> {
        Ok(RacingSubscription {
            inner: self.0.subscribe(selector, from, access)?,
            broker: self.0.clone(),
            raced: Arc::clone(&self.1),
        })
    }

    fn head(&self) -> push_core::Cursor {
        self.0.head()
    }
}

impl futures_core::Stream for RacingSubscription {
    type Item = push_core::Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if polled.is_pending() && !self.raced.swap(true, Ordering::SeqCst) {
            let topic = Topic::new("t").unwrap();
            self.broker
                .publish_now(&topic, Event::new("in the gap"))
                .unwrap();
        }
        polled
    }
}

impl push_core::Subscription for RacingSubscription {
    fn cursor(&self) -> push_core::Cursor {
        self.inner.cursor()
    }
}

/// The lost-event race, made deterministic: a check that found nothing, then a publish, then
/// the hold. Registered first, the hold is woken by that publish and answers with it at once.
/// Wrong orders fail here: a handler that re-subscribes after its check misses the event
/// (204); one that checks without registering its waker (a poll with a no-op waker, the
/// generic `try_recv`) and then holds on its timer alone finds the event only when the hold
/// ends, so the answer must come before any (paused, simulated) time has passed.
#[tokio::test(start_paused = true)]
async fn a_publish_between_the_check_and_the_hold_is_delivered() {
    let h = Endpoint::new(
        RacingBroker(MemoryBroker::default(), Arc::default()),
        Config::default().with_jitter(Duration::ZERO),
    );
    let start = tokio::time::Instant::now();
    let response = answer(&h, get("/poll?topic=t&wait=20")).await;
    assert_eq!(response.status(), 200, "the event in the gap was lost");
    assert_eq!(json(&response)["events"][0]["data"], "in the gap");
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "the event waited for the hold to end: the waiter was not registered by the check"
    );
    assert!(h.broker().1.load(Ordering::SeqCst), "the race was run");
}

#[tokio::test(start_paused = true)]
async fn short_polling_answers_at_once_with_304_on_a_matching_etag() {
    let h = handler();
    let topic = Topic::new("t").unwrap();
    let c = h.broker().publish_now(&topic, Event::new("x")).unwrap();
    let response = answer(
        &h,
        Request::get(format!("/poll?topic=t&wait=0&since={c}"))
            .header("if-none-match", format!("\"{c}\""))
            .body(())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), 304);
    assert_eq!(response.headers()["etag"], format!("\"{c}\""));
}

#[tokio::test]
async fn abandoned_polls_leave_no_waiter_behind() {
    const POLLS: usize = 100_000;
    let h = handler();
    let topic = Topic::new("t").unwrap();
    let mut service = h.clone();
    for i in 0..POLLS {
        let mut held = pin!(service.call(get("/poll?topic=t&wait=20")));
        assert!(poll_once(held.as_mut()).is_pending(), "poll {i} is held");
        if i == 0 {
            assert_eq!(h.broker().subscriber_count(&topic), 1);
        }
        // Dropped here, as hyper drops it when the client disconnects.
    }
    assert_eq!(h.broker().subscriber_count(&topic), 0);
    assert_eq!(h.broker().topic_count(), 0);
    // Keep 1,000 held at once, then abandon them together.
    let mut futures: Vec<_> = (0..1000)
        .map(|_| service.call(get("/poll?topic=t&wait=20")))
        .collect();
    for f in &mut futures {
        assert!(poll_once(f.as_mut()).is_pending());
    }
    assert_eq!(h.broker().subscriber_count(&topic), 1000);
    drop(futures);
    assert_eq!(h.broker().subscriber_count(&topic), 0);
    assert_eq!(h.broker().topic_count(), 0);
}

/// What a server keeps per held poll is the response future (hyper keeps it, boxed by
/// `call`, until it answers): 10,000 held polls are 10,000 of them. It is sized for its
/// largest state, so the hold must not carry what only the admission needs (the request's
/// head, the split query, the hooks' futures, an `async fn`'s arguments kept twice). Before
/// the admission and the hold were split it was 2,096 bytes, with `FutureExt::then` and an
/// `async` hold 936, as the hand-written `Respond` 872; 06bb9ce's `Handler::handle` future
/// was 1,064. The bound is the combinator's size: never back above it.
#[tokio::test(start_paused = true)]
async fn a_held_poll_keeps_a_small_future() {
    let h = handler();
    let topic = Topic::new("t").unwrap();
    let mut held = h.clone().call(get("/poll?topic=t&wait=20"));
    assert!(poll_once(held.as_mut()).is_pending(), "the poll is held");
    assert_eq!(h.broker().subscriber_count(&topic), 1);
    let size = size_of_val(&*held);
    println!("a held poll's response future: {size} bytes");
    assert!(size <= 936, "a held poll's response future is {size} bytes");
}
