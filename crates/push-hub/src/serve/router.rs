//! The router: one tower `Service` for every request of every protocol (HTTP/1.1 through hyper,
//! HTTP/2 through push-h2's driver), so a route behaves the same however it is reached.
//!
//! | path | answered by |
//! |---|---|
//! | `/.well-known/mercure…` | the Mercure endpoint (subscribe, publish, subscriptions) |
//! | `/ws` | push-ws's `Endpoint` with the hub's hooks; push-stomp's when the upgrade offers a STOMP subprotocol |
//! | `/stomp` | push-stomp's `Endpoint` (STOMP over WebSocket) with the hub's hooks |
//! | `/poll` | push-longpoll's `Endpoint` with the hub's hooks |
//! | `/healthz` | `200 ok` while the hub serves, `503` once it shuts down |
//! | `/metrics` | the Prometheus (OpenMetrics) text of [`Metrics`] and the callbacks' metrics |
//! | `/.well-known/push/callbacks…` | the callbacks API ([`crate::callbacks`]) |
//! | `/`, `/login`, `/push.js` | the embedded pages ([`crate::pages`]) |
//!
//! Around the endpoints the router keeps the operational rules: the stream quotas per client
//! address and per token (429), the publish rate (429), the count of streams per transport,
//! the shutdown (held polls answered 503 with a jittered `Retry-After`; event streams end with
//! a jittered `retry:` of their own, see [`crate::mercure::Mercure::with_shutdown`]), the count of authorization failures, and one access-log line per
//! request, which names the path but never the query (it may hold a token).

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, IF_NONE_MATCH};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, response};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;

use super::body::{
    BoxError, Holding, HubBody, StreamGauge, boxed, boxed_response, retry_later, text,
};
use super::tracked::Connection;
use super::{HubBroker, HubHooks};
use push_sse::server::EventStream;

use crate::ops::backend::{Backend, BackendSubscription};
use crate::ops::forwarded::TrustedProxies;
use crate::ops::metered::MeteredSubscription;
use crate::ops::metrics::{Metrics, Refused, Transport};
use crate::ops::quota::{Key, Quotas};
use crate::ops::shutdown::{Shutdown, or_shutdown};
use crate::pages;

/// What every connection's router shares.
pub(crate) struct Shared {
    pub(crate) ws: push_ws::server::Endpoint<HubBroker, HubHooks>,
    /// STOMP over WebSocket (`/ws` with a STOMP subprotocol, and `/stomp`).
    pub(crate) stomp: push_stomp::server::Endpoint<HubBroker, HubHooks, HubHooks>,
    pub(crate) poll: push_longpoll::server::Endpoint<HubBroker, HubHooks>,
    pub(crate) metrics: Arc<Metrics>,
    /// The broker, for its health (`/healthz`, `/metrics`, new streams refused while down).
    pub(crate) backend: Backend,
    pub(crate) quotas: Quotas,
    pub(crate) proxies: TrustedProxies,
    pub(crate) shutdown: Shutdown,
    pub(crate) cookie_name: String,
    /// The Mercure endpoint, when the build has one.
    pub(crate) mercure: Option<MercureHandler>,
    /// Mercure's subscribe, for the lean path (plain HTTP/1.1 subscribers).
    pub(crate) subscribe: Option<SubscribeFn>,
    /// The callbacks API (`/.well-known/push/callbacks…`).
    pub(crate) callbacks: Option<Arc<crate::callbacks::Callbacks>>,
}

/// The subscriptions of the hub's broker.
pub type HubSubscription = MeteredSubscription<BackendSubscription>;

/// Mercure's subscribe as the lean path calls it: a request head to the response head and the
/// event stream, or the answer of a refusal.
pub type SubscribeFn = Arc<
    dyn Fn(&Parts) -> Result<(response::Parts, EventStream<HubSubscription>), Response<HubBody>>
        + Send
        + Sync,
>;

