//! The server side of a STOMP connection as a state machine on a [`Broker`]: bytes and the
//! current time in, frames (as bytes), a close and the next deadline out.
//!
//! It owns no socket and no timer. It does own the broker subscriptions it opens and the
//! authorizations under way (futures it polls with the caller's [`Context`]), so its `poll_*`
//! methods take one; any executor, or a test with a no-op waker, can drive it.

mod handle;
mod heartbeat;
mod negotiate;
pub(crate) mod publish;
pub(crate) mod subscription;
mod transaction;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use http::request::Parts;
use push_core::{Access, Broker, CloseReason, Delivery};
use push_http::{Hooks, Refusal};

use crate::{Command, Config, Decoder, Frame, HEARTBEAT, Version, encode};
use heartbeat::{Due, Heartbeat};
use publish::Publish;
use subscription::Sub;

/// What the session wants written, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transmit {
    /// One frame, or a heart-beat, as bytes (one WebSocket message each).
    Bytes(Bytes),
    /// A `MESSAGE` in two parts, one frame when written one after the other: `head`, the
    /// subscription's own headers, and `tail`, what every subscriber of the event shares,
    /// encoded once per event (the same `Bytes` for all). Write them side by side (a vectored
    /// write, or two fragments of one WebSocket message) rather than joining them. `text`: the
    /// frame is UTF-8 (a text WebSocket message), else binary. `head` is empty when the whole
    /// frame is shared (a subscription whose head is the same as the one the event's frame was
    /// first encoded with): `tail` is then the complete frame.
    Message {
        /// The command line and the subscription's headers.
        head: Bytes,
        /// The shared headers, the blank line, the body and its NUL.
        tail: Bytes,
        /// Whether the frame is UTF-8.
        text: bool,
    },
    /// Close the connection: everything before it has been handed out.
    Close,
}

/// The most frames queued for the peer before the session stops reading its frames: a client
/// that sends but never reads cannot grow the queue.
const OUT_LIMIT: usize = 16;

/// An asynchronous step under way; no further frame is handled until it ends, so frames take
/// effect in order.
enum Pending {
    /// A `CONNECT` waiting for the hooks to accept its credentials ([`Hooks::authenticate`]);
    /// `CONNECTED` with this version and these heart-beats follows.
    Connect {
        answer: Pin<Box<dyn Future<Output = Result<(), Refusal>> + Send>>,
        version: Version,
        beats: (u64, u64),
        receipt: Option<String>,
    },
    /// A `SUBSCRIBE` waiting for the hooks' authorization.
    Subscribe {
        answer: Pin<Box<dyn Future<Output = Result<Access, Refusal>> + Send>>,
        sub: handle::NewSub,
        receipt: Option<String>,
    },
    /// `SEND`s (one, or a transaction's) being authorized and published in order.
    Send {
        done: Pin<Box<dyn Future<Output = Result<(), String>> + Send>>,
        receipt: Option<String>,
    },
}

/// One STOMP connection's server side. See the [crate documentation](crate#the-server-session)
/// for the protocol it speaks.
///
/// Feed it with [`handle_bytes`](Self::handle_bytes) (every WebSocket message's payload) and
/// [`handle_timeout`](Self::handle_timeout) (at [`poll_timeout`](Self::poll_timeout)); drain
/// [`poll_transmit`](Self::poll_transmit) whenever the socket can take a message. Before
/// reading more from the peer, ask [`poll_ready`](Self::poll_ready).
pub struct Session<B: Broker, H, P> {
    broker: B,
    hooks: H,
    publish: P,
    /// The upgrade request's head with the credentials of `CONNECT` applied.
    request: Parts,
    config: Config,
    /// The version the WebSocket subprotocol selected, if any: the most `CONNECT` may agree.
    ceiling: Option<Version>,
    decoder: Decoder,
    /// `None` until `CONNECT`.
    version: Option<Version>,
    subs: Vec<Sub<B::Subscription>>,
    /// Where the next round of polling the subscriptions starts (fairness).
    next_sub: usize,
    pending: Option<Pending>,
    transactions: Vec<(String, Vec<Frame>)>,
    transaction_bytes: usize,
    out: VecDeque<Transmit>,
    /// An `ERROR` or a `DISCONNECT` ended the session: nothing more is read or delivered.
    closing: bool,
    heartbeat: Heartbeat,
}

