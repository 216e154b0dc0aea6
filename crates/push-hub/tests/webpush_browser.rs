//! The demo's service worker in headless Chromium (over DevTools), against the `push-hub`
//! binary. A real push service is out of reach here (Chromium's is Google's FCM), so the push
//! message is handed to the registered worker by DevTools' `ServiceWorker.deliverPushMessage`,
//! with the payload the hub sends (`{"type", "cursor", "data"}`). The worker must show the
//! notification (title, body, the event's cursor in its data); the page the worker opens on a
//! click, `/?job=…&cursor=…`, must follow the job from that event on. (DevTools has no way to
//! click a notification, so the click handler's `openWindow` itself is not driven here.)

use crate::web;

use push_hub::token::Claims;
use serde_json::{Value, json};
use web::browser::Browser;
use web::hub::{Hub, publish, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_worker_shows_the_push_message_and_the_page_opens_at_its_cursor() {
    let hub = Hub::start(
        "127.0.0.1:0".parse().unwrap(),
        &["--anonymous", "--in-memory"],
    )
    .await;
    let origin = format!("http://{}", hub.addr);
    let publisher = token(Claims::new().publish("jobs/{id}"));
    let mut browser = Browser::launch("webpush").await;
    browser
        .call(
            None,
            "Browser.grantPermissions",
            json!({ "origin": origin, "permissions": ["notifications"] }),
        )
        .await;
    let tab = browser.open(&format!("{origin}/?job=sw")).await;
    browser
        .until(
            &tab,
            "the demo page",
            "window.demo && demo.sse.status === 'open'",
            "JSON.stringify(window.demo)",
        )
        .await;

    // Step 1 is published; its cursor is what the page saw over WebSocket (the hub's cursor,
    // which the hub's push payload carries; SSE shows the publisher's id instead).
    let (status, _) = publish(
        hub.addr,
        &publisher,
        &[("topic", "jobs/sw"), ("data", r#"{"step":1,"of":3}"#)],
    )
    .await;
    assert_eq!(status, 200);
    let cursor = browser
        .until(
            &tab,
            "step 1",
            "demo.ws.steps.length === 1 && demo.sse.steps.length === 1 && demo.ws.cursor",
            "JSON.stringify(window.demo)",
        )
        .await;
    let cursor = cursor.as_str().unwrap().to_owned();

    // The worker, registered as the page's "notify me" does, and its registration's id.
    browser
        .call(Some(&tab), "ServiceWorker.enable", json!({}))
        .await;
    let registered = browser
        .eval(
            &tab,
            "navigator.serviceWorker.register('/push-sw.js?job=sw').then(() => navigator.serviceWorker.ready).then((r) => r.scope)",
        )
        .await;
    assert_eq!(registered, json!(format!("{origin}/")));
    let registration = browser
        .event("ServiceWorker.workerRegistrationUpdated", |params| {
            params["registrations"].as_array().is_some_and(|r| {
                r.iter()
                    .any(|r| r["scopeURL"] == json!(format!("{origin}/")))
            })
        })
        .await;
    let id = registration["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["scopeURL"] == json!(format!("{origin}/")))
        .unwrap()["registrationId"]
        .clone();

    // The hub's payload for step 1, delivered to the worker (again every half second, bounded:
    // a worker just registered may not take a push message at once; the notification's tag
    // keeps one).
    let message = json!({ "type": "step", "cursor": cursor, "data": r#"{"step":1,"of":3}"# });
    let notifications = "navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((n) => n.length ? n.map((x) => ({ title: x.title, body: x.body, data: x.data, tag: x.tag })) : null)";
    let mut shown = Value::Null;
    for _ in 0..60 {
        browser
            .call(
                Some(&tab),
                "ServiceWorker.deliverPushMessage",
                json!({ "origin": origin, "registrationId": id, "data": message.to_string() }),
            )
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        shown = browser.eval(&tab, notifications).await;
        if !shown.is_null() {
            break;
        }
    }
    assert_eq!(
        shown,
        json!([{
            "title": "push-hub: step on jobs/sw",
            "body": "step 1 of 3",
            "data": { "job": "sw", "cursor": cursor },
            "tag": "jobs/sw",
        }])
    );

    // The page the click opens follows the job from that event on: step 2, published while
    // no page was open at it, arrives from the history, and step 1 does not again.
    let (status, _) = publish(
        hub.addr,
        &publisher,
        &[("topic", "jobs/sw"), ("data", r#"{"step":2,"of":3}"#)],
    )
    .await;
    assert_eq!(status, 200);
    let opened = browser
        .open(&format!("{origin}/?job=sw&cursor={}", urlencode(&cursor)))
        .await;
    let seen = browser
        .until(
            &opened,
            "step 2 on every transport",
            "window.demo && ['sse', 'ws', 'poll'].every((t) => demo[t].steps.length >= 1) && JSON.parse(JSON.stringify(demo))",
            "JSON.stringify(window.demo)",
        )
        .await;
    for transport in ["sse", "ws", "poll"] {
        assert_eq!(seen[transport]["steps"], json!([2]), "{transport}: {seen}");
        assert_eq!(seen[transport]["gaps"], json!([]), "{transport}: {seen}");
    }
    assert_eq!(seen["opened"], Value::String(cursor));
    drop(browser);
    hub.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
