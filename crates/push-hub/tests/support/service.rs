//! The Mercure service in process, as the service tests call it: a hub over a memory broker
//! with one HS256 key, tokens for it, and requests and answers in a line each.

use std::sync::Arc;

use http::{Request, Response};
use http_body_util::BodyExt as _;
use push_broker::{MemoryBroker, MemorySubscription};
use push_hub::auth::{Algorithm, AuthConfig, Authorizer, KeySpec};
use push_hub::mercure::{Mercure, MercureConfig};
use push_hub::token::{Claims, mint};
use push_sse::server::Body;
use tower::ServiceExt as _;

/// The hub's HMAC key.
pub const SECRET: &str = "a test secret of at least thirty-two bytes";

/// A publish's content type.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// The key of [`SECRET`].
pub fn key() -> KeySpec {
    KeySpec::new(SECRET, Algorithm::HS256)
}

/// A token granting `claims`, signed with [`key`].
pub fn token(claims: &Claims) -> String {
    mint(&key(), claims).unwrap()
}

/// A hub over a fresh memory broker, configured by `config`, verifying with [`key`].
pub fn hub(config: MercureConfig) -> Mercure<MemoryBroker> {
    let authorizer = Arc::new(Authorizer::new(AuthConfig::with_key(key())).unwrap());
    Mercure::new(MemoryBroker::default(), authorizer, config)
}

/// `request`'s answer.
pub async fn call(
    hub: &Mercure<MemoryBroker>,
    request: Request<String>,
) -> Response<Body<MemorySubscription>> {
    hub.clone().oneshot(request).await.unwrap()
}

/// A publish of `form` with `token`.
pub fn post(token: &str, form: &str) -> Request<String> {
    Request::post("http://hub.test/.well-known/mercure")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", FORM)
        .body(form.to_owned())
        .unwrap()
}

/// A `GET` of `target`, with `token` when given.
pub fn get(target: &str, token: Option<&str>) -> http::request::Builder {
    let builder = Request::get(format!("http://hub.test{target}"));
    match token {
        Some(t) => builder.header("authorization", format!("Bearer {t}")),
        None => builder,
    }
}

/// The parts of a `GET` of `target` (what `Mercure::subscribe` takes), with `token` when given.
pub fn parts(target: &str, token: Option<&str>) -> http::request::Parts {
    get(target, token).body(()).unwrap().into_parts().0
}

/// A whole answer's body as text.
pub async fn text(response: Response<Body<MemorySubscription>>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}