impl<B, H, P> Session<B, H, P>
where
    B: Broker + Clone,
    H: Hooks,
    P: Publish,
{
    /// A session for a connection whose upgrade request had the head `request`, on which the
    /// WebSocket subprotocol `subprotocol` (`v12.stomp`…) was agreed, if any, at `now`.
    pub fn new(
        broker: B,
        hooks: H,
        publish: P,
        request: Parts,
        config: Config,
        subprotocol: Option<&str>,
        now: Instant,
    ) -> Self {
        Self {
            broker,
            hooks,
            publish,
            request,
            decoder: Decoder::new(*config.limits()),
            config,
            ceiling: subprotocol.and_then(Version::from_subprotocol),
            version: None,
            subs: Vec::new(),
            next_sub: 0,
            pending: None,
            transactions: Vec::new(),
            transaction_bytes: 0,
            out: VecDeque::new(),
            closing: false,
            heartbeat: Heartbeat::new(now),
        }
    }

    /// The agreed version, once `CONNECT` has been answered.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Bytes from the peer (a WebSocket message's payload: one or more frames, or parts of
    /// them, or heart-beats), received at `now`. Frames are handled at once unless an
    /// authorization is under way or the outgoing queue is full; then they wait in the decoder
    /// (bounded by [`Limits`](crate::Limits) and by the caller, which reads no more until
    /// [`poll_ready`](Self::poll_ready)).
    pub fn handle_bytes(&mut self, data: &[u8], now: Instant) {
        self.heartbeat.received(now);
        if self.closing {
            return;
        }
        self.decoder.feed(data);
        self.process();
    }

    /// `Ready` when the session can take more bytes: no authorization or publish under way and
    /// room in the outgoing queue. Polls the step under way; re-poll after a wake-up, or after
    /// [`poll_transmit`](Self::poll_transmit) has drained the queue.
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.poll_pending(cx).is_pending() || self.out.len() >= OUT_LIMIT {
            return Poll::Pending;
        }
        Poll::Ready(())
    }

    /// The next thing to write: queued replies first, then deliveries of the subscriptions
    /// (round robin, each only within its prefetch window), then, once the session has ended,
    /// one [`Transmit::Close`] and `Ready(None)` ever after. `Pending` when nothing is ready:
    /// the waker is registered with every subscription and the step under way, so re-poll
    /// after a wake-up, or after [`handle_bytes`](Self::handle_bytes) /
    /// [`handle_timeout`](Self::handle_timeout).
    ///
    /// It takes no time: the session notes only that something went out, and
    /// [`handle_timeout`](Self::handle_timeout) decides from that note whether a heart-beat
    /// is due, so a fan-out reads no clock per `MESSAGE`.
    pub fn poll_transmit(&mut self, cx: &mut Context<'_>) -> Poll<Option<Transmit>> {
        if self.out.is_empty() && !self.closing {
            let _ = self.poll_pending(cx);
            if self.out.is_empty()
                && !self.closing
                && let Some(message) = self.poll_deliveries(cx)
            {
                // The common case goes out at once, not through the queue.
                self.heartbeat.sent();
                return Poll::Ready(Some(message));
            }
        }
        match self.out.pop_front() {
            Some(Transmit::Close) => {
                // Nothing follows a close.
                self.out.clear();
                self.closing = true;
                Poll::Ready(Some(Transmit::Close))
            }
            Some(t) => {
                self.heartbeat.sent();
                Poll::Ready(Some(t))
            }
            None if self.closing => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next: the next check for a
    /// heart-beat to send (every half agreed interval) or the end of the peer's allowance of
    /// silence (twice its agreed interval). `None` when no heart-beats were agreed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closing {
            return None;
        }
        self.heartbeat.deadline()
    }

    /// Time has reached `now`: queues a heart-beat when nothing went out for the agreed
    /// interval, or ends a session whose peer has been silent past its allowance (an `ERROR`,
    /// then the close).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closing {
            return;
        }
        match self.heartbeat.on_timeout(now) {
            Due::Dead => self.fail("no heart-beat from the client in time", None),
            // Anything queued goes out first and serves as well as a beat.
            Due::Beat if self.out.is_empty() => self
                .out
                .push_back(Transmit::Bytes(Bytes::from_static(HEARTBEAT))),
            Due::Beat | Due::Nothing => {}
        }
    }

    /// Handles the frames waiting in the decoder while nothing is under way.
    fn process(&mut self) {
        while !self.closing && self.pending.is_none() && self.out.len() < OUT_LIMIT {
            match self.decoder.poll() {
                Ok(Some(crate::Item::Frame(frame))) => self.on_frame(frame),
                Ok(Some(crate::Item::Heartbeat)) => {}
                Ok(None) => return,
                Err(e) => {
                    let message = e.to_string();
                    self.fail(&message, None);
                }
            }
        }
    }

    /// Polls the step under way; `Ready` once there is none.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(pending) = self.pending.as_mut() else {
            return Poll::Ready(());
        };
        match pending {
            Pending::Connect { answer, .. } => {
                let Poll::Ready(answer) = answer.as_mut().poll(cx) else {
                    return Poll::Pending;
                };
                let Some(Pending::Connect {
                    version,
                    beats,
                    receipt,
                    ..
                }) = self.pending.take()
                else {
                    return Poll::Ready(());
                };
                match answer {
                    Ok(()) => {
                        self.connected(version, beats);
                        self.receipt(receipt);
                    }
                    Err(refusal) => self.fail(refusal.message(), receipt.as_deref()),
                }
            }
            Pending::Subscribe { answer, .. } => {
                let Poll::Ready(answer) = answer.as_mut().poll(cx) else {
                    return Poll::Pending;
                };
                let Some(Pending::Subscribe { sub, receipt, .. }) = self.pending.take() else {
                    return Poll::Ready(());
                };
                match answer {
                    Ok(access) => self.subscribed(sub, access, receipt),
                    Err(refusal) => self.fail(refusal.message(), receipt.as_deref()),
                }
            }
            Pending::Send { done, .. } => {
                let Poll::Ready(done) = done.as_mut().poll(cx) else {
                    return Poll::Pending;
                };
                let Some(Pending::Send { receipt, .. }) = self.pending.take() else {
                    return Poll::Ready(());
                };
                match done {
                    Ok(()) => self.receipt(receipt),
                    Err(message) => self.fail(&message, receipt.as_deref()),
                }
            }
        }
        self.process();
        Poll::Ready(())
    }

    /// Pulls at most one delivery, the subscriptions taken in turn: an event's `MESSAGE` is
    /// returned, anything else (a gap's frame, an `ERROR`) queued.
    fn poll_deliveries(&mut self, cx: &mut Context<'_>) -> Option<Transmit> {
        let (count, prefetch) = (self.subs.len(), self.config.prefetch());
        let version = self.version.unwrap_or(Version::V1_2);
        for turn in 0..count {
            let i = (self.next_sub + turn) % count;
            let sub = &mut self.subs[i];
            if !sub.has_room(prefetch) {
                continue;
            }
            let before = sub.before();
            let Poll::Ready(delivery) = Pin::new(&mut sub.stream).poll_next(cx) else {
                continue;
            };
            self.next_sub = i + 1;
            let frame = match delivery {
                Some(Delivery::Event(published)) => {
                    sub.delivered(published.cursor(), before);
                    match sub.message(&published, version) {
                        Ok(message) => return Some(message),
                        // Only an event header the agreed version cannot carry (a line break
                        // in an event type under 1.0): the subscription cannot go on.
                        Err(e) => {
                            let message = format!("subscription {}: {e}", sub.id);
                            self.fail(&message, None);
                        }
                    }
                    return None;
                }
                Some(Delivery::Gap(gap)) => {
                    sub.delivered(gap.resume, before);
                    sub.gap(&gap, version)
                }
                Some(Delivery::Closed(reason)) => {
                    let why = match reason {
                        CloseReason::Overflow => "the subscriber fell behind",
                        CloseReason::Expired => "the authorization expired",
                        _ => "the broker shut down",
                    };
                    let message = format!("subscription {} ended: {why}", sub.id);
                    self.fail(&message, None);
                    return None;
                }
                None => {
                    let message = format!("subscription {} ended", sub.id);
                    self.fail(&message, None);
                    return None;
                }
            };
            self.send(&frame);
            return None;
        }
        None
    }

    /// Queues a frame in the agreed version.
    fn send(&mut self, frame: &Frame) {
        let mut bytes = Vec::new();
        match encode(frame, self.version.unwrap_or(Version::V1_0), &mut bytes) {
            Ok(()) => self.out.push_back(Transmit::Bytes(bytes.into())),
            // Only text the client sent (a destination, an id) can fail to encode, and it came
            // in this version, so it can go back: this is a bug guard, not a peer's doing.
            Err(e) => {
                let message = format!("a reply could not be encoded: {e}");
                self.fail(&message, None);
            }
        }
    }

    /// Queues a `RECEIPT` when the frame asked for one.
    fn receipt(&mut self, receipt: Option<String>) {
        if let Some(id) = receipt {
            self.send(&Frame::new(Command::Receipt).with_header("receipt-id", id));
        }
    }

    /// Ends the session: an `ERROR` with `message` (and the `receipt-id` of the frame that
    /// caused it), then the close. Subscriptions and the step under way are dropped at once.
    fn fail(&mut self, message: &str, receipt: Option<&str>) {
        if self.closing {
            return;
        }
        let mut frame = Frame::new(Command::Error).with_header("message", message);
        if let Some(id) = receipt {
            frame.push_header("receipt-id", id);
        }
        let frame = frame
            .with_header("content-type", "text/plain")
            .with_body_and_length(Bytes::copy_from_slice(message.as_bytes()));
        let mut bytes = Vec::new();
        // An ERROR is written in 1.2 form before CONNECT (any client reads it) and in the
        // agreed version after; a message that version cannot carry is sent without escapes.
        let version = self.version.unwrap_or(Version::V1_2);
        if encode(&frame, version, &mut bytes).is_err() {
            let plain = message.replace(['\r', '\n'], " ");
            let frame = Frame::new(Command::Error).with_header("message", plain);
            let _ = encode(&frame, Version::V1_2, &mut bytes);
        }
        self.out.push_back(Transmit::Bytes(bytes.into()));
        self.out.push_back(Transmit::Close);
        self.closing = true;
        self.subs.clear();
        self.pending = None;
        self.transactions.clear();
    }
}

impl<B: Broker, H, P> core::fmt::Debug for Session<B, H, P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("version", &self.version)
            .field("subscriptions", &self.subs.len())
            .field("closing", &self.closing)
            .finish_non_exhaustive()
    }
}
