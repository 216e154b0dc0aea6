//! The Mercure service in process: both revisions' answers decided by the request's form,
//! HEAD, OPTIONS and CORS, the token's `exp` ending a stream (paused clock), the subscription
//! events and API.

use crate::support;

use std::time::Duration;

use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use push_core::Topic;
use push_hub::mercure::MercureConfig;
use push_hub::token::Claims;
use support::service::{call, get, hub, parts, post, text, token};

#[tokio::test]
async fn the_requests_form_decides_the_revisions_answers() {
    let hub = hub(MercureConfig::default());
    let narrow = Claims::new().publish("https://ex.com/allowed");
    let draft07 = token(&narrow);
    let at_jwt = token(
        &narrow
            .clone()
            .access_token("https://issuer.test", "http://hub.test/.well-known/mercure"),
    );
    // A topic the token may not publish to: 0.x answers 401, 1.0 403 insufficient_scope.
    let form = "topic=https%3A%2F%2Fex.com%2Fother&data=x";
    let v0 = call(&hub, post(&draft07, form)).await;
    assert_eq!(v0.status(), StatusCode::UNAUTHORIZED);
    let v1 = call(&hub, post(&at_jwt, form)).await;
    assert_eq!(v1.status(), StatusCode::FORBIDDEN);
    let challenge = v1.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    // The reserved namespace: 403 in 0.x, 400 in 1.0 (the token may publish anywhere).
    let any = Claims::new().publish("*");
    let form = "topic=%2F.well-known%2Fmercure%2Fsubscriptions%2Fx&data=x";
    let v0 = call(&hub, post(&token(&any), form)).await;
    assert_eq!(v0.status(), StatusCode::FORBIDDEN);
    let v1 = call(
        &hub,
        post(
            &token(&any.access_token("https://issuer.test", "http://hub.test/.well-known/mercure")),
            form,
        ),
    )
    .await;
    assert_eq!(v1.status(), StatusCode::BAD_REQUEST);
    assert!(text(v1).await.contains("reserved"));
    // The cursor header: 1.0 answers even an empty cursor (with the newest update), 0.x does
    // not; both answer a cursor the hub cannot place with `earliest`.
    let reader = token(&Claims::new().subscribe("*"));
    let (head, _) = hub
        .subscribe(&parts(
            "/.well-known/mercure?match=a&last_event_id=",
            Some(&reader),
        ))
        .unwrap();
    assert_eq!(head.headers["mercure-last-event-id"], "earliest");
    let (head, _) = hub
        .subscribe(&parts(
            "/.well-known/mercure?topic=a&lastEventID=",
            Some(&reader),
        ))
        .unwrap();
    assert!(!head.headers.contains_key("last-event-id"));
    let (head, _) = hub
        .subscribe(&parts(
            "/.well-known/mercure?topic=a&lastEventID=nope",
            Some(&reader),
        ))
        .unwrap();
    assert_eq!(head.headers["last-event-id"], "earliest");
    assert!(!head.headers.contains_key("mercure-last-event-id"));
    // A 1.0 subscribe without a token: 401 with a bare Bearer challenge; 0.x the same status.
    let v1 = call(
        &hub,
        get("/.well-known/mercure?match=a", None)
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(v1.status(), StatusCode::UNAUTHORIZED);
    assert!(v1.headers().contains_key("www-authenticate"));
    // Unknown `match*` names and malformed queries: 400 before any token is looked at.
    let bad = call(
        &hub,
        get("/.well-known/mercure?match_regex=a", None)
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(text(bad).await.contains("match_regex"));
    // The token in the query: a 0.x token is taken; an `at+jwt` one makes the request 1.0,
    // which takes no token there: 400, saying where it belongs.
    let subscriber = Claims::new().subscribe("*");
    let in_query = |token: &str| {
        get(
            &format!("/.well-known/mercure?topic=a&authorization={token}"),
            None,
        )
        .body(String::new())
        .unwrap()
    };
    let v0 = call(&hub, in_query(&token(&subscriber))).await;
    assert_eq!(v0.status(), StatusCode::OK);
    let v1 = call(
        &hub,
        in_query(&token(&subscriber.access_token(
            "https://issuer.test",
            "http://hub.test/.well-known/mercure",
        ))),
    )
    .await;
    assert_eq!(v1.status(), StatusCode::BAD_REQUEST);
    assert!(text(v1).await.contains("not in the query"));
}

#[tokio::test]
async fn methods_paths_media_types_and_sizes() {
    let hub = hub(MercureConfig::default().with_max_body(100));
    let writer = token(&Claims::new().publish("*"));
    let put = Request::put("http://hub.test/.well-known/mercure")
        .body(String::new())
        .unwrap();
    let answer = call(&hub, put).await;
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers()["allow"], "GET, HEAD, POST, QUERY, OPTIONS");
    let elsewhere = call(
        &hub,
        get("/.well-known/mercurex", None)
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    // The subscriptions API is off by default.
    let api = call(
        &hub,
        get("/.well-known/mercure/subscriptions", None)
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let mut json = post(&writer, "topic=a");
    json.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    assert_eq!(
        call(&hub, json).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let big = post(&writer, &format!("topic=a&data={}", "x".repeat(100)));
    assert_eq!(
        call(&hub, big).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let mut declared = post(&writer, "topic=a");
    declared
        .headers_mut()
        .insert("content-length", "1000000".parse().unwrap());
    assert_eq!(
        call(&hub, declared).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // 1.0's protected-resource metadata names the hub as the resource.
    let metadata = call(
        &hub,
        get(
            "/.well-known/oauth-protected-resource/.well-known/mercure",
            None,
        )
        .body(String::new())
        .unwrap(),
    )
    .await;
    assert_eq!(metadata.status(), StatusCode::OK);
    let document: serde_json::Value = serde_json::from_str(&text(metadata).await).unwrap();
    assert_eq!(document["resource"], "http://hub.test/.well-known/mercure");
    assert_eq!(document["bearer_methods_supported"][0], "header");
    assert_eq!(document["mercure_subscriptions"], false);
    let ok = call(&hub, post(&writer, "topic=a&data=fine")).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(text(ok).await.starts_with("urn:uuid:"));
}

#[tokio::test]
async fn head_checks_without_subscribing_and_cors_follows_the_allowlist() {
    let hub = hub(MercureConfig::default().with_cors_origins(["https://app.test"]));
    let reader = token(&Claims::new().subscribe("*"));
    let head = Request::head("http://hub.test/.well-known/mercure?topic=news")
        .header("authorization", format!("Bearer {reader}"))
        .header("origin", "https://app.test")
        .body(String::new())
        .unwrap();
    let answer = call(&hub, head).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "text/event-stream");
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://app.test"
    );
    assert_eq!(answer.headers()["access-control-allow-credentials"], "true");
    assert_eq!(
        hub.broker().subscriber_count(&Topic::new("news").unwrap()),
        0
    );
    let preflight = Request::options("http://hub.test/.well-known/mercure")
        .header("origin", "https://app.test")
        .header("access-control-request-method", "POST")
        .body(String::new())
        .unwrap();
    let answer = call(&hub, preflight).await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert!(
        answer.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    // A refusal carries the CORS headers too, so the page can read why.
    let refused = get("/.well-known/mercure?topic=news", None)
        .header("origin", "https://app.test")
        .body(String::new())
        .unwrap();
    let answer = call(&hub, refused).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://app.test"
    );
    let foreign = get("/.well-known/mercure?topic=news", Some(&reader))
        .header("origin", "https://evil.test")
        .body(String::new())
        .unwrap();
    let answer = call(&hub, foreign).await;
    assert!(!answer.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test(start_paused = true)]
async fn the_tokens_exp_ends_the_stream() {
    let hub = hub(MercureConfig::default());
    let start = tokio::time::Instant::now();
    let reader = token(
        &Claims::new()
            .subscribe("*")
            .expires_in(Duration::from_secs(120)),
    );
    let answer = call(
        &hub,
        get("/.well-known/mercure?topic=news", Some(&reader))
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let mut body = answer.into_body();
    let mut heartbeats = 0;
    // Bounded in simulated time: a stream that outlived its token would fail here.
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(300), body.frame())
        .await
        .expect("the stream ends at the token's exp")
        .map(|f| f.unwrap().into_data().unwrap())
    {
        if frame == ":\n\n" {
            heartbeats += 1;
        }
    }
    // Ended by the deadline (about two minutes of simulated time), after heartbeats every 40 s.
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_secs(115) && elapsed <= Duration::from_secs(125),
        "{elapsed:?}"
    );
    assert!((2..=3).contains(&heartbeats), "{heartbeats}");
}
