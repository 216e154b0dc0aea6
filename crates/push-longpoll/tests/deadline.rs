//! What the core decides about time, sans-IO: the `Preference-Applied` of a `Prefer: wait` is in
//! every reply (so every way of answering sends it), and an access's end (`until`) ends the hold.

use std::time::{Duration, Instant};

use http::StatusCode;
use push_core::{CloseReason, Cursor, Delivery, Event, Published, Selector, Topic};
use push_longpoll::server::Config;
use push_longpoll::{Exchange, PollRequest, Query, Reply};

// The simulated clock's origin: read once here; the core never reads one.
#[allow(clippy::disallowed_methods)]
fn t0() -> Instant {
    Instant::now()
}

fn topic() -> Topic {
    Topic::new("t").unwrap()
}

fn request(query: &str, prefer: &str) -> PollRequest {
    let prefer: &[&[u8]] = if prefer.is_empty() {
        &[]
    } else {
        &[prefer.as_bytes()]
    };
    let query = Query::new(query.as_bytes());
    PollRequest::parse(Selector::one(topic()), &query, prefer, &[]).unwrap()
}

fn config() -> Config {
    Config::default().with_jitter(Duration::ZERO)
}

/// Held with nothing, then the deadline: the reply.
fn timed_out(exchange: &mut Exchange) -> Reply {
    exchange.handle_idle(Cursor::new(1, 0));
    assert!(exchange.poll_reply().is_none(), "held");
    exchange.handle_timeout(exchange.deadline());
    exchange.poll_reply().expect("answered at the deadline")
}

/// Regression: `Preference-Applied` used to be added by one caller (`Handler::handle`) only, so
/// a reply taken from the core (`Handler::answer`, an axum route) answered without it. Now the
/// reply carries it: its headers, and the `http::Response` made from it.
#[test]
fn preference_applied_is_part_of_every_reply() {
    let now = t0();
    // A 204 at the (capped) deadline.
    let mut exchange = Exchange::new(request("", "wait=3600"), &config(), now, 0);
    let reply = timed_out(&mut exchange);
    assert_eq!(reply.status(), StatusCode::NO_CONTENT);
    assert_eq!(reply.wait_applied(), Some(25));
    assert!(
        reply
            .headers()
            .contains(&("preference-applied", "wait=25".to_owned()))
    );
    let response = reply.into_http();
    assert_eq!(response.headers()["preference-applied"], "wait=25");
    // A 200 with an event ready.
    let mut exchange = Exchange::new(request("", "wait=7"), &config(), now, 0);
    let event = Published::new(topic(), Cursor::new(1, 1), Event::new("x"));
    exchange.handle_delivery(Delivery::Event(event.into()));
    exchange.handle_idle(Cursor::new(1, 1));
    let response = exchange.poll_reply().unwrap().into_http();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["preference-applied"], "wait=7");
    // Through an http head, with several Prefer values.
    let (parts, ()) = http::Request::get("/poll?topic=t")
        .header("prefer", "respond-async")
        .header("prefer", "wait=3")
        .body(())
        .unwrap()
        .into_parts();
    let poll =
        PollRequest::from_parts(Selector::one(topic()), &parts, &Query::of(&parts.uri)).unwrap();
    let mut exchange = Exchange::new(poll, &config(), now, 0);
    let response = timed_out(&mut exchange).into_http();
    assert_eq!(response.headers()["preference-applied"], "wait=3");
    // The query's `wait` is no preference: nothing applied, nothing said.
    let mut exchange = Exchange::new(request("wait=3", "wait=9"), &config(), now, 0);
    let reply = timed_out(&mut exchange);
    assert_eq!(reply.wait_applied(), None);
    assert!(
        reply
            .into_http()
            .headers()
            .get("preference-applied")
            .is_none()
    );
}

#[test]
fn an_access_that_ends_ends_the_hold_then() {
    let now = t0();
    let until = now + Duration::from_secs(3);
    let mut exchange =
        Exchange::new(request("wait=20", ""), &config(), now, 0).with_until(Some(until));
    assert_eq!(exchange.deadline(), until);
    exchange.handle_idle(Cursor::new(1, 0));
    assert_eq!(exchange.poll_timeout(), Some(until));
    exchange.handle_timeout(until - Duration::from_millis(1));
    assert!(exchange.poll_reply().is_none(), "still held before the end");
    exchange.handle_timeout(until);
    let reply = exchange.poll_reply().unwrap();
    assert_eq!(reply.status(), StatusCode::NO_CONTENT);
    assert_eq!(reply.next(), Some(Cursor::new(1, 0)));
    // An end after the hold's own deadline changes nothing; none changes nothing.
    let later = Exchange::new(request("wait=20", ""), &config(), now, 0)
        .with_until(Some(now + Duration::from_secs(60)));
    assert_eq!(later.deadline(), now + Duration::from_secs(20));
    let none = Exchange::new(request("wait=20", ""), &config(), now, 0).with_until(None);
    assert_eq!(none.deadline(), now + Duration::from_secs(20));
}

#[test]
fn a_subscription_closed_as_expired_is_a_204_not_a_503() {
    let now = t0();
    let mut exchange = Exchange::new(request("wait=20", ""), &config(), now, 0);
    exchange.handle_idle(Cursor::new(1, 4));
    exchange.handle_delivery(Delivery::Closed(CloseReason::Expired));
    let reply = exchange.poll_reply().unwrap();
    assert_eq!(reply.status(), StatusCode::NO_CONTENT);
    assert_eq!(reply.next(), Some(Cursor::new(1, 4)));
    // A broker that shut down is still a 503.
    let mut exchange = Exchange::new(request("wait=20", ""), &config(), now, 0);
    exchange.handle_idle(Cursor::new(1, 4));
    exchange.handle_delivery(Delivery::Closed(CloseReason::Shutdown));
    let reply = exchange.poll_reply().unwrap();
    assert_eq!(reply.status(), StatusCode::SERVICE_UNAVAILABLE);
}
