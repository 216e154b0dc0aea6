//! The HTTP API of Web Push:
//!
//! | request | answer |
//! |---|---|
//! | `GET /.well-known/push/vapid` | `200` `{"publicKey": "<base64url>"}`; the key alone as `text/plain` when asked (`Accept: text/plain`) |
//! | `POST /.well-known/push/webpush` `{"subscription", "topics", "replace"?}` | `201` with the registration (`hub_id`); `200` with the same when it repeats one |
//! | `GET /.well-known/push/webpush/{hub_id}` | `200` with the registration (`status`: `active`), `404` once it is gone |
//! | `DELETE /.well-known/push/webpush/{hub_id}` | `204` |
//!
//! A subscription is authorized like any subscription (`GET /.well-known/mercure`): the
//! subscriber's token (`Authorization: Bearer` or the cookie), or none when the hub admits
//! anonymous subscribers; it then receives what that subscription would — public events on
//! its topics, and private ones its token grants. Its `subscription` is a browser's
//! `PushSubscription.toJSON()`; the endpoint must be one of the known push services (loopback
//! too with `--webpush-allow-loopback`, for tests). `"replace": true` sets RFC 8030's `Topic`
//! on every message (a digest of the event's topic), so a push service keeps only the newest
//! undelivered message of each topic for an offline browser; an event published with
//! `push_replace` carries the digest of the publisher's key instead. The `hub_id` is unguessable
//! (128 random bits) and is what a `DELETE` needs: it is answered to the registrant only.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use push_core::Selector;
use push_webpush::PushSubscription;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::callbacks::routes::{
    bearer, empty, error, hub_id, json_answer, not_allowed, read_body, refusal, topics,
};
use crate::callbacks::{Callbacks, Registered, Registration, Target, WebPushTarget};
use crate::serve::{HubBody, boxed_body};

/// The path of the VAPID public key.
pub const VAPID_PATH: &str = "/.well-known/push/vapid";
/// The path of the Web Push subscriptions.
pub const WEBPUSH_PATH: &str = "/.well-known/push/webpush";

