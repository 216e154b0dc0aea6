//! A [`Session`] as a push-ws [`Handler`]: WebSocket messages in, frames out, its heart-beat
//! deadline on a tokio timer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::request::Parts;
use push_core::Broker;
use push_http::Hooks;
use push_ws::server::{Handler, Outbox};
use tokio::time::Sleep;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

use crate::{Config, Publish, Session, Transmit};

/// A STOMP session plugged into [`push_ws::server::run`]; made by [`handler`].
pub struct StompHandler<B: Broker, H, P> {
    session: Session<B, H, P>,
    timer: Option<Pin<Box<Sleep>>>,
    /// The last fragment of a `MESSAGE` whose first one went out: sent before anything else.
    continuation: Option<Frame>,
}

/// A `MESSAGE` whose shared tail is shorter than this goes out as one WebSocket frame (joining
/// a few hundred bytes costs less than a second frame header and the client's reassembly);
/// a longer one as two fragments of one message, the tail the event's shared `Bytes`, so no
/// subscriber's frame copies the event's body before the socket's write buffer does.
const JOIN_BELOW: usize = 1024;

/// The [`Handler`] that runs STOMP on a connection accepted with push-ws (`accept`,
/// `h2::accept`, or an upgrade of your own), for [`push_ws::server::run`]. `request` is the
/// upgrade request's head (what the hooks authorize), `subprotocol` the one agreed, if any.
pub fn handler<B, H, P>(
    broker: B,
    hooks: H,
    publish: P,
    request: Parts,
    config: Config,
    subprotocol: Option<&str>,
) -> StompHandler<B, H, P>
where
    B: Broker + Clone,
    H: Hooks,
    P: Publish,
{
    let session = Session::new(broker, hooks, publish, request, config, subprotocol, now());
    StompHandler {
        session,
        timer: None,
        continuation: None,
    }
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl<B, H, P> Handler for StompHandler<B, H, P>
where
    B: Broker + Clone,
    H: Hooks,
    P: Publish,
{
    fn on_message(&mut self, message: Message, _outbox: &mut Outbox) {
        match message {
            Message::Text(text) => self.session.handle_bytes(text.as_bytes(), now()),
            Message::Binary(data) => self.session.handle_bytes(&data, now()),
            _ => {}
        }
    }

    fn poll_outgoing(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        if let Some(last) = self.continuation.take() {
            return Poll::Ready(Some(Message::Frame(last)));
        }
        if let Some(at) = self.session.poll_timeout() {
            let at = tokio::time::Instant::from_std(at);
            let timer = self
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
            if timer.deadline() != at {
                timer.as_mut().reset(at);
            }
            if timer.as_mut().poll(cx).is_ready() {
                self.session.handle_timeout(now());
            }
        }
        match self.session.poll_transmit(cx) {
            Poll::Ready(Some(Transmit::Bytes(bytes))) => Poll::Ready(Some(message(bytes))),
            Poll::Ready(Some(Transmit::Message { head, tail, text })) => {
                let opcode = OpCode::Data(if text { Data::Text } else { Data::Binary });
                if head.is_empty() {
                    return Poll::Ready(Some(Message::Frame(Frame::message(tail, opcode, true))));
                }
                if tail.len() < JOIN_BELOW {
                    let joined = [&head[..], &tail[..]].concat();
                    return Poll::Ready(Some(Message::Frame(Frame::message(joined, opcode, true))));
                }
                let last = Frame::message(tail, OpCode::Data(Data::Continue), true);
                self.continuation = Some(last);
                Poll::Ready(Some(Message::Frame(Frame::message(head, opcode, false))))
            }
            Poll::Ready(Some(Transmit::Close)) => {
                Poll::Ready(Some(Message::Close(Some(CloseFrame {
                    code: CloseCode::Normal,
                    reason: "".into(),
                }))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.session.poll_ready(cx)
    }
}

/// A frame as a text message when it is UTF-8 (what browser clients expect), binary otherwise.
/// The text frame is built as tungstenite would build it for `Message::Text`, without a second
/// validation.
fn message(bytes: Bytes) -> Message {
    if core::str::from_utf8(&bytes).is_ok() {
        Message::Frame(Frame::message(bytes, OpCode::Data(Data::Text), true))
    } else {
        Message::Binary(bytes)
    }
}

impl<B: Broker, H, P> core::fmt::Debug for StompHandler<B, H, P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StompHandler")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}
