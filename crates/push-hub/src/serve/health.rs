//! The broker's health as the hub tells it: `/healthz`, the `broker_up` gauge of `/metrics`,
//! and new streams and publishes refused while the broker's store (Redis) is unreachable.
//!
//! While Redis is down a publish cannot be stored and a resume cannot be replayed, so a new
//! stream or publish is answered `503` with a `Retry-After` (the transports' retry hint): the
//! client comes back once Redis is, and resumes exactly from its cursor. Streams already open
//! stay open; when the reader reconnects they receive what was published since, or a gap when
//! Redis lost history meanwhile (push-redis' epochs). The embedded broker is always up.

use http::{Response, StatusCode};

use super::body::{HubBody, retry_later, text};
use super::router::Shared;

/// The answer to a stream or publish request (`streams`) while the broker is down, if it is.
pub(super) fn refuse(shared: &Shared, streams: bool) -> Option<Response<HubBody>> {
    if !streams || shared.backend.healthy() {
        return None;
    }
    shared.metrics.broker_up.set(0);
    let message = format!("{} unreachable", shared.backend.name());
    Some(retry_later(
        StatusCode::SERVICE_UNAVAILABLE,
        &message,
        shared.backend.retry_hint(),
    ))
}

/// `/healthz`: `200 ok` while the hub serves and its broker's store answers; `503` naming the
/// broker while it does not (a load balancer then sends clients to another hub).
pub(super) fn answer(shared: &Shared) -> Response<HubBody> {
    let up = update(shared);
    let name = shared.backend.name();
    match (up, shared.backend.as_redis().is_some()) {
        (true, false) => text(StatusCode::OK, "ok\n"),
        (true, true) => text(StatusCode::OK, format!("ok\n{name}: reachable\n")),
        (false, _) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unavailable\n{name}: unreachable\n"),
        ),
    }
}

/// Sets the `broker_up` gauge from the broker's health and returns it.
pub(super) fn update(shared: &Shared) -> bool {
    let up = shared.backend.healthy();
    shared.metrics.broker_up.set(i64::from(up));
    up
}