/// Whether `path` is one of Web Push's.
pub fn is_webpush_path(path: &str) -> bool {
    path == VAPID_PATH
        || path == WEBPUSH_PATH
        || path
            .strip_prefix(WEBPUSH_PATH)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Answers one request of the Web Push API.
pub(crate) async fn answer(
    callbacks: Arc<Callbacks>,
    request: Request<HubBody>,
) -> Response<HubBody> {
    let Some(web_push) = callbacks.inner.web_push.clone() else {
        return error(StatusCode::NOT_FOUND, "Web Push is off");
    };
    let path = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    if path == VAPID_PATH {
        return match parts.method {
            Method::GET | Method::HEAD => vapid(web_push.public_key(), &parts),
            _ => not_allowed("GET, HEAD"),
        };
    }
    let rest = path
        .strip_prefix(WEBPUSH_PATH)
        .unwrap_or_default()
        .trim_start_matches('/');
    match (rest, parts.method.clone()) {
        ("", Method::POST) => subscribe(&callbacks, &parts, body).await,
        ("", _) => not_allowed("POST"),
        (id, Method::DELETE) if !id.contains('/') => unsubscribe(&callbacks, id).await,
        (id, Method::GET | Method::HEAD) if !id.contains('/') => show(&callbacks, id),
        (id, _) if !id.contains('/') => not_allowed("GET, HEAD, DELETE"),
        _ => error(StatusCode::NOT_FOUND, "no such Web Push route"),
    }
}

fn vapid(public_key: &str, parts: &Parts) -> Response<HubBody> {
    let plain = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/plain") && !v.contains("application/json"));
    let (body, kind) = if plain {
        (public_key.to_owned(), "text/plain; charset=utf-8")
    } else {
        (
            json!({ "publicKey": public_key }).to_string(),
            "application/json",
        )
    };
    let mut response = Response::new(boxed_body(Full::new(Bytes::from(body))));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    // The key changes only with the hub's configuration.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn subscribe(callbacks: &Callbacks, parts: &Parts, body: HubBody) -> Response<HubBody> {
    let inner = &callbacks.inner;
    let subscriber = match inner.authorizer.subscriber(parts) {
        Ok(subscriber) => subscriber,
        Err(e) => return refusal(e.into_refusal()),
    };
    let Some(body) = read_body(body).await else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is unreadable or too long",
        );
    };
    let asked = match parse(callbacks, &body) {
        Ok(asked) => asked,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let owner = match bearer(&parts.headers) {
        Some(token) => Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        None => "anonymous".to_owned(),
    };
    let now = SystemTime::now();
    let access = subscriber.access();
    let expires = access.until().map(|until| {
        let left = until.saturating_duration_since(Instant::now());
        crate::callbacks::unix_secs(now).saturating_add(left.as_secs())
    });
    let Some(id) = hub_id() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "no randomness for an id");
    };
    let registration = Registration {
        id,
        // A browser's endpoint is its own: a second POST of it is a repetition.
        client_id: asked.subscription.endpoint.clone(),
        selector: asked.selector,
        access,
        expires,
        owner,
        target: Target::WebPush(WebPushTarget {
            subscription: asked.subscription,
            replace: asked.replace,
        }),
        in_flight: 1,
        from: (inner.head)().to_string(),
        created: crate::callbacks::unix_millis(now),
        disabled: None,
    };
    let registry = Arc::clone(&inner.registry);
    let answer = |status, r: &Registration| json_answer(status, &r.answer(false), None);
    match tokio::task::spawn_blocking(move || registry.register(registration)).await {
        Ok(Ok(Registered::Created(r))) => answer(StatusCode::CREATED, &r),
        Ok(Ok(Registered::Existing(r))) => answer(StatusCode::OK, &r),
        Ok(Ok(Registered::Conflict(r))) => error(
            StatusCode::CONFLICT,
            &format!(
                "this subscription is registered ({}) with other topics; delete it first",
                r.id
            ),
        ),
        Ok(Ok(Registered::Full)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the hub holds its most registrations (--callbacks-max)",
        ),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "the registry cannot store"),
    }
}

fn show(callbacks: &Callbacks, id: &str) -> Response<HubBody> {
    match callbacks.inner.registry.get(id) {
        Some(r) if matches!(r.target, Target::WebPush(_)) => {
            json_answer(StatusCode::OK, &r.answer(false), None)
        }
        _ => error(StatusCode::NOT_FOUND, "no such Web Push subscription"),
    }
}

async fn unsubscribe(callbacks: &Callbacks, id: &str) -> Response<HubBody> {
    let registry = Arc::clone(&callbacks.inner.registry);
    let is_web_push = registry
        .get(id)
        .is_some_and(|r| matches!(r.target, Target::WebPush(_)));
    if !is_web_push {
        return error(StatusCode::NOT_FOUND, "no such Web Push subscription");
    }
    let id = id.to_owned();
    match tokio::task::spawn_blocking(move || registry.remove(&id)).await {
        Ok(Ok(_)) => empty(StatusCode::NO_CONTENT),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "the registry cannot store"),
    }
}

/// A subscription request, checked.
struct Asked {
    subscription: PushSubscription,
    selector: Selector,
    replace: bool,
}

fn parse(callbacks: &Callbacks, body: &Bytes) -> Result<Asked, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let subscription: PushSubscription = serde_json::from_value(value["subscription"].clone())
        .map_err(|e| format!("`subscription` is not a PushSubscription: {e}"))?;
    let web_push = callbacks.inner.web_push.as_ref().ok_or("Web Push is off")?;
    web_push
        .policy()
        .check(&subscription.endpoint)
        .map_err(|e| format!("`subscription.endpoint`: {e}"))?;
    subscription
        .recipient()
        .map_err(|e| format!("`subscription.keys`: {e}"))?;
    let selector = topics(&value)?;
    let replace = match &value["replace"] {
        Value::Null => false,
        Value::Bool(replace) => *replace,
        _ => return Err("`replace` is true or false".into()),
    };
    Ok(Asked {
        subscription,
        selector,
        replace,
    })
}
