//! The tower `Service` that answers WebSocket upgrades and runs the push protocol on the
//! connections hyper hands over.

use core::convert::Infallible;
use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::request::Parts;
use http::{Request, Response, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use push_core::{Broker, Resume};
use push_http::query::Query;
use push_http::{Hooks, Open, Refusal};

use super::drive::{Initial, PushHandler};
use super::retained::Retained;
use super::{Body, Config, run, websocket};

/// The WebSocket push endpoint as a `tower_service::Service`: mount it on a route of any hyper
/// or axum server (`axum::Router::route_service`), or behind any tower middleware.
///
/// For each request it:
/// 1. checks the upgrade against the [`Config`] (HTTP/1.1 `Upgrade: websocket`, or an HTTP/2
///    extended CONNECT when the server enables it; the Origin policy; the version; the
///    subprotocols) and answers a refusal with its status (400, 403, …) and a text body;
/// 2. asks `hooks.topics(&parts, &query)` (the query split once, as every transport does) for
///    an initial subscription from the URL (as SSE and long-poll requests do, e.g.
///    `/ws?topic=news&from=CURSOR`; `from` is read from the same split): an `Ok` selector is
///    authorized with `hooks.authorize` before the upgrade, and a refusal from either is the HTTP answer
///    (401 / 403 with its headers). Only the refusal that says the URL asks for no topic
///    ([`Refusal::is_no_topics`], the default hooks' answer to a URL without `topic=`) lets the
///    upgrade go ahead without an initial subscription: the client then subscribes with commands;
/// 3. answers `101 Switching Protocols` (or `200` to an extended CONNECT) and, once hyper has
///    switched protocols, runs the push protocol on the connection (in a task of its own) as
///    [`drive`](super::drive) does: the heartbeat, the [`Metered`](super::Metered) limits on incoming messages,
///    the close codes, and the hooks for every subscribe command, with this request's head.
///
/// The upgraded stream is wrapped in a [`StallGuard`](push_net::StallGuard) with [`Config::write_stall_timeout`]: a
/// peer that takes no bytes for that long is dropped. `TCP_USER_TIMEOUT`
/// (`push_net::configure_stream`) is the accept loop's to set: hyper does not hand the socket
/// back (`push_net::Acceptor` sets it; `push_net::serve_http` also guards writes).
///
/// The server connection must allow upgrades (`hyper::server::conn::http1::Builder::
/// serve_connection(..).with_upgrades()`, `hyper_util`'s `serve_connection_with_upgrades`,
/// `axum::serve` and `push_net::serve_http` do), or be `push_h2::drive` (feature `h2`: the
/// driver hands over an extended CONNECT's stream with push-net's `OnConnect`, so WebSocket
/// over HTTP/2 shares a port with HTTP/2 push); a request with neither handle is answered
/// with 500.
pub struct Endpoint<B, H = Open> {
    broker: B,
    config: Config,
    hooks: H,
}

impl<B: Broker + Clone> Endpoint<B> {
    /// An endpoint over `broker` with `config` and the [`Open`] hooks (topics from the query,
    /// public access for everyone); see [`with_hooks`](Self::with_hooks).
    pub fn new(broker: B, config: Config) -> Self {
        Self {
            broker,
            config,
            hooks: Open,
        }
    }
}

impl<B: Broker + Clone, H: Hooks> Endpoint<B, H> {
    /// The same endpoint with other hooks (which topics a request asks for, what it may have).
    pub fn with_hooks<H2: Hooks>(self, hooks: H2) -> Endpoint<B, H2> {
        Endpoint {
            broker: self.broker,
            config: self.config,
            hooks,
        }
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

    fn answer<ReqBody>(&self, mut request: Request<ReqBody>) -> ResponseFuture {
        let accepted = match self.config.check(&request) {
            Ok(accepted) => accepted,
            Err(refusal) => return ResponseFuture::ready(refusal.into_response().map(Body::from)),
        };
        let Some(upgrade) = Upgrade::take(&mut request) else {
            let message = "the server connection does not support upgrades";
            return ResponseFuture::ready(text(StatusCode::INTERNAL_SERVER_ERROR, message));
        };
        let (parts, _body) = request.into_parts();
        let (broker, hooks, config) =
            (self.broker.clone(), self.hooks.clone(), self.config.clone());
        ResponseFuture(Box::pin(async move {
            let initial = match initial(&hooks, &parts).await {
                Ok(initial) => initial,
                Err(refusal) => return Ok(refusal.into_response().map(Body::from)),
            };
            let handler = PushHandler::new(broker, hooks, Retained::new(parts), &config, initial);
            match upgrade {
                Upgrade::Hyper(on_upgrade) => tokio::spawn(async move {
                    match on_upgrade.await {
                        Ok(upgraded) => serve(TokioIo::new(upgraded), &config, handler).await,
                        Err(error) => tracing::debug!(%error, "the upgrade did not complete"),
                    }
                }),
                #[cfg(feature = "h2")]
                Upgrade::H2(on_connect) => tokio::spawn(async move {
                    match on_connect.await {
                        Ok(stream) => serve(stream, &config, handler).await,
                        Err(error) => {
                            tracing::debug!(%error, "the extended CONNECT did not complete")
                        }
                    }
                }),
            };
            Ok(accepted.response().map(|()| Body::empty()))
        }))
    }
}

/// Where the upgraded stream will come from: hyper's upgrade (HTTP/1.1 `101`, or an extended
/// CONNECT on hyper's HTTP/2 server), or the stream of an extended CONNECT that
/// `push_h2::drive` hands over after the `200` (feature `h2`).
enum Upgrade {
    Hyper(OnUpgrade),
    #[cfg(feature = "h2")]
    H2(push_net::OnConnect),
}

impl Upgrade {
    fn take<ReqBody>(request: &mut Request<ReqBody>) -> Option<Self> {
        let extensions = request.extensions_mut();
        if let Some(on_upgrade) = extensions.remove::<OnUpgrade>() {
            return Some(Self::Hyper(on_upgrade));
        }
        #[cfg(feature = "h2")]
        if let Some(on_connect) = extensions.remove::<push_net::OnConnect>() {
            return Some(Self::H2(on_connect));
        }
        None
    }
}

/// Runs the push protocol on an upgraded stream: writes guarded by the stall timeout, incoming
/// frames metered, the runner with `handler`.
async fn serve<S, B, H>(stream: S, config: &Config, handler: PushHandler<B, H>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
    B: Broker + Clone,
    H: Hooks,
{
    let ws = websocket(stream, config).await;
    match run(ws, config, handler).await {
        Ok(ended) => tracing::debug!(?ended, "websocket connection ended"),
        Err(error) => tracing::debug!(%error, "websocket connection failed"),
    }
}

/// The subscription the upgrade URL asks for, authorized, with the cursor it resumes after; `None`
/// when `hooks.topics` answers only that the request asks for no topic
/// ([`Refusal::is_no_topics`], as the default hooks do for a URL without `topic=`): the client
/// then subscribes with commands. Every other refusal is the answer, as the hook built it.
pub(crate) async fn initial<H: Hooks>(
    hooks: &H,
    parts: &Parts,
) -> Result<Option<Initial>, Refusal> {
    // One split of the query for the hooks and `from`, in a block: it ends before the
    // authorization's await, so the connection's future does not carry it.
    let (selector, from) = {
        let query = Query::of(&parts.uri);
        let selector = match hooks.topics(parts, &query) {
            Ok(selector) => selector,
            Err(refusal) if refusal.is_no_topics() => return Ok(None),
            Err(refusal) => return Err(refusal),
        };
        let from = match query.get("from") {
            Ok(None) => None,
            Ok(Some(text)) => Some(Resume::parse(&text)),
            Err(e) => return Err(Refusal::new(StatusCode::BAD_REQUEST, e.to_string())),
        };
        (selector, from)
    };
    let access = hooks.authorize(parts, &selector).await?;
    Ok(Some(Initial {
        selector,
        access,
        from,
    }))
}

fn text(status: StatusCode, message: &str) -> Response<Body> {
    push_http::head::text_response(status, message).map(Body::from)
}

impl<B: Clone, H: Clone> Clone for Endpoint<B, H> {
    fn clone(&self) -> Self {
        Self {
            broker: self.broker.clone(),
            config: self.config.clone(),
            hooks: self.hooks.clone(),
        }
    }
}

impl<B, H> fmt::Debug for Endpoint<B, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<B, H, ReqBody> tower_service::Service<Request<ReqBody>> for Endpoint<B, H>
where
    B: Broker + Clone,
    H: Hooks,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    /// Always ready: every connection is a task of its own.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> ResponseFuture {
        self.answer(request)
    }
}

/// The answer of an [`Endpoint`]: the `101`, or the refusal.
pub struct ResponseFuture(Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>);

impl ResponseFuture {
    fn ready(response: Response<Body>) -> Self {
        Self(Box::pin(std::future::ready(Ok(response))))
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
