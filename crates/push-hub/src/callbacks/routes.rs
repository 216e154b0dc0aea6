//! The HTTP API of the callbacks, under [`CALLBACKS_PATH`]:
//!
//! | request | answer |
//! |---|---|
//! | `POST /.well-known/push/callbacks` `{"url", "topics", "id", "in_flight"?}` | `201` with the registration and its `secret`; `200` with the same when it repeats one |
//! | `GET /.well-known/push/callbacks/{hub_id}` | `200` with the registration (no secret) |
//! | `DELETE /.well-known/push/callbacks/{hub_id}` | `204` |
//! | `POST /.well-known/push/callbacks/{hub_id}/rotate` | `200` with the new `secret`; the old one signs beside it for `--callbacks-rotation` |
//!
//! Every call needs a subscriber's token (`Authorization: Bearer`) whose subscribe grant
//! covers every topic of the registration ([`covered`]): `401` without a valid token, `403`
//! when a topic is not granted. A registration repeats one when the same token registers the
//! same client `id` with the same URL, topics and `in_flight` (a network retry): the same
//! registration and secret come back. The same `id` with another URL or topics is a `409`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::request::Parts;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use push_core::{Pattern, Selector};
use push_webhook::Secret;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use url::Url;

use super::registration::{Registration, Target, Webhook, covered, unix_millis, unix_secs};
use super::registry::Registered;
use super::{Callbacks, Inner};
use crate::auth::Subscriber;
use crate::serve::{HubBody, boxed_body};

/// Whether `path` is one of the callbacks API's.
pub fn is_callbacks_path(path: &str) -> bool {
    path == CALLBACKS_PATH
        || path
            .strip_prefix(CALLBACKS_PATH)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The path of the callbacks API.
pub const CALLBACKS_PATH: &str = "/.well-known/push/callbacks";

/// The largest registration body read.
const MAX_BODY: usize = 16 * 1024;
/// The longest callback URL.
const MAX_URL: usize = 2048;
/// The longest client id.
const MAX_CLIENT_ID: usize = 256;

/// Answers one request of the callbacks API.
pub async fn answer(callbacks: Arc<Callbacks>, request: Request<HubBody>) -> Response<HubBody> {
    let inner = &callbacks.inner;
    let path = request.uri().path().to_owned();
    let rest = path
        .strip_prefix(CALLBACKS_PATH)
        .unwrap_or_default()
        .trim_start_matches('/');
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    match (rest.split_once('/'), rest, method) {
        (None, "", Method::POST) => register(inner, &parts, body).await,
        (None, "", _) => not_allowed("POST"),
        (Some((id, "rotate")), _, Method::POST) => rotate(inner, id, &parts).await,
        (Some((_, "rotate")), _, _) => not_allowed("POST"),
        (None, id, Method::GET | Method::HEAD) => show(inner, id, &parts),
        (None, id, Method::DELETE) => delete(inner, id, &parts).await,
        (None, _, _) => not_allowed("GET, HEAD, DELETE"),
        (Some(_), _, _) => error(StatusCode::NOT_FOUND, "no such callbacks route"),
    }
}

/// The owner of a request: its subscriber authorization and its token's hash.
struct Owner {
    subscriber: Subscriber,
    hash: String,
}

#[allow(clippy::result_large_err)]
fn owner(inner: &Inner, parts: &Parts) -> Result<Owner, Response<HubBody>> {
    let Some(token) = bearer(&parts.headers).filter(|t| !t.is_empty()) else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "a subscriber's token is required (Authorization: Bearer)",
        ));
    };
    let subscriber = inner
        .authorizer
        .subscriber(parts)
        .map_err(|e| refusal(e.into_refusal()))?;
    let hash = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Owner { subscriber, hash })
}

/// The first topic of `selector` that `owner`'s grant does not cover, as a 403.
#[allow(clippy::result_large_err)]
fn check_grant(owner: &Owner, selector: &Selector) -> Result<(), Response<HubBody>> {
    let access = owner.subscriber.access();
    match selector
        .patterns()
        .iter()
        .find(|p| !covered(access.private(), p))
    {
        None => Ok(()),
        Some(p) => Err(error(
            StatusCode::FORBIDDEN,
            &format!("the token does not grant subscribing to {p}"),
        )),
    }
}