impl Shared {
    /// The address quotas count against (the forwarded client behind a trusted proxy).
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        self.proxies.client(peer, headers)
    }

    /// The quota keys of a request: its client address, and its token when it presents one.
    pub(crate) fn keys(&self, peer: IpAddr, parts: &Parts) -> Vec<Key> {
        let mut keys = vec![Key::Address(self.client(peer, &parts.headers))];
        if let Some(token) = presented_token(parts, &self.cookie_name) {
            keys.push(self.quotas.token_key(&token));
        }
        keys
    }
}

/// The Mercure endpoint as the router calls it: any request of `/.well-known/mercure…`, its
/// body boxed, to a response.
pub type MercureHandler = Arc<
    dyn Fn(Request<HubBody>) -> Pin<Box<dyn Future<Output = Response<HubBody>> + Send>>
        + Send
        + Sync,
>;

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// The router of one connection (cheap to clone: two pointers).
#[derive(Debug, Clone)]
pub struct Router {
    shared: Arc<Shared>,
    connection: Arc<Connection>,
}

/// The router's future.
pub type RouterFuture = Pin<Box<dyn Future<Output = Result<Response<HubBody>, Infallible>> + Send>>;

/// Where a path goes.
#[derive(Debug, Clone, Copy)]
enum Route {
    Mercure,
    WebSocket,
    Stomp,
    Poll,
    Health,
    Metrics,
    Callbacks,
    WebPush,
    Page(&'static pages::Page),
    NotFound,
}

impl Route {
    fn of(path: &str) -> Self {
        match path {
            "/.well-known/mercure" => Self::Mercure,
            _ if path.starts_with("/.well-known/mercure/") => Self::Mercure,
            // Mercure 1.0's protected-resource metadata (RFC 9728), which Mercure answers.
            "/.well-known/oauth-protected-resource/.well-known/mercure" => Self::Mercure,
            "/ws" => Self::WebSocket,
            "/stomp" => Self::Stomp,
            "/poll" => Self::Poll,
            "/healthz" => Self::Health,
            "/metrics" => Self::Metrics,
            _ if crate::callbacks::is_callbacks_path(path) => Self::Callbacks,
            _ if crate::webpush::is_webpush_path(path) => Self::WebPush,
            _ => pages::find(path).map_or(Self::NotFound, Self::Page),
        }
    }
}

impl Router {
    /// The router for requests arriving on `connection`.
    pub(crate) fn new(shared: Arc<Shared>, connection: Arc<Connection>) -> Self {
        Self { shared, connection }
    }

    fn answer<ReqBody>(&self, request: Request<ReqBody>) -> RouterFuture
    where
        ReqBody: Body<Data = Bytes> + Send + 'static,
        ReqBody::Error: Into<BoxError>,
    {
        let shared = &self.shared;
        let route = Route::of(request.uri().path());
        let streams = matches!(
            route,
            Route::WebSocket | Route::Stomp | Route::Poll | Route::Mercure
        );
        if shared.shutdown.is_triggered() && streams {
            let after = shared.shutdown.jittered_retry();
            return ready(retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting down",
                after,
            ));
        }
        if let Some(refused) = super::health::refuse(shared, streams) {
            return ready(refused);
        }
        match route {
            Route::Health => ready(super::health::answer(shared)),
            Route::Metrics => ready(self.metrics()),
            Route::Page(page) => {
                let answer = page.answer(request.method(), request.headers().get(IF_NONE_MATCH));
                ready(boxed_response(answer.map(Full::new)))
            }
            Route::NotFound => ready(text(StatusCode::NOT_FOUND, "no such route\n")),
            // One WebSocket endpoint, the protocol chosen by the subprotocol the client offers.
            Route::WebSocket if push_stomp::server::offers_stomp(request.headers()) => {
                self.upgrade(request, self.shared.stomp.clone())
            }
            Route::WebSocket => self.upgrade(request, self.shared.ws.clone()),
            Route::Stomp => self.upgrade(request, self.shared.stomp.clone()),
            Route::Poll => self.poll(request),
            Route::Mercure => self.mercure(request),
            Route::Callbacks => match self.shared.callbacks.clone() {
                Some(callbacks) => {
                    let request = request.map(boxed);
                    Box::pin(async move { Ok(crate::callbacks::answer(callbacks, request).await) })
                }
                None => ready(text(StatusCode::NOT_FOUND, "no such route\n")),
            },
            Route::WebPush => match self.shared.callbacks.clone() {
                Some(callbacks) => {
                    let request = request.map(boxed);
                    Box::pin(async move { Ok(crate::webpush::answer(callbacks, request).await) })
                }
                None => ready(text(StatusCode::NOT_FOUND, "no such route\n")),
            },
        }
    }

