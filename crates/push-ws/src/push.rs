//! The push protocol on a connection: client commands change the selection, the broker's
//! deliveries become `event` / `gap` messages, and one cursor runs through it all.

use std::collections::BTreeSet;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use push_core::{Broker, CloseReason, Cursor, Delivery, Selector, Subscription, Topic};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

use crate::connection::run;
use crate::handler::{ConnectionConfig, Handler, Outbox};
use crate::protocol::{Command, encode_error, encode_event, encode_gap, encode_subscribed};
use crate::{Ended, Error};

/// Serves the JSON push protocol (see the [crate documentation](crate#the-push-protocol)) on an
/// accepted connection until it ends, subscribing through `broker`.
///
/// The connection has one selection of topics and one cursor. A slow client never blocks the
/// publisher: events are pulled from the subscription only when the socket can take them, so
/// a lagging client falls behind in the broker, whose queue bound and overflow policy apply
/// (a `gap` message, or a close with [`ConnectionConfig::overflow_close_code`]).
pub async fn serve<S, B>(
    ws: WebSocketStream<S>,
    broker: B,
    config: &ConnectionConfig,
) -> Result<Ended, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    B: Broker,
{
    let handler = PushHandler {
        broker,
        topics: BTreeSet::new(),
        subscription: None,
        binary: None,
        overflow_close_code: config.overflow_close_code,
    };
    run(ws, config, handler).await
}

struct PushHandler<B: Broker> {
    broker: B,
    topics: BTreeSet<Topic>,
    subscription: Option<B::Subscription>,
    /// The binary data of the event whose announcement was just sent.
    binary: Option<Bytes>,
    overflow_close_code: u16,
}

impl<B: Broker> PushHandler<B> {
    fn apply(&mut self, command: Command) -> Result<String, String> {
        let current = self.subscription.as_ref().map(Subscription::cursor);
        let (topics, from) = match command {
            Command::Subscribe { topics, from } => {
                let mut all = self.topics.clone();
                all.extend(topics);
                (all, from.or(current))
            }
            Command::Unsubscribe { topics } => {
                let mut all = self.topics.clone();
                for t in &topics {
                    all.remove(t);
                }
                (all, current)
            }
        };
        if topics.is_empty() {
            self.topics.clear();
            self.subscription = None;
            return Ok(encode_subscribed(
                &[],
                current.unwrap_or_else(|| self.broker.head()),
            ));
        }
        let selector = Selector::new(topics.iter().cloned()).map_err(|e| e.to_string())?;
        let subscription = self
            .broker
            .subscribe(&selector, from, &push_core::Access::public())
            .map_err(|e| e.to_string())?;
        let cursor: Cursor = subscription.cursor();
        self.topics = topics;
        self.subscription = Some(subscription);
        Ok(encode_subscribed(selector.topics(), cursor))
    }
}

impl<B: Broker> Handler for PushHandler<B> {
    fn on_message(&mut self, message: Message, outbox: &mut Outbox) {
        let reply = match message {
            Message::Text(text) => match Command::parse(&text) {
                Ok(command) => self.apply(command).unwrap_or_else(|e| encode_error(&e)),
                Err(e) => encode_error(e.message()),
            },
            _ => encode_error("binary messages are not commands"),
        };
        outbox.push(Message::Text(reply.into()));
    }

    fn poll_outgoing(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        if let Some(data) = self.binary.take() {
            return Poll::Ready(Some(Message::Binary(data)));
        }
        let Some(subscription) = self.subscription.as_mut() else {
            return Poll::Pending;
        };
        let delivery = match std::pin::Pin::new(subscription).poll_next(cx) {
            Poll::Ready(d) => d,
            Poll::Pending => return Poll::Pending,
        };
        let message = match delivery {
            Some(Delivery::Event(published)) => {
                let (json, binary) = encode_event(&published);
                self.binary = binary;
                text_frame(json)
            }
            Some(Delivery::Gap(gap)) => Message::Text(encode_gap(&gap).into()),
            Some(Delivery::Closed(CloseReason::Overflow)) => close(
                CloseCode::from(self.overflow_close_code),
                "subscriber fell behind",
            ),
            Some(Delivery::Closed(_)) | None => close(CloseCode::Away, "broker shut down"),
        };
        Poll::Ready(Some(message))
    }
}

/// A text message of JSON we encoded (so valid UTF-8), as the frame tungstenite would build for
/// `Message::Text`: the shared bytes are neither copied nor validated again per connection.
fn text_frame(json: Bytes) -> Message {
    Message::Frame(Frame::message(json, OpCode::Data(Data::Text), true))
}

fn close(code: CloseCode, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
