//! The tower `Service` that answers STOMP-over-WebSocket upgrades.

use core::convert::Infallible;
use core::fmt;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use push_core::Broker;
use push_http::{Hooks, Open};
use push_ws::server::{Body, run};

use super::handler::handler;
use crate::{NoPublish, Publish, Version};

/// The endpoint's configuration: push-ws's for the WebSocket (Origin, subprotocols, limits,
/// heartbeat, timeouts) and the STOMP session's.
///
/// The default WebSocket configuration is push-ws's with the subprotocols `v12.stomp`,
/// `v11.stomp`, `v10.stomp` (in that order of preference); a client that offers none is still
/// accepted and speaks the version its `CONNECT` asks for.
#[derive(Debug, Clone)]
pub struct Config {
    websocket: push_ws::server::Config,
    stomp: crate::Config,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            websocket: push_ws::server::Config::default()
                .with_protocols(Version::ALL.map(Version::subprotocol)),
            stomp: crate::Config::default(),
        }
    }
}

impl Config {
    /// Replaces the WebSocket configuration (keep the STOMP subprotocols in it).
    #[must_use]
    pub fn with_websocket(mut self, websocket: push_ws::server::Config) -> Self {
        self.websocket = websocket;
        self
    }

    /// The WebSocket configuration.
    pub fn websocket(&self) -> &push_ws::server::Config {
        &self.websocket
    }

    /// Replaces the STOMP session's configuration.
    #[must_use]
    pub fn with_stomp(mut self, stomp: crate::Config) -> Self {
        self.stomp = stomp;
        self
    }

    /// The STOMP session's configuration.
    pub fn stomp(&self) -> &crate::Config {
        &self.stomp
    }
}

/// STOMP over WebSocket as a `tower_service::Service`: mount it on a route of any hyper or axum
/// server (`axum::Router::route_service`), as push-ws's endpoint mounts.
///
/// For each request it checks the upgrade with [`Config::websocket`] (a refusal is the HTTP
/// answer: 400, 403 for a cross-site Origin, …), answers `101` with the agreed STOMP
/// subprotocol and runs a [`Session`](crate::Session) on the connection with
/// `push_ws::server::run`, in a task of its own. Unlike push-ws's endpoint it reads no topics
/// from the URL: a STOMP client subscribes with frames, each authorized by the hooks with this
/// request's head (and the `CONNECT` frame's credentials). `SEND` is authorized by the
/// [`Publish`] policy ([`NoPublish`] unless [`with_publish`](Self::with_publish)).
pub struct Endpoint<B, H = Open, P = NoPublish> {
    broker: B,
    config: Config,
    hooks: H,
    publish: P,
}

impl<B: Broker + Clone> Endpoint<B> {
    /// An endpoint over `broker` with `config`, the [`Open`] hooks and no publishing.
    pub fn new(broker: B, config: Config) -> Self {
        Self {
            broker,
            config,
            hooks: Open,
            publish: NoPublish,
        }
    }
}

impl<B: Broker + Clone, H: Hooks, P: Publish> Endpoint<B, H, P> {
    /// The same endpoint with other subscription hooks.
    pub fn with_hooks<H2: Hooks>(self, hooks: H2) -> Endpoint<B, H2, P> {
        Endpoint {
            broker: self.broker,
            config: self.config,
            hooks,
            publish: self.publish,
        }
    }

    /// The same endpoint with another publish policy.
    pub fn with_publish<P2: Publish>(self, publish: P2) -> Endpoint<B, H, P2> {
        Endpoint {
            broker: self.broker,
            config: self.config,
            hooks: self.hooks,
            publish,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn answer<ReqBody>(&self, mut request: Request<ReqBody>) -> ResponseFuture {
        let websocket = &self.config.websocket;
        let accepted = match websocket.check(&request) {
            Ok(accepted) => accepted,
            Err(refusal) => return ready(refusal.into_response().map(Body::from)),
        };
        let Some(on_upgrade) = request.extensions_mut().remove::<OnUpgrade>() else {
            let message = "the server connection does not support upgrades";
            let response =
                push_http::head::text_response(StatusCode::INTERNAL_SERVER_ERROR, message);
            return ready(response.map(Body::from));
        };
        let (parts, _body) = request.into_parts();
        let subprotocol = accepted.protocol().map(str::to_owned);
        let (broker, hooks, publish, config) = (
            self.broker.clone(),
            self.hooks.clone(),
            self.publish.clone(),
            self.config.clone(),
        );
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(error) => {
                    tracing::debug!(%error, "the upgrade did not complete");
                    return;
                }
            };
            let ws_config = &config.websocket;
            let ws = push_ws::server::websocket(TokioIo::new(upgraded), ws_config).await;
            let stomp = config.stomp.clone();
            let handler = handler(broker, hooks, publish, parts, stomp, subprotocol.as_deref());
            match run(ws, ws_config, handler).await {
                Ok(ended) => tracing::debug!(?ended, "stomp connection ended"),
                Err(error) => tracing::debug!(%error, "stomp connection failed"),
            }
        });
        ready(accepted.response().map(|()| Body::empty()))
    }
}

/// The answer of an [`Endpoint`]: the `101`, or the refusal, ready at once (nothing is
/// authorized before the upgrade).
pub type ResponseFuture = core::future::Ready<Result<Response<Body>, Infallible>>;

fn ready(response: Response<Body>) -> ResponseFuture {
    core::future::ready(Ok(response))
}

impl<B: Clone, H: Clone, P: Clone> Clone for Endpoint<B, H, P> {
    fn clone(&self) -> Self {
        Self {
            broker: self.broker.clone(),
            config: self.config.clone(),
            hooks: self.hooks.clone(),
            publish: self.publish.clone(),
        }
    }
}

impl<B, H, P> fmt::Debug for Endpoint<B, H, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<B, H, P, ReqBody> tower_service::Service<Request<ReqBody>> for Endpoint<B, H, P>
where
    B: Broker + Clone,
    H: Hooks,
    P: Publish,
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