    fn metrics(&self) -> Response<HubBody> {
        super::health::update(&self.shared);
        let mut encoded = self.shared.metrics.encode();
        if let Some(callbacks) = &self.shared.callbacks
            && let Some(head) = encoded.strip_suffix("# EOF\n")
        {
            encoded = format!("{head}{}# EOF\n", callbacks.metrics_text());
        }
        let mut response = text(StatusCode::OK, encoded);
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        );
        response
    }

    fn client(&self, headers: &HeaderMap) -> IpAddr {
        self.shared.client(self.connection.peer().ip(), headers)
    }

    fn keys(&self, parts: &Parts) -> Vec<Key> {
        self.shared.keys(self.connection.peer().ip(), parts)
    }

    /// A WebSocket (`/ws`, `/stomp`) through `endpoint`, behind the stream quota. Over HTTP/1.1
    /// the WebSocket is the connection (the permit and the stream gauge are held until it
    /// closes); over HTTP/2 (RFC 8441, push-h2's driver) it is one stream of many, so the permit
    /// and the gauge go with that stream (`OnConnect::holding`) and are given back when the
    /// WebSocket ends.
    fn upgrade<ReqBody, E>(&self, request: Request<ReqBody>, mut endpoint: E) -> RouterFuture
    where
        ReqBody: Send + 'static,
        E: Service<
                Request<ReqBody>,
                Response = Response<push_ws::server::Body>,
                Error = Infallible,
            > + Send
            + 'static,
        E::Future: Send,
    {
        let (mut parts, body) = request.into_parts();
        let permit = match self
            .shared
            .quotas
            .open_stream(&self.keys(&parts), Instant::now())
        {
            Ok(permit) => permit,
            Err(after) => return self.refuse(Refused::StreamQuota, after),
        };
        let connection = Arc::clone(&self.connection);
        let gauge = self.shared.metrics.streams(Transport::WebSocket).clone();
        if let Some(on_connect) = parts.extensions.remove::<push_net::OnConnect>() {
            let held = Box::new((permit, StreamGauge::new(&gauge)));
            parts.extensions.insert(on_connect.holding(held));
            return Box::pin(async move {
                let Ok(response) = endpoint.call(Request::from_parts(parts, body)).await;
                Ok(boxed_response(response))
            });
        }
        Box::pin(async move {
            let Ok(response) = endpoint.call(Request::from_parts(parts, body)).await;
            if response.status() == StatusCode::SWITCHING_PROTOCOLS {
                // The WebSocket lives on this connection's stream: count it until that closes.
                connection.hold(Box::new((permit, StreamGauge::new(&gauge))));
            }
            Ok(boxed_response(response))
        })
    }

    fn poll<ReqBody: Send + 'static>(&self, request: Request<ReqBody>) -> RouterFuture {
        let (parts, body) = request.into_parts();
        let permit = match self
            .shared
            .quotas
            .open_stream(&self.keys(&parts), Instant::now())
        {
            Ok(permit) => permit,
            Err(after) => return self.refuse(Refused::StreamQuota, after),
        };
        let mut poll = self.shared.poll.clone();
        let shutdown = self.shared.shutdown.clone();
        let gauge = StreamGauge::new(self.shared.metrics.streams(Transport::LongPoll));
        Box::pin(async move {
            let answer = poll.call(Request::from_parts(parts, body));
            let response = or_shutdown(answer, &shutdown).await;
            drop((permit, gauge));
            Ok(match response {
                Some(Ok(response)) => boxed_response(response),
                // Shutting down: come back later, not all at once.
                None => retry_later(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "shutting down",
                    shutdown.jittered_retry(),
                ),
            })
        })
    }

    /// `/.well-known/mercure…`: the Mercure endpoint ([`Shared::mercure`]), with the publish
    /// rate quota in front of a publish and, around a subscription, the stream quota and the
    /// SSE stream gauge (the stream's shutdown `retry:` hint is the endpoint's). Without an endpoint the route answers
    /// 503, so a client sees a clear "not here", never a 404.
    fn mercure<ReqBody>(&self, request: Request<ReqBody>) -> RouterFuture
    where
        ReqBody: Body<Data = Bytes> + Send + 'static,
        ReqBody::Error: Into<BoxError>,
    {
        let Some(handler) = self.shared.mercure.clone() else {
            return ready(text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the Mercure endpoint is not available in this build\n",
            ));
        };
        let (parts, body) = request.into_parts();
        let keys = self.keys(&parts);
        let now = Instant::now();
        if parts.method == Method::POST
            && let Err(after) = self.shared.quotas.publish(&keys, now)
        {
            return self.refuse(Refused::PublishQuota, after);
        }
        let subscribe = (matches!(parts.method, Method::GET | Method::HEAD)
            || parts.method.as_str() == "QUERY")
            && parts.uri.path() == "/.well-known/mercure";
        let permit = if subscribe {
            match self.shared.quotas.open_stream(&keys, now) {
                Ok(permit) => Some(permit),
                Err(after) => return self.refuse(Refused::StreamQuota, after),
            }
        } else {
            None
        };
        let gauge = self.shared.metrics.streams(Transport::Sse).clone();
        let request = Request::from_parts(parts, boxed(body));
        Box::pin(async move {
            let response = handler(request).await;
            let is_stream = response
                .headers()
                .get(CONTENT_TYPE)
                .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
            if !is_stream {
                return Ok(response);
            }
            let held = (permit, StreamGauge::new(&gauge));
            Ok(response.map(|body| boxed(Holding::new(body, held))))
        })
    }

    fn refuse(&self, limit: Refused, after: std::time::Duration) -> RouterFuture {
        self.shared.metrics.refused(limit);
        ready(retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            "quota exceeded",
            after,
        ))
    }
}

