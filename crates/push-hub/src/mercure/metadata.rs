//! Mercure 1.0's OAuth protected-resource metadata (RFC 9728), at
//! `/.well-known/oauth-protected-resource/.well-known/mercure`: what a 1.0 client reads to learn
//! the resource identifier its token's `aud` must name, the trusted issuers, and what the hub
//! supports. (Publishing it tells clients the hub speaks 1.0; it speaks 0.x beside it, decided
//! per request.)

use http::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::request::Parts;
use push_core::Broker;
use serde_json::json;

use super::{HUB_PATH, Mercure};
use crate::auth::{DETAIL_TYPE, V1_COOKIE_NAME};

/// The path of the metadata document (RFC 9728 §3.1: the well-known prefix, then the
/// resource's path).
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource/.well-known/mercure";

impl<B: Broker + Clone> Mercure<B> {
    /// The metadata document for `request`'s hub: `resource` is the first configured audience,
    /// else the hub's URL for the request.
    pub(super) fn metadata(&self, request: &Parts) -> Response<String> {
        let config = self.authorizer.config();
        let resource = config
            .audience
            .first()
            .cloned()
            .or_else(|| self.hub_url(request).map(|u| u.to_string()));
        let resource = resource.unwrap_or_else(|| HUB_PATH.to_owned());
        let document = json!({
            "resource": resource,
            "authorization_servers": config.issuers,
            "authorization_details_types_supported": [DETAIL_TYPE],
            "bearer_methods_supported": ["header"],
            "mercure_cookie": V1_COOKIE_NAME,
            "mercure_matcher_types_supported": ["exact", "urlpattern"],
            "mercure_subscriptions": self.shared.config.subscriptions(),
        });
        let mut response = Response::new(document.to_string());
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
        response
    }
}
