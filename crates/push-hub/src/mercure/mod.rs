//! The Mercure protocol, both revisions (draft-dunglas-mercure-07 as Mercure v0.24 speaks it,
//! and the 1.0 draft's names beside it), over the broker's own model: selectors, alternate
//! topics and private audiences are the broker's, never filtered here.
//!
//! ```text
//!  GET  /.well-known/mercure ─► query (topic / match…) ─► Authorizer::subscriber ─► Access
//!        Last-Event-ID / lastEventID / last_event_id ─► resume: earliest | Broker::resolve(id)
//!        | cursor text | else an announced gap ─► Broker::subscribe ─► EventStream (ids: the
//!        update's own) + the head of mercure.md §2 with the cursor header of §3
//!  POST /.well-known/mercure ─► body (≤ max_body, else 413) ─► Authorizer::publisher
//!        ─► form (topic…, data, id, type, retry, private) ─► Publisher::check(every topic)
//!        ─► id (the publisher's, or urn:uuid:v4) ─► Broker::publish ─► 200 text/plain id
//!  QUERY /.well-known/mercure ─► 1.0: the URL's query & the form body (≤ max_body) ─► as GET
//!  OPTIONS ─► CORS preflight;  GET /.well-known/mercure/subscriptions… ─► the API (opt-in)
//!  GET /.well-known/oauth-protected-resource/.well-known/mercure ─► 1.0's RFC 9728 metadata
//! ```
//!
//! Which revision answers is decided by the request's own form ([`Revision::of`]: `match…`
//! parameters, an `at+jwt` token): the status codes, the cursor header and the error shapes
//! follow it.
//!
//! ```
//! use std::sync::Arc;
//!
//! use http::{Request, StatusCode};
//! use http_body_util::BodyExt as _;
//! use push_broker::MemoryBroker;
//! use push_hub::auth::{AuthConfig, Authorizer, KeySpec};
//! use push_hub::mercure::{Mercure, MercureConfig};
//! use push_hub::token::{Claims, mint};
//! use tower::ServiceExt as _;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = KeySpec::new("a secret of at least thirty-two bytes!", push_hub::auth::Algorithm::HS256);
//! let authorizer = Arc::new(Authorizer::new(AuthConfig::with_key(key.clone()))?);
//! let hub = Mercure::new(MemoryBroker::default(), authorizer, MercureConfig::default());
//!
//! // A subscriber (with a token that may read every topic, private ones included)...
//! let reader = mint(&key, &Claims::new().subscribe("*"))?;
//! let (head, mut events) = hub
//!     .subscribe(
//!         &Request::get("/.well-known/mercure?topic=https://example.com/books/1")
//!             .header("authorization", format!("Bearer {reader}"))
//!             .body(())?
//!             .into_parts()
//!             .0,
//!     )
//!     .map_err(|refused| format!("refused: {}", refused.status()))?;
//! assert_eq!(head.headers["content-type"], "text/event-stream");
//!
//! // ...and a publisher, over the tower service.
//! let writer = mint(&key, &Claims::new().publish("*"))?;
//! let response = hub
//!     .clone()
//!     .oneshot(
//!         Request::post("/.well-known/mercure")
//!             .header("authorization", format!("Bearer {writer}"))
//!             .header("content-type", "application/x-www-form-urlencoded")
//!             .body("topic=https://example.com/books/1&data=hello&id=book-1".to_owned())?,
//!     )
//!     .await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let id = response.into_body().collect().await?.to_bytes();
//! assert_eq!(&id[..], b"book-1");
//!
//! use futures_util::StreamExt as _;
//! assert_eq!(&events.next().await.unwrap()[..], b": ok\n\n");
//! assert_eq!(&events.next().await.unwrap()[..], b"id: book-1\ndata: hello\n\n");
//! # Ok(())
//! # }
//! ```

mod config;
mod cors;
mod form;
mod head;
mod metadata;
mod publish;
mod query;
pub(crate) use query::url_pattern;
mod query_method;
mod resume;
mod service;
mod subscribe;
mod subscriptions;
mod text;

#[cfg(any(test, feature = "__fuzz"))]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;

use std::sync::Arc;

use http::request::Parts;
use http::{Response, StatusCode};
use push_core::Broker;
use push_http::head::text_response;
use push_sse::server::{Body, EventId};

pub use config::{DEFAULT_HEARTBEAT, DEFAULT_MAX_BODY, DEFAULT_MAX_ID_LEN, MercureConfig};
pub use form::{FormError, RESERVED, Update, is_reserved, parse_publish};
pub use head::{LAST_EVENT_ID, MERCURE_LAST_EVENT_ID, stream_head};
pub use metadata::METADATA_PATH;
pub use query::{
    MAX_SELECTOR_PARAMS, MatchType, Matcher, QueryError, SubscribeQuery, parse_subscribe,
};
pub use resume::{Resume, UUID_PREFIX, generate_id, resume};

