//! The push protocol on one connection: client commands change the selection (each subscribe
//! authorized by the hooks with the upgrade request's head), the broker's deliveries become
//! `event` / `gap` messages, and one cursor runs through it all.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http::request::Parts;
use push_core::{
    Access, Broker, CloseReason, Cursor, Delivery, Pattern, Resume, Selector, Subscription, Topic,
};
use push_http::{Hooks, Refusal};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Sleep;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

use super::retained::Retained;
use super::{Config, Ended, Error, Handler, Outbox, run};
use crate::protocol::{
    Command, encode_error, encode_event, encode_gap, encode_refusal, encode_subscribed,
};

/// Runs the JSON push protocol (see the [crate documentation](crate#the-push-protocol)) on an
/// accepted connection until it ends, subscribing through `broker`.
///
/// `request` is the head of the upgrade request (as [`accept`](super::accept) returns it). As
/// [`Endpoint`](super::Endpoint) does, `drive` first asks `hooks.topics(&request, &query)` (the
/// URL's query, split once) for the topics of the URL (`?topic=..&from=CURSOR`) and authorizes
/// them: the connection starts subscribed, without topics when the hooks answer only that the
/// URL asks for none
/// ([`Refusal::is_no_topics`]). Any other refusal closes the connection with 1008 and its message
/// (the upgrade is done: no HTTP answer is possible) and is returned as [`Error::Refused`]; to
/// answer it with its HTTP status instead, use the [`Endpoint`](super::Endpoint). Every
/// subscribe command is authorized with `hooks.authorize(&request, &selection)`, where
/// `selection` is the connection's whole selection after the command; a refusal is answered with
/// an `error` message carrying its status and the connection stays up with its selection
/// unchanged. The granted [`Access`] goes to `broker.subscribe`. While an authorization is under
/// way the connection reads no further command, so commands take effect in order.
///
/// When the granted access has a deadline ([`Access::until`]), the connection is closed with
/// 1008 "expired" at that instant (a timer, so an idle connection closes on time too; the
/// broker also ends the subscription then): every authorization on the connection reads the
/// same request, so its credentials expire for the whole connection, not for one subscription.
///
/// A slow client never blocks the publisher: events are pulled from the subscription only when
/// the socket can take them, so a lagging client falls behind in the broker, whose queue bound
/// and overflow policy apply (a `gap` message, or a close with
/// [`Config::overflow_close_code`]).
pub fn drive<'a, S, B, H>(
    ws: WebSocketStream<S>,
    request: Parts,
    broker: B,
    hooks: H,
    config: &'a Config,
) -> impl Future<Output = Result<Ended, Error>> + 'a
where
    S: AsyncRead + AsyncWrite + Unpin + 'a,
    B: Broker,
    H: Hooks,
{
    // The arguments wait for the first authorization in one allocation, freed once they move
    // into the connection's state: an `async fn` would keep them in its own state beside that
    // state for the connection's whole life (an idle connection is mostly this future).
    let args = Box::new((ws, request, broker, hooks));
    async move {
        let initial = match super::endpoint::initial(&args.3, &args.1).await {
            Ok(initial) => initial,
            Err(refusal) => {
                let mut ws = args.0;
                // The upgrade is done: no HTTP answer is possible, so the refusal closes the
                // connection (1008 with the refusal's message, cut to fit a close frame).
                let reason = close_reason(refusal.message());
                let frame = CloseFrame {
                    code: CloseCode::Policy,
                    reason: reason.into(),
                };
                // The peer may be gone already; the refusal is the error either way.
                let _ = ws.close(Some(frame)).await;
                return Err(Error::Refused(refusal));
            }
        };
        let (ws, request, broker, hooks) = *args;
        let handler = PushHandler::new(broker, hooks, Retained::new(request), config, initial);
        run(ws, config, handler).await
    }
}

