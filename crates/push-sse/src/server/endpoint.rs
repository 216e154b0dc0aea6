//! The tower service that answers subscribe requests with an event stream.

use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_util::FutureExt as _;
use futures_util::future::Shared;
use http::header::{ALLOW, HeaderValue};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use push_core::Broker;
use push_http::head::{event_stream_response, text_response};
use push_http::query::Query;
use push_http::{Hooks, Open, Refusal};

use super::resume::resume_from;
use super::{Body, Config, Error, EventStream};

/// A signal that ends every open stream cleanly.
type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The response of an [`Endpoint`] over broker `B`.
type Answer<B> = Response<Body<<B as Broker>::Subscription>>;

/// A Server-Sent Events endpoint: a [`tower_service::Service`] that answers a `GET` with a
/// `text/event-stream` response streaming the topics the request asks for.
///
/// For each request it asks the hooks which topics ([`Hooks::topics`]; default: the `topic`
/// query parameters) and what the request may have ([`Hooks::authorize`]; default: public
/// events for everyone), resumes from the `Last-Event-ID` header or the `lastEventID` /
/// `last_event_id` query parameter ([`resume`](super::resume), placed by the broker), opens the subscription with the granted
/// [`Access`](push_core::Access), and answers with the head of
/// [`push_http::head::event_stream_response`] and a [`Body`] driven by an [`EventStream`],
/// which ends at the grant's [`until`](push_core::Access::until). A refusal of the hooks is
/// answered as it says (401, 403 with its headers), an [`Error`] with its status (400, 503) and
/// a text body; a method other than `GET` or `HEAD` with 405.
///
/// Cheap to clone (the broker is a handle, the rest is shared), always ready.
///
/// ```
/// use http::{Request, StatusCode};
/// use http_body_util::BodyExt;
/// use push_broker::MemoryBroker;
/// use push_sse::server::{Config, Endpoint};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let broker = MemoryBroker::default();
/// let sse = Endpoint::new(broker.clone(), Config::default());
///
/// // Mounted in axum as any tower service:
/// let _app: axum::Router = axum::Router::new().route_service("/events", sse.clone());
///
/// // Or called directly.
/// let request = Request::get("/events?topic=news").body(()).unwrap();
/// let response = sse.clone().oneshot(request).await.unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// let mut body = response.into_body();
/// let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
/// assert_eq!(&first[..], b": ok\n\n");
///
/// let refused = sse.oneshot(Request::get("/events").body(()).unwrap()).await.unwrap();
/// assert_eq!(refused.status(), StatusCode::BAD_REQUEST); // no topic
/// # }
/// ```
pub struct Endpoint<B, H = Open> {
    broker: B,
    config: Config,
    hooks: H,
    shutdown: Option<Shared<Shutdown>>,
}

impl<B: Clone, H: Clone> Clone for Endpoint<B, H> {
    fn clone(&self) -> Self {
        Self {
            broker: self.broker.clone(),
            config: self.config.clone(),
            hooks: self.hooks.clone(),
            shutdown: self.shutdown.clone(),
        }
    }
}

impl<B, H: core::fmt::Debug> core::fmt::Debug for Endpoint<B, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("config", &self.config)
            .field("hooks", &self.hooks)
            .field("shutdown", &self.shutdown.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: Broker + Clone> Endpoint<B> {
    /// An endpoint streaming `broker`'s events as configured, open to all ([`Open`] hooks).
    pub fn new(broker: B, config: Config) -> Self {
        Self {
            broker,
            config,
            hooks: Open,
            shutdown: None,
        }
    }
}

impl<B: Broker + Clone, H: Hooks> Endpoint<B, H> {
    /// Uses these hooks to read each request's topics and authorize it.
    pub fn with_hooks<H2: Hooks>(self, hooks: H2) -> Endpoint<B, H2> {
        Endpoint {
            broker: self.broker,
            config: self.config,
            hooks,
            shutdown: self.shutdown,
        }
    }

    /// Ends every open stream cleanly when `signal` completes (a server's graceful shutdown);
    /// a request that comes after gets a stream that ends at once.
    #[must_use]
    pub fn with_shutdown(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        let signal: Shutdown = Box::pin(signal);
        self.shutdown = Some(signal.shared());
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The hooks.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }

    /// The broker.
    pub fn broker(&self) -> &B {
        &self.broker
    }

    /// The answer to a request with this head: what [`call`](tower_service::Service::call)
    /// gives, for a server that holds the head without the request.
    pub async fn respond(&self, request: &Parts) -> Answer<B> {
        if request.method != Method::GET && request.method != Method::HEAD {
            return refused(
                Refusal::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "an event stream is read with GET",
                )
                .with_header(ALLOW, HeaderValue::from_static("GET, HEAD")),
            );
        }
        // One split of the query for the hooks and the resume parameters; read before the
        // authorization (its error is still answered after it), so the split is not kept
        // across the wait.
        let (selector, from) = {
            let query = Query::of(&request.uri);
            match self.hooks.topics(request, &query) {
                Ok(selector) => (selector, resume_from(request, &query)),
                Err(refusal) => return refused(refusal),
            }
        };
        let access = match self.hooks.authorize(request, &selector).await {
            Ok(access) => access,
            Err(refusal) => return refused(refusal),
        };
        let subscribed = from.and_then(|from| {
            let from = from.map(|resume| self.broker.place(&resume));
            self.broker
                .subscribe(&selector, from, &access)
                .map_err(Error::Broker)
        });
        let subscription = match subscribed {
            Ok(subscription) => subscription,
            Err(e) => return text(text_response(e.status(), &e)),
        };
        let mut events = EventStream::new(subscription, &self.config);
        if let Some(until) = access.until() {
            events = events.with_until(until);
        }
        if let Some(signal) = &self.shutdown {
            events = events.with_shutdown(signal.clone());
        }
        event_stream_response(Body::events(events))
    }
}

fn text<S>(response: Response<String>) -> Response<Body<S>> {
    response.map(Body::text)
}

fn refused<S>(refusal: Refusal) -> Response<Body<S>> {
    text(refusal.into_response())
}

impl<B, H, ReqBody> tower_service::Service<Request<ReqBody>> for Endpoint<B, H>
where
    B: Broker + Clone,
    H: Hooks,
{
    type Response = Answer<B>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Answer<B>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let this = self.clone();
        // The request body is not read: a subscribe request has none worth waiting for.
        let (parts, _) = request.into_parts();
        Box::pin(async move { Ok(this.respond(&parts).await) })
    }
}