use crate::auth::Authorizer;
pub use crate::auth::Revision;
use crate::ops::shutdown::Shutdown;

/// The hub's path: the Mercure URL and the root of its reserved namespace.
pub const HUB_PATH: &str = "/.well-known/mercure";

/// The response of every Mercure route over broker `B`.
pub type Answer<B> = Response<Body<<B as Broker>::Subscription>>;

/// A Mercure hub over broker `B`: [`subscribe`](Self::subscribe), [`publish`](Self::publish),
/// and a [`tower_service::Service`] for every `/.well-known/mercure…` route (see the
/// [module](self)).
///
/// Cheap to clone (the broker is a handle, the rest is shared).
pub struct Mercure<B> {
    broker: B,
    authorizer: Arc<Authorizer>,
    shared: Arc<SharedConfig>,
    shutdown: Option<Shutdown>,
}

/// What every clone shares: the configuration and what is derived from it once.
#[derive(Debug)]
struct SharedConfig {
    config: MercureConfig,
    cors: cors::Cors,
    sse: push_sse::server::Config,
    subscriptions: Option<subscriptions::Registry>,
}

impl<B: Clone> Clone for Mercure<B> {
    fn clone(&self) -> Self {
        Self {
            broker: self.broker.clone(),
            authorizer: Arc::clone(&self.authorizer),
            shared: Arc::clone(&self.shared),
            shutdown: self.shutdown.clone(),
        }
    }
}

impl<B> core::fmt::Debug for Mercure<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mercure")
            .field("config", &self.shared.config)
            .field("shutdown", &self.shutdown.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: Broker + Clone> Mercure<B> {
    /// A hub publishing to and subscribing from `broker`, authorizing with `authorizer`.
    pub fn new(broker: B, authorizer: Arc<Authorizer>, config: MercureConfig) -> Self {
        let sse = push_sse::server::Config::default()
            .with_keep_alive(config.heartbeat())
            .with_event_id(EventId::Own)
            .with_coalesce(config.coalesce());
        let shared = SharedConfig {
            cors: cors::Cors::new(config.cors_origins()),
            subscriptions: config
                .subscriptions()
                .then(subscriptions::Registry::default),
            sse,
            config,
        };
        Self {
            broker,
            authorizer,
            shared: Arc::new(shared),
            shutdown: None,
        }
    }

    /// Ends every open stream when `shutdown` fires (a graceful shutdown), each with its own
    /// jittered `retry:` hint ([`Shutdown::farewell`]) then the end of the stream; a subscriber
    /// that comes after gets the hint at once. The stream carries the hint itself, so every
    /// way of serving it (hyper, HTTP/2, the lean path) ends the same.
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = Some(shutdown);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &MercureConfig {
        &self.shared.config
    }

    /// The broker.
    pub fn broker(&self) -> &B {
        &self.broker
    }

    /// The authorizer.
    pub fn authorizer(&self) -> &Arc<Authorizer> {
        &self.authorizer
    }

    /// The hub's URL for `request` (see [`hub_url`]).
    fn hub_url(&self, request: &Parts) -> Option<url::Url> {
        hub_url(self.shared.config.public_url(), request)
    }

    /// `answer` with the CORS headers `request` gets.
    fn refuse(&self, request: &Parts, mut answer: Answer<B>) -> Answer<B> {
        self.shared
            .cors
            .apply(&request.headers, answer.headers_mut());
        answer
    }
}

/// The hub's URL for `request`: `public_url` when configured, else `http://` and its `Host`
/// (or its URI's authority) with the hub's path. Relative `match_urlpattern` values resolve
/// against it, on `/.well-known/mercure` and on the other transports alike.
pub(crate) fn hub_url(public_url: Option<&url::Url>, request: &Parts) -> Option<url::Url> {
    if let Some(url) = public_url {
        return Some(url.clone());
    }
    let host = request
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            let host = request.headers.get(http::header::HOST)?.to_str().ok()?;
            Some(host.to_owned())
        })?;
    let scheme = request.uri.scheme_str().unwrap_or("http");
    url::Url::parse(&format!("{scheme}://{host}{HUB_PATH}")).ok()
}

/// A text answer: the status and the message on a line.
fn text_answer<S>(status: StatusCode, message: impl core::fmt::Display) -> Response<Body<S>> {
    text_response(status, message).map(Body::text)
}
