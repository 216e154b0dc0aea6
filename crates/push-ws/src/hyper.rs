//! Upgrading hyper 1.x HTTP/1.1 requests (feature `hyper`).
//!
//! [`upgrade`] takes any `http::Request<B>` that carries hyper's upgrade handle, so the same
//! call works in a plain hyper service and in an axum handler (`axum::extract::Request`, served
//! by `axum::serve`), with the Origin policy that axum's own `WebSocketUpgrade` lacks.
//!
//! ```no_run
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use push_ws::{AcceptConfig, ConnectionConfig};
//!
//! async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
//!     let config = AcceptConfig::default();
//!     match push_ws::hyper::upgrade(req, &config) {
//!         Ok((response, upgrading)) => {
//!             tokio::spawn(async move {
//!                 if let Ok(ws) = upgrading.await {
//!                     let broker = push_broker::MemoryBroker::default();
//!                     let _ = push_ws::serve(ws, broker, &ConnectionConfig::default()).await;
//!                 }
//!             });
//!             Ok(response.map(|()| Full::default()))
//!         }
//!         Err(refusal) => Ok(refusal.response().map(|body| Full::new(Bytes::from(body)))),
//!     }
//! }
//! # let _ = handle;
//! ```

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::{AcceptConfig, Error, Metered, Refusal};

/// The WebSocket of an upgraded hyper connection.
pub type HyperWebSocket = WebSocketStream<Metered<TokioIo<Upgraded>>>;

/// Decides an upgrade request with [`AcceptConfig::check`]. On success, returns the `101`
/// response to send from the service and a future that resolves to the WebSocket once hyper
/// has switched protocols (spawn it: it completes only after the response is sent). On
/// refusal, send [`Refusal::response`].
///
/// The connection must be served with `hyper::server::conn::http1::Builder::serve_connection(..)
/// .with_upgrades()`.
pub fn upgrade<B>(
    request: Request<B>,
    config: &AcceptConfig,
) -> Result<(Response<()>, Upgrading), Refusal> {
    let accepted = config.check(&request)?;
    let on_upgrade = hyper::upgrade::on(request);
    let ws_config = config.websocket_config();
    let config = config.clone();
    let future = async move {
        let upgraded = on_upgrade.await?;
        let stream = Metered::new(TokioIo::new(upgraded), &config);
        Ok(WebSocketStream::from_raw_socket(stream, Role::Server, Some(ws_config)).await)
    };
    Ok((accepted.response(), Upgrading(Box::pin(future))))
}

/// Resolves to the WebSocket once hyper has switched protocols (see [`upgrade`]).
///
/// # Cancel safety
/// Dropping it drops the upgraded connection.
pub struct Upgrading(Pin<Box<dyn Future<Output = Result<HyperWebSocket, Error>> + Send>>);

impl Future for Upgrading {
    type Output = Result<HyperWebSocket, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for Upgrading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrading").finish_non_exhaustive()
    }
}