async fn register(inner: &Inner, parts: &Parts, body: HubBody) -> Response<HubBody> {
    let owner = match owner(inner, parts) {
        Ok(owner) => owner,
        Err(refused) => return refused,
    };
    let Some(body) = read_body(body).await else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is unreadable or longer than {MAX_BODY} bytes"),
        );
    };
    let asked = match parse(inner, &body) {
        Ok(asked) => asked,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    if let Err(refused) = check_grant(&owner, &asked.selector) {
        return refused;
    }
    let (Ok(secret), Some(id)) = (Secret::generate(), hub_id()) else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no randomness for a secret",
        );
    };
    let now = SystemTime::now();
    let access = owner.subscriber.access();
    let expires = access.until().map(|until| {
        let left = until.saturating_duration_since(Instant::now());
        unix_secs(now).saturating_add(left.as_secs())
    });
    let registration = Registration {
        id,
        client_id: asked.client_id,
        selector: asked.selector,
        access,
        expires,
        owner: owner.hash,
        target: Target::Webhook(Webhook {
            url: asked.url,
            secret,
            previous: None,
        }),
        in_flight: asked.in_flight,
        from: (inner.head)().to_string(),
        created: unix_millis(now),
        disabled: None,
    };
    let registry = Arc::clone(&inner.registry);
    match tokio::task::spawn_blocking(move || registry.register(registration)).await {
        Ok(Ok(Registered::Created(r))) => registration_answer(StatusCode::CREATED, &r),
        Ok(Ok(Registered::Existing(r))) => registration_answer(StatusCode::OK, &r),
        Ok(Ok(Registered::Conflict(r))) => error(
            StatusCode::CONFLICT,
            &format!(
                "the id {:?} names registration {} with another URL, topics or in_flight; \
                 delete it first",
                r.client_id, r.id
            ),
        ),
        Ok(Ok(Registered::Full)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the hub holds its most registrations (--callbacks-max)",
        ),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "the registry cannot store"),
    }
}

fn show(inner: &Inner, id: &str, request: &Parts) -> Response<HubBody> {
    match owned(inner, id, request) {
        Ok(registration) => json_answer(StatusCode::OK, &registration.answer(false), None),
        Err(refused) => refused,
    }
}

async fn delete(inner: &Inner, id: &str, request: &Parts) -> Response<HubBody> {
    if let Err(refused) = owned(inner, id, request) {
        return refused;
    }
    let registry = Arc::clone(&inner.registry);
    let id = id.to_owned();
    match tokio::task::spawn_blocking(move || registry.remove(&id)).await {
        Ok(Ok(_)) => empty(StatusCode::NO_CONTENT),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "the registry cannot store"),
    }
}

async fn rotate(inner: &Inner, id: &str, request: &Parts) -> Response<HubBody> {
    if let Err(refused) = owned(inner, id, request) {
        return refused;
    }
    let Ok(secret) = Secret::generate() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no randomness for a secret",
        );
    };
    let until = unix_secs(SystemTime::now()).saturating_add(inner.config.rotation.as_secs());
    let registry = Arc::clone(&inner.registry);
    let id = id.to_owned();
    match tokio::task::spawn_blocking(move || registry.rotate(&id, secret, until)).await {
        Ok(Ok(Some(r))) => registration_answer(StatusCode::OK, &r),
        Ok(Ok(None)) => error(StatusCode::NOT_FOUND, "no such registration"),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "the registry cannot store"),
    }
}

/// The registration `id`, when the request's token covers its topics.
#[allow(clippy::result_large_err)]
fn owned(inner: &Inner, id: &str, request: &Parts) -> Result<Arc<Registration>, Response<HubBody>> {
    let owner = owner(inner, request)?;
    let registration = inner
        .registry
        .get(id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "no such registration"))?;
    check_grant(&owner, &registration.selector)?;
    Ok(registration)
}

