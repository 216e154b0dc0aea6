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
    /// What the session handed out after a batch of `MESSAGE`s ended: sent next.
    held: Option<Option<Transmit>>,
}

/// A `MESSAGE` whose shared tail is shorter than this goes out as one WebSocket frame (joining
/// a few hundred bytes costs less than a second frame header and the client's reassembly);
/// a longer one as two fragments of one message, the tail the event's shared `Bytes`, so no
/// subscriber's frame copies the event's body before the socket's write buffer does.
const JOIN_BELOW: usize = 1024;

/// `MESSAGE` frames ready at once go out together, in one WebSocket message of up to this many
/// bytes (a frame is never split): STOMP frames are delimited by their NUL (or
/// `content-length`), so a message may carry several, and stomp.js, stomp.py and Spring's
/// decoder read them all. A burst then costs one WebSocket message per batch instead of one
/// per event, on both sides; a lone event still goes out at once, alone.
const BATCH_BYTES: usize = 8 * 1024;

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
        held: None,
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
        let next = match self.held.take() {
            Some(held) => Poll::Ready(held),
            None => self.session.poll_transmit(cx),
        };
        match next {
            Poll::Ready(Some(Transmit::Bytes(bytes))) => Poll::Ready(Some(message(bytes))),
            Poll::Ready(Some(Transmit::Message { head, tail, text })) => {
                let opcode = OpCode::Data(if text { Data::Text } else { Data::Binary });
                if text && head.len() + tail.len() < JOIN_BELOW {
                    return Poll::Ready(Some(self.batch(cx, &head, &tail)));
                }
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

impl<B, H, P> StompHandler<B, H, P>
where
    B: Broker + Clone,
    H: Hooks,
    P: Publish,
{
    /// A text message holding the small text `MESSAGE` `head` + `tail` and every one the
    /// session has ready behind it, up to [`BATCH_BYTES`]; whatever else comes next is held
    /// for the next call. A lone frame that is all shared goes out as it is (no copy).
    fn batch(&mut self, cx: &mut Context<'_>, head: &[u8], tail: &Bytes) -> Message {
        let text = OpCode::Data(Data::Text);
        let mut joined: Option<Vec<u8>> = None;
        loop {
            let size = joined.as_ref().map_or(head.len() + tail.len(), Vec::len);
            if size >= BATCH_BYTES {
                break;
            }
            match self.session.poll_transmit(cx) {
                Poll::Ready(Some(Transmit::Message {
                    head: more_head,
                    tail: more_tail,
                    text: true,
                })) if more_head.len() + more_tail.len() < JOIN_BELOW
                    && size + more_head.len() + more_tail.len() <= BATCH_BYTES =>
                {
                    let buffer = joined.get_or_insert_with(|| {
                        let mut first = Vec::with_capacity(BATCH_BYTES);
                        first.extend_from_slice(head);
                        first.extend_from_slice(tail);
                        first
                    });
                    buffer.extend_from_slice(&more_head);
                    buffer.extend_from_slice(&more_tail);
                }
                Poll::Ready(other) => {
                    self.held = Some(other);
                    break;
                }
                Poll::Pending => break,
            }
        }
        let payload = match joined {
            Some(buffer) => Bytes::from(buffer),
            None if head.is_empty() => tail.clone(),
            None => Bytes::from([head, &tail[..]].concat()),
        };
        Message::Frame(Frame::message(payload, text, true))
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
