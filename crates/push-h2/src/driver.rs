//! The connection driver: one HTTP/2 connection from handshake to GOAWAY, its push requests
//! answered by a [`Pusher`], every other request by any `tower_service::Service` (the
//! transports' `Endpoint`s, an axum `Router`).

use core::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use http::{Request, Response};
use http_body::{Body, Frame};
use tokio::io::{AsyncRead, AsyncWrite};

use push_net::{ConnectSender, H2Stream, OnConnect};

use crate::{DEFAULT_IDLE_TIMEOUT, Error, ParentStream, PushConfig, PushConnection, ServerConfig};

/// The requests a server pushes for: [`accepts`](Self::accepts) picks them, [`push`](Self::push)
/// answers them on their [`ParentStream`] (pushes, 103 Early Hints, the response).
pub trait Pusher: Clone + Send + Sync + 'static {
    /// Whether this request is answered by [`push`](Self::push) (and not by the service).
    fn accepts(&self, request: &Request<RecvStream>) -> bool;

    /// Answers a request [`accepts`](Self::accepts) took.
    fn push(
        &self,
        request: Request<RecvStream>,
        parent: ParentStream,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Runs one HTTP/2 connection on `io` until it ends: the handshake with `server`'s safe settings
/// and deadline, a [`PushConnection`] with `pushes`, each request in a task of its own —
/// those `pusher` accepts answered by it, the others by `service` (its response body sent as the
/// client's flow-control window takes it, within [`PushConfig::stall_timeout`]) — and a
/// graceful GOAWAY after [`DEFAULT_IDLE_TIMEOUT`] without a stream.
///
/// This is the one way to combine HTTP/2 push with the other transports on a server: their
/// `Endpoint`s (or a router holding them) are the `service`.
///
/// WebSocket over HTTP/2 (RFC 8441): the handshake advertises `SETTINGS_ENABLE_CONNECT_PROTOCOL`,
/// and an extended CONNECT goes to the service with an empty body and a
/// [`push_net::OnConnect`] in its extensions (as hyper hands its `OnUpgrade`); once the service
/// has answered 2xx the driver sends that head and hands the stream over as a
/// [`push_net::H2Stream`]. `push_ws`'s `Endpoint` (feature `h2`) takes it, so `/ws` serves
/// HTTP/2 clients on the same connection as pushes. A non-2xx answer is sent as any other.
///
/// # Errors
/// [`Error::Io`] when the handshake fails or times out, [`Error::H2`] when the connection
/// fails; a failure of one request is logged
/// and ends only that stream.
pub async fn drive<T, P, S, B>(
    io: T,
    server: &ServerConfig,
    pushes: PushConfig,
    pusher: P,
    service: S,
) -> Result<(), Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
    P: Pusher,
    S: tower_service::Service<Request<RequestBody>, Response = Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: fmt::Display + Send,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: fmt::Display + Send,
{
    let (mut connection, mut next) = crate::handshake(io, server).await.map_err(Error::Io)?;
    let pushes = PushConnection::new(pushes);
    while let Some((request, respond)) = next.take() {
        pushes.observe(&connection);
        if pusher.accepts(&request) {
            let parent = ParentStream::new(&pushes, &request, respond);
            let pusher = pusher.clone();
            tokio::spawn(async move {
                if let Err(error) = pusher.push(request, parent).await {
                    tracing_error("push", &error);
                }
            });
        } else {
            let stall = pushes.config().stall_timeout();
            tokio::spawn(answer(service.clone(), request, respond, stall));
        }
        next = match crate::accept_until_idle(&mut connection, DEFAULT_IDLE_TIMEOUT).await {
            Some(Ok(request)) => Some(request),
            Some(Err(error)) => return Err(error.into()),
            None => None,
        };
    }
    Ok(())
}

fn tracing_error(what: &str, error: &dyn fmt::Display) {
    // It concerns one stream, which has ended; the connection goes on.
    tracing::debug!(%error, "{what} failed on one stream");
}

/// Answers `request` with `service`, streaming its response body.
async fn answer<S, B>(
    mut service: S,
    request: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    stall: std::time::Duration,
) where
    S: tower_service::Service<Request<RequestBody>, Response = Response<B>>,
    S::Error: fmt::Display,
    B: Body<Data = Bytes>,
    B::Error: fmt::Display,
{
    let (mut parts, body) = request.into_parts();
    // An extended CONNECT (RFC 8441): the service gets an `OnConnect` instead of the body, and
    // the stream once it has answered 2xx.
    let (body, connect) = if parts.extensions.get::<h2::ext::Protocol>().is_some() {
        let (sender, on_connect) = OnConnect::pair();
        parts.extensions.insert(on_connect);
        (RequestBody(None), Some((sender, body)))
    } else {
        (RequestBody(Some(body)), None)
    };
    let request = Request::from_parts(parts, body);
    let response = match poll_fn(|cx| service.poll_ready(cx)).await {
        Ok(()) => service.call(request).await,
        Err(error) => Err(error),
    };
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            tracing_error("service", &error);
            respond.send_reset(Reason::INTERNAL_ERROR);
            return;
        }
    };
    if let Some((sender, recv)) = connect
        && response.status().is_success()
    {
        tunnel(response, respond, sender, recv);
        return;
    }
    let (parts, body) = response.into_parts();
    let end = body.is_end_stream();
    let Ok(send) = respond.send_response(Response::from_parts(parts, ()), end) else {
        return;
    };
    if !end {
        send_body(send, body, stall).await;
    }
}