/// The body, when it is readable and at most [`MAX_BODY`] bytes.
pub(crate) fn read_body(body: HubBody) -> Pin<Box<dyn Future<Output = Option<Bytes>> + Send>> {
    Box::pin(async move {
        let mut body = body;
        let mut read = Vec::new();
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.ok()?.into_data() else {
                continue;
            };
            if read.len().saturating_add(data.len()) > MAX_BODY {
                return None;
            }
            read.extend_from_slice(&data);
        }
        Some(Bytes::from(read))
    })
}

/// A registration request, checked.
struct Asked {
    url: String,
    selector: Selector,
    client_id: String,
    in_flight: u32,
}

fn parse(inner: &Inner, body: &Bytes) -> Result<Asked, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let url = value["url"]
        .as_str()
        .ok_or("`url` (a string) is required")?;
    if url.len() > MAX_URL {
        return Err(format!("`url` is longer than {MAX_URL} bytes"));
    }
    let parsed = Url::parse(url).map_err(|e| format!("`url` is not a URL: {e}"))?;
    inner
        .config
        .addresses
        .check_url(&parsed)
        .map_err(|refusal| format!("`url` is refused: {refusal}"))?;
    let selector = topics(&value)?;
    let client_id = value["id"].as_str().ok_or("`id` (a string) is required")?;
    if client_id.is_empty()
        || client_id.len() > MAX_CLIENT_ID
        || client_id.chars().any(char::is_control)
    {
        return Err(format!(
            "`id` must be 1 to {MAX_CLIENT_ID} bytes without control characters"
        ));
    }
    let max = inner.config.max_in_flight;
    let in_flight = match &value["in_flight"] {
        Value::Null => 1,
        n => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=max).contains(n))
            .ok_or(format!("`in_flight` is a number from 1 to {max}"))?,
    };
    Ok(Asked {
        url: parsed.to_string(),
        selector,
        client_id: client_id.to_owned(),
        in_flight,
    })
}

/// `cb_` and 26 base32 characters of 128 random bits; `None` without randomness.
pub(crate) fn hub_id() -> Option<String> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    let mut bits = u128::from_be_bytes(bytes);
    let mut id = String::from("cb_");
    for _ in 0..26 {
        id.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    Some(id)
}

pub(crate) fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::trim)
}

fn registration_answer(status: StatusCode, registration: &Registration) -> Response<HubBody> {
    let location = format!("{CALLBACKS_PATH}/{}", registration.id);
    json_answer(status, &registration.answer(true), Some(&location))
}

pub(crate) fn json_answer(
    status: StatusCode,
    value: &Value,
    location: Option<&str>,
) -> Response<HubBody> {
    let mut response = Response::new(boxed_body(Full::new(Bytes::from(value.to_string()))));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // The answer may hold a secret.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(LOCATION, location);
    }
    response
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response<HubBody> {
    json_answer(status, &json!({ "error": message }), None)
}

pub(crate) fn empty(status: StatusCode) -> Response<HubBody> {
    let mut response = Response::new(boxed_body(Full::new(Bytes::new())));
    *response.status_mut() = status;
    response
}

pub(crate) fn not_allowed(allow: &'static str) -> Response<HubBody> {
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    response
        .headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    response
}

pub(crate) fn refusal(refusal: push_http::Refusal) -> Response<HubBody> {
    refusal
        .into_response()
        .map(|text| boxed_body(Full::new(Bytes::from(text))))
}

/// A registration body's `topics` (one selector string or a list of them) as one selector;
/// the error says which part of the body is wrong.
pub(crate) fn topics(value: &Value) -> Result<Selector, String> {
    let topics: Vec<&str> = match &value["topics"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(list) => list
            .iter()
            .map(|t| t.as_str().ok_or("`topics` holds strings only"))
            .collect::<Result<_, _>>()?,
        _ => return Err("`topics` (a list of topic selectors) is required".into()),
    };
    let patterns = topics
        .iter()
        .map(|t| Pattern::parse(t).map_err(|e| format!("topic {t:?}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Selector::new(patterns).map_err(|e| format!("`topics`: {e}"))
}