fn ready(response: Response<HubBody>) -> RouterFuture {
    Box::pin(std::future::ready(Ok(response)))
}

/// The token a request presents, wherever it is (`Authorization: Bearer`, the `authorization`
/// query parameter, the cookie): only its identity matters here (quotas), never its validity.
fn presented_token(parts: &Parts, cookie_name: &str) -> Option<String> {
    if let Some(value) = parts.headers.get(AUTHORIZATION)
        && let Ok(value) = value.to_str()
        && let Some(token) = value.strip_prefix("Bearer ")
    {
        return Some(token.trim().to_owned());
    }
    let query = parts.uri.query().unwrap_or("").as_bytes();
    if let Ok(Some(token)) = push_http::query::query_param(query, "authorization") {
        return Some(token.into_owned());
    }
    push_http::grammar::cookie_values(&parts.headers, cookie_name)
        .next()
        .map(str::to_owned)
}

impl<ReqBody> Service<Request<ReqBody>> for Router
where
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<HubBody>;
    type Error = Infallible;
    type Future = RouterFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> RouterFuture {
        let started = Instant::now();
        let method: Method = request.method().clone();
        let path = request.uri().path().to_owned();
        let client = self.client(request.headers());
        let metrics = Arc::clone(&self.shared.metrics);
        let answer = self.answer(request);
        Box::pin(async move {
            let Ok(response) = answer.await;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                metrics.auth_failures.inc();
            }
            tracing::info!(
                target: "push_hub::access",
                %method,
                path,
                status = status.as_u16(),
                %client,
                micros = started.elapsed().as_micros() as u64,
            );
            Ok(response)
        })
    }
}