/// `message` cut at a character boundary to the 123 bytes a close frame's reason may hold.
fn close_reason(message: &str) -> &str {
    let mut end = message.len().min(123);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

/// A connection's selection: each pattern under the text it was asked for with (a command's
/// topic is read as Mercure reads a selector: `*`, an RFC 6570 URI template, or else the exact
/// topic; the URL's arrive as the hooks' selector made them, URL patterns included).
type Selection = BTreeMap<String, Pattern>;

fn selector_of(selection: &Selection) -> Result<Selector, push_core::Error> {
    Selector::new(selection.values().cloned())
}

/// The first subscription of a connection, authorized before the upgrade (the topics of the
/// upgrade URL).
pub(crate) struct Initial {
    pub(crate) selector: Selector,
    pub(crate) access: Access,
    /// Where to resume (the URL's `from`), placed by the broker when the handler starts.
    pub(crate) from: Option<Resume>,
}

/// An authorization under way: the hooks' answer and what to subscribe to once it comes.
struct Pending {
    answer: Pin<Box<dyn Future<Output = Result<Access, Refusal>> + Send>>,
    topics: Selection,
    from: Option<Cursor>,
}

pub(crate) struct PushHandler<B: Broker, H> {
    broker: B,
    hooks: H,
    request: Retained,
    topics: Selection,
    /// What the last authorization granted (reused when topics are removed).
    access: Access,
    subscription: Option<B::Subscription>,
    pending: Option<Pending>,
    /// The answer to the last command, sent before anything else the handler produces.
    reply: Option<Message>,
    /// The binary data of the event whose announcement was just sent.
    binary: Option<Bytes>,
    /// The end of the granted access.
    expiry: Option<Pin<Box<Sleep>>>,
    overflow_close_code: u16,
}

impl<B: Broker, H: Hooks> PushHandler<B, H> {
    pub(crate) fn new(
        broker: B,
        hooks: H,
        request: Retained,
        config: &Config,
        initial: Option<Initial>,
    ) -> Self {
        let mut handler = Self {
            broker,
            hooks,
            request,
            topics: Selection::new(),
            access: Access::public(),
            subscription: None,
            pending: None,
            reply: None,
            binary: None,
            expiry: None,
            overflow_close_code: config.overflow_close_code(),
        };
        if let Some(Initial {
            selector,
            access,
            from,
        }) = initial
        {
            let topics = selector
                .patterns()
                .iter()
                .map(|pattern| (pattern.to_string(), pattern.clone()))
                .collect();
            let from = from.map(|resume| handler.broker.place(&resume));
            handler.reply = Some(text(handler.granted(topics, from, access)));
        }
        handler
    }

    /// Applies a command: an unsubscribe at once (with the access already granted), a subscribe
    /// once the hooks have authorized the new selection.
    fn apply(&mut self, command: Command) -> Option<String> {
        let current = self.subscription.as_ref().map(Subscription::cursor);
        match command {
            Command::Subscribe { topics, from } => {
                let mut all = self.topics.clone();
                for topic in topics {
                    match Pattern::parse(topic.as_str()) {
                        Ok(pattern) => all.insert(topic.as_str().to_owned(), pattern),
                        Err(e) => return Some(encode_error(&e.to_string())),
                    };
                }
                let selector = match selector_of(&all) {
                    Ok(selector) => selector,
                    Err(e) => return Some(encode_error(&e.to_string())),
                };
                let (hooks, request) = (self.hooks.clone(), self.request.parts());
                let answer = Box::pin(async move { hooks.authorize(&request, &selector).await });
                self.pending = Some(Pending {
                    answer,
                    topics: all,
                    from: from.map(|resume| self.broker.place(&resume)).or(current),
                });
                None
            }
            Command::Unsubscribe { topics } => {
                let mut all = self.topics.clone();
                for t in &topics {
                    all.remove(t.as_str());
                }
                let access = self.access.clone();
                Some(self.granted(all, current, access))
            }
        }
    }

    /// Subscribes to `topics` with `access`; the `subscribed` (or `error`) reply.
    fn granted(&mut self, topics: Selection, from: Option<Cursor>, access: Access) -> String {
        if topics.is_empty() {
            self.topics.clear();
            self.subscription = None;
            return encode_subscribed(&[], from.unwrap_or_else(|| self.broker.head()));
        }
        let subscribed = selector_of(&topics)
            .and_then(|selector| self.broker.subscribe(&selector, from, &access));
        let subscription = match subscribed {
            Ok(done) => done,
            Err(e) => return encode_error(&e.to_string()),
        };
        let cursor = subscription.cursor();
        self.expiry = access.until().map(|until| {
            Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
                until,
            )))
        });
        self.access = access;
        let selection: Vec<Topic> = topics.keys().filter_map(|t| Topic::new(t).ok()).collect();
        self.topics = topics;
        self.subscription = Some(subscription);
        encode_subscribed(&selection, cursor)
    }

    /// Polls the authorization under way; its reply is queued once it is answered.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(pending) = self.pending.as_mut() else {
            return Poll::Ready(());
        };
        let answer = match pending.answer.as_mut().poll(cx) {
            Poll::Ready(answer) => answer,
            Poll::Pending => return Poll::Pending,
        };
        let Some(Pending { topics, from, .. }) = self.pending.take() else {
            return Poll::Ready(());
        };
        let reply = match answer {
            Ok(access) => self.granted(topics, from, access),
            Err(refusal) => encode_refusal(refusal.status(), refusal.message()),
        };
        self.reply = Some(text(reply));
        Poll::Ready(())
    }
}

impl<B: Broker, H: Hooks> Handler for PushHandler<B, H> {
    fn on_message(&mut self, message: Message, outbox: &mut Outbox) {
        let reply = match message {
            Message::Text(text) => match Command::parse(&text) {
                Ok(command) => self.apply(command),
                Err(e) => Some(encode_error(e.message())),
            },
            _ => Some(encode_error("binary messages are not commands")),
        };
        if let Some(reply) = reply {
            outbox.push(text(reply));
        }
    }

    fn poll_outgoing(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        if let Some(data) = self.binary.take() {
            return Poll::Ready(Some(Message::Binary(data)));
        }
        let _ = self.poll_pending(cx);
        if let Some(reply) = self.reply.take() {
            return Poll::Ready(Some(reply));
        }
        if let Some(expiry) = self.expiry.as_mut()
            && expiry.as_mut().poll(cx).is_ready()
        {
            self.expiry = None;
            self.subscription = None;
            return Poll::Ready(Some(close(CloseCode::Policy, "expired")));
        }
        let Some(subscription) = self.subscription.as_mut() else {
            return Poll::Pending;
        };
        let delivery = match Pin::new(subscription).poll_next(cx) {
            Poll::Ready(d) => d,
            Poll::Pending => return Poll::Pending,
        };
        let message = match delivery {
            Some(Delivery::Event(published)) => {
                let (json, binary) = encode_event(&published);
                self.binary = binary;
                text_frame(json)
            }
            Some(Delivery::Gap(gap)) => text(encode_gap(&gap)),
            Some(Delivery::Closed(CloseReason::Overflow)) => close(
                CloseCode::from(self.overflow_close_code),
                "subscriber fell behind",
            ),
            Some(Delivery::Closed(CloseReason::Expired)) => close(CloseCode::Policy, "expired"),
            Some(Delivery::Closed(_)) | None => close(CloseCode::Away, "broker shut down"),
        };
        Poll::Ready(Some(message))
    }

    /// No command is read while an authorization is under way.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_pending(cx)
    }
}

fn text(json: String) -> Message {
    Message::Text(json.into())
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
