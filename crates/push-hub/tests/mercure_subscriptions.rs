//! The subscription events and API over the Mercure service, in process: arrivals and
//! departures announced as private updates in the reserved namespace, the API listing them.

use crate::support;

use std::time::Duration;

use futures_util::StreamExt as _;
use http::StatusCode;
use push_hub::mercure::MercureConfig;
use push_hub::token::Claims;
use support::service::{call, get, hub, parts, post, text, token};

#[tokio::test]
async fn subscription_events_announce_arrivals_and_departures() {
    let hub = hub(MercureConfig::default()
        .with_subscriptions(true)
        .with_heartbeat(None));
    let watcher =
        token(&Claims::new().subscribe("/.well-known/mercure/subscriptions{/topic}{/subscriber}"));
    let watch = "/.well-known/mercure?topic=%2F.well-known%2Fmercure%2Fsubscriptions%7B%2Ftopic%7D%7B%2Fsubscriber%7D";
    let (_, mut events) = hub.subscribe(&parts(watch, Some(&watcher))).unwrap();
    assert_eq!(events.next().await.unwrap(), ": ok\n\n");
    let reader = token(
        &Claims::new()
            .subscribe("*")
            .payload(serde_json::json!({"user": 7})),
    );
    let (_, reader_stream) = hub
        .subscribe(&parts(
            "/.well-known/mercure?topic=https%3A%2F%2Fex.com%2Fa",
            Some(&reader),
        ))
        .unwrap();
    // The watcher's own arrival may come first: read up to the reader's.
    let arrived = until(&mut events, "https://ex.com/a").await;
    assert!(arrived.contains(r#""active":true"#), "{arrived}");
    assert!(
        arrived.contains(r#""topic":"https://ex.com/a""#),
        "{arrived}"
    );
    assert!(arrived.contains(r#""user":7"#), "{arrived}");
    assert!(arrived.starts_with("id: urn:uuid:"), "{arrived}");
    // The API lists it (the watcher's own subscription too).
    let api = call(
        &hub,
        get("/.well-known/mercure/subscriptions", Some(&watcher))
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(api.status(), StatusCode::OK);
    assert_eq!(api.headers()["content-type"], "application/ld+json");
    let listed = text(api).await;
    assert!(listed.contains("https://ex.com/a"), "{listed}");
    // A publisher cannot forge one.
    let writer = token(&Claims::new().publish("*"));
    let forged = call(
        &hub,
        post(
            &writer,
            "topic=%2F.well-known%2Fmercure%2Fsubscriptions%2Fa%2Fb&data=x",
        ),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    drop(reader_stream);
    let left = until(&mut events, "https://ex.com/a").await;
    assert!(left.contains(r#""active":false"#), "{left}");
    // A subscriber without the grant sees nothing of them (they are private).
    let (_, mut blind) = hub
        .subscribe(&parts(
            watch,
            Some(&token(&Claims::new().subscribe("https://ex.com/{x}"))),
        ))
        .unwrap();
    assert_eq!(blind.next().await.unwrap(), ": ok\n\n");
    let another = hub
        .subscribe(&parts("/.well-known/mercure?topic=b", Some(&reader)))
        .unwrap();
    let seen = until(&mut events, r#""topic":"b""#).await;
    assert!(seen.contains(r#""topic":"b""#), "{seen}");
    drop(another);
    let nothing = tokio::time::timeout(Duration::from_millis(200), blind.next()).await;
    assert!(
        nothing.is_err(),
        "the ungranted watcher received {nothing:?}"
    );
}

/// The next frame of `events` that contains `needle` (bounded: ten frames, ten seconds).
async fn until<S: push_core::Subscription>(
    events: &mut push_sse::server::EventStream<S>,
    needle: &str,
) -> String {
    for _ in 0..10 {
        let frame = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .unwrap()
            .unwrap();
        let frame = String::from_utf8(frame.to_vec()).unwrap();
        if frame.contains(needle) {
            return frame;
        }
    }
    panic!("no frame with {needle:?}");
}
