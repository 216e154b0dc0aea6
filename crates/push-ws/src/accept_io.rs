//! Accepting on a byte stream (a TCP connection, a Unix socket, a TLS stream): the HTTP/1.1
//! handshake by tokio-tungstenite, the decision by [`AcceptConfig::check`].

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

use crate::{AcceptConfig, Accepted, Error};

/// Reads the upgrade request from `stream`, applies `config` (Origin policy, subprotocols,
/// limits) and completes the handshake.
///
/// A refused request gets its 403 / 400 response and [`Error::Refused`]; a request that is not
/// a WebSocket upgrade at all is dropped by tungstenite without a response and reported as
/// [`Error::WebSocket`] (serve plain HTTP through the `hyper` adapter to answer such requests).
///
/// # Cancel safety
/// Not cancel safe: dropping the future drops the half-done handshake and the stream with it.
/// Bound it with `tokio::time::timeout` so a peer that never sends its request costs nothing.
pub async fn accept<S>(
    stream: S,
    config: &AcceptConfig,
) -> Result<(WebSocketStream<S>, Accepted), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut outcome: Option<Result<Accepted, crate::Refusal>> = None;
    let seen = &mut outcome;
    // The error type is tungstenite's `ErrorResponse`, an `http::Response`.
    #[allow(clippy::result_large_err)]
    let callback = move |request: &Request, mut response: Response| {
        let decision = config.check(request);
        let result = match &decision {
            Ok(accepted) => {
                if let Some(p) = accepted
                    .response()
                    .headers()
                    .get(http::header::SEC_WEBSOCKET_PROTOCOL)
                {
                    response
                        .headers_mut()
                        .insert(http::header::SEC_WEBSOCKET_PROTOCOL, p.clone());
                }
                Ok(response)
            }
            Err(refusal) => {
                let (parts, body) = refusal.response().into_parts();
                Err(ErrorResponse::from_parts(parts, Some(body)))
            }
        };
        *seen = Some(decision);
        result
    };
    let result = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        callback,
        Some(config.websocket_config()),
    )
    .await;
    match (result, outcome) {
        (Ok(ws), Some(Ok(accepted))) => Ok((ws, accepted)),
        (_, Some(Err(refusal))) => Err(Error::Refused(refusal)),
        (Err(e), _) => Err(e.into()),
        // Unreachable: the callback runs before tungstenite reports success.
        (Ok(ws), None) => Ok((ws, Accepted::default())),
    }
}
