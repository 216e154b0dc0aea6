//! RFC 8441 WebSocket over HTTP/2 (extended CONNECT) on an `h2` server connection (feature
//! `h2`). (Behind hyper's HTTP/2 server, [`Endpoint`](super::Endpoint) answers extended
//! CONNECT requests itself.)
//!
//! The server enables the extended CONNECT protocol
//! (`h2::server::Builder::enable_connect_protocol`); the client opens a stream with
//! `:method CONNECT` and `:protocol websocket`; a `200` answer turns the stream into a
//! WebSocket byte stream (no `Sec-WebSocket-Key`, no `101`). [`H2Stream`] makes the stream an
//! `AsyncRead + AsyncWrite`, on which tungstenite runs unchanged, for servers and clients alike.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use h2::{RecvStream, SendStream};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::{Accepted, Config, Error, Metered, metered};

/// Accepts an extended CONNECT request received from `h2::server::Connection::accept`:
/// checks `:protocol websocket` and `config` (Origin policy, subprotocols), answers `200` and
/// returns the WebSocket on the stream, with the request's head (for
/// [`drive`](super::drive) and the hooks). A refused request gets its status and
/// [`Error::Refused`].
///
/// # Cancel safety
/// Cancel safe up to the response; after it, dropping the future resets the stream.
pub async fn accept(
    request: Request<RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    config: &Config,
) -> Result<(WebSocketStream<Metered<H2Stream>>, Accepted, Parts), Error> {
    let is_websocket = request
        .extensions()
        .get::<h2::ext::Protocol>()
        .is_some_and(|p| p.as_str().eq_ignore_ascii_case("websocket"));
    let decision = if is_websocket {
        config.check(&request)
    } else {
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::BAD_REQUEST;
        respond.send_response(response, true)?;
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "not an extended CONNECT for websocket",
        )));
    };
    let accepted = match decision {
        Ok(accepted) => accepted,
        Err(refusal) => {
            let (parts, body) = refusal.clone().into_response().into_parts();
            let mut send = respond.send_response(Response::from_parts(parts, ()), false)?;
            send.send_data(Bytes::from(body), true)?;
            return Err(Error::Refused(refusal));
        }
    };
    let send = respond.send_response(accepted.response(), false)?;
    let (parts, body) = request.into_parts();
    let stream = metered(H2Stream::new(send, body), config);
    let ws =
        WebSocketStream::from_raw_socket(stream, Role::Server, Some(config.websocket_config()))
            .await;
    Ok((ws, accepted, parts))
}

/// An HTTP/2 stream as a byte stream: what the peer sends is read, what is written goes out as
/// DATA frames within the stream's flow-control window.
#[derive(Debug)]
pub struct H2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// Received data not read yet.
    buffered: Bytes,
}

impl H2Stream {
    /// Joins the two halves of a stream (from `send_response` / `into_body` on a server, or
    /// `send_request` / the response body on a client).
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> Self {
        Self {
            send,
            recv,
            buffered: Bytes::new(),
        }
    }
}

fn to_io(e: h2::Error) -> io::Error {
    if e.is_io() {
        e.into_io()
            .unwrap_or_else(|| io::Error::other("h2 i/o error"))
    } else {
        io::Error::other(e)
    }
}

impl AsyncRead for H2Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while self.buffered.is_empty() {
            match ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    // Give the window back as soon as the data is ours.
                    let len = data.len();
                    let _ = self.recv.flow_control().release_capacity(len);
                    self.buffered = data;
                }
                Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = self.buffered.len().min(buf.remaining());
        buf.put_slice(&self.buffered[..n]);
        self.buffered.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.send.reserve_capacity(buf.len());
        loop {
            let capacity = self.send.capacity();
            if capacity > 0 {
                let n = capacity.min(buf.len());
                self.send
                    .send_data(Bytes::copy_from_slice(&buf[..n]), false)
                    .map_err(to_io)?;
                return Poll::Ready(Ok(n));
            }
            match ready!(self.send.poll_capacity(cx)) {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
                None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The h2 connection task writes queued DATA frames.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // End the stream; an error means it already ended or was reset.
        let _ = self.send.send_data(Bytes::new(), true);
        Poll::Ready(Ok(()))
    }
}