/// Answers an extended CONNECT the service accepted (2xx): the head without its body (after a
/// 2xx the stream is the tunnel's), then the stream to the service's `OnConnect`. A 2xx nobody
/// claimed (the service dropped its `OnConnect`) is reset rather than left open to no one.
fn tunnel<B>(
    response: Response<B>,
    mut respond: SendResponse<Bytes>,
    sender: ConnectSender,
    recv: RecvStream,
) {
    if !sender.is_claimed() {
        tracing::debug!("a 2xx answer to an extended CONNECT that no one took the stream of");
        respond.send_reset(Reason::INTERNAL_ERROR);
        return;
    }
    let (parts, _body) = response.into_parts();
    let Ok(send) = respond.send_response(Response::from_parts(parts, ()), false) else {
        return;
    };
    // Should the service have let go meanwhile, the stream is dropped, which resets it.
    let _ = sender.send(H2Stream::new(send, recv));
}

/// Sends `body` on `send` as the window opens; stops when the client resets the stream, and
/// resets it when the window stays shut for `stall`.
async fn send_body<B>(mut send: SendStream<Bytes>, body: B, stall: std::time::Duration)
where
    B: Body<Data = Bytes>,
    B::Error: fmt::Display,
{
    let mut body = std::pin::pin!(body);
    loop {
        // The next frame, or the client resetting the stream first (an idle event stream).
        let frame = poll_fn(|cx| {
            if send.poll_reset(cx).is_ready() {
                return Poll::Ready(None);
            }
            body.as_mut().poll_frame(cx).map(Some)
        })
        .await;
        let frame = match frame {
            None => return,
            Some(None) => {
                let _ = send.send_data(Bytes::new(), true);
                return;
            }
            Some(Some(Ok(frame))) => frame,
            Some(Some(Err(error))) => {
                tracing_error("body", &error);
                send.send_reset(Reason::INTERNAL_ERROR);
                return;
            }
        };
        let frame = match frame.into_data() {
            Ok(mut data) => {
                while !data.is_empty() {
                    send.reserve_capacity(data.len());
                    let granted =
                        tokio::time::timeout(stall, poll_fn(|cx| send.poll_capacity(cx))).await;
                    let n = match granted {
                        Ok(Some(Ok(n))) => n.min(data.len()),
                        Ok(_) => return,
                        Err(_) => {
                            send.send_reset(Reason::CANCEL);
                            return;
                        }
                    };
                    if n > 0 && send.send_data(data.split_to(n), false).is_err() {
                        return;
                    }
                }
                continue;
            }
            Err(frame) => frame,
        };
        if let Ok(trailers) = frame.into_trailers() {
            let _ = send.send_trailers(trailers);
            return;
        }
    }
}

/// The body of a request the driver hands to the service: the h2 stream's DATA frames (the
/// window given back as they are read) and its trailers. Empty for an extended CONNECT, whose
/// stream goes to the service's [`OnConnect`] once it has answered 2xx.
#[derive(Debug)]
pub struct RequestBody(Option<RecvStream>);

impl Body for RequestBody {
    type Data = Bytes;
    type Error = h2::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        let Some(recv) = self.0.as_mut() else {
            return Poll::Ready(None);
        };
        match ready!(recv.poll_data(cx)) {
            Some(Ok(data)) => {
                let _ = recv.flow_control().release_capacity(data.len());
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(error))),
            None => match ready!(recv.poll_trailers(cx)) {
                Ok(Some(trailers)) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
                Ok(None) => Poll::Ready(None),
                Err(error) => Poll::Ready(Some(Err(error))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(RecvStream::is_end_stream)
    }
}
