//! One STOMP subscription on a broker subscription: its ack mode, the messages awaiting an
//! `ACK`, and the `MESSAGE` frames of its deliveries.

use std::collections::VecDeque;

use bytes::{Buf, Bytes};
use push_core::{Access, Cursor, Gap, Published, Selector, Subscription, Topic};

use super::Transmit;
use crate::{Command, Frame, Version, encode_head, encode_tail};

/// The header that carries a resume cursor on `SUBSCRIBE` (the `message-id` of the last message
/// the client has, as RabbitMQ streams take `x-stream-offset`).
pub const RESUME_HEADER: &str = "x-resume-after";

/// The header that marks a `MESSAGE` announcing lost messages; its value is why
/// (`evicted`, `overflow`, `epoch`, …), its `message-id` the cursor delivery continues after.
pub const GAP_HEADER: &str = "x-gap";

/// A subscription's `ack` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckMode {
    Auto,
    Client,
    ClientIndividual,
}

impl AckMode {
    pub(crate) fn parse(header: Option<&str>) -> Option<Self> {
        match header {
            None | Some("auto") => Some(Self::Auto),
            Some("client") => Some(Self::Client),
            Some("client-individual") => Some(Self::ClientIndividual),
            Some(_) => None,
        }
    }
}

/// A message delivered and not yet acknowledged.
#[derive(Debug, Clone, Copy)]
struct Unacked {
    /// Its `message-id`.
    message: Cursor,
    /// The subscription's cursor before it: where a `NACK` redelivers from.
    before: Cursor,
}

/// One subscription of a session.
pub(crate) struct Sub<S> {
    pub(crate) id: String,
    pub(crate) destination: String,
    pub(crate) selector: Selector,
    pub(crate) access: Access,
    pub(crate) ack: AckMode,
    pub(crate) stream: S,
    unacked: VecDeque<Unacked>,
    /// The `MESSAGE` head when it names no message (no `ack` header): the same for every
    /// delivery, so encoded once.
    head: Option<Bytes>,
}

/// What an `ACK` or `NACK` did.
pub(crate) enum Acked {
    Done,
    /// A `NACK`: resubscribe from this cursor.
    Redeliver(Cursor),
}

impl<S> Sub<S> {
    pub(crate) fn new(
        id: String,
        destination: String,
        selector: Selector,
        access: Access,
        ack: AckMode,
        stream: S,
    ) -> Self {
        Self {
            id,
            destination,
            selector,
            access,
            ack,
            stream,
            unacked: VecDeque::new(),
            head: None,
        }
    }

    /// Whether the subscription may deliver another message (the prefetch window).
    pub(crate) fn has_room(&self, prefetch: usize) -> bool {
        self.ack == AckMode::Auto || self.unacked.len() < prefetch
    }

    /// Records a delivered message in the `client` modes; `before` is what
    /// [`before`](Self::before) gave just before the delivery.
    pub(crate) fn delivered(&mut self, message: Cursor, before: Option<Cursor>) {
        if let Some(before) = before {
            self.unacked.push_back(Unacked { message, before });
        }
    }

    /// Applies an `ACK` (`nack` false) or `NACK` of `message`: `client` mode acknowledges it and
    /// every earlier one, `client-individual` only it; a `NACK` redelivers from it. `None` when
    /// no such message awaits an acknowledgement.
    pub(crate) fn ack(&mut self, message: Cursor, nack: bool) -> Option<Acked> {
        let at = self.unacked.iter().position(|u| u.message == message)?;
        if nack {
            let before = self.unacked[at].before;
            self.unacked.clear();
            return Some(Acked::Redeliver(before));
        }
        match self.ack {
            AckMode::Client => drop(self.unacked.drain(..=at)),
            _ => drop(self.unacked.remove(at)),
        }
        Some(Acked::Done)
    }

    /// The `ack` header of a message (the subscription id and the cursor, which the `ACK`'s `id`
    /// names again), in the `client` modes of 1.2.
    fn ack_id(&self, message: Cursor) -> String {
        format!("{}/{}", self.id, message.text().as_str())
    }

    /// The `MESSAGE` of an event in two parts: this subscription's head (`subscription`, and
    /// `ack` in the client modes of 1.2) and the tail every subscriber of the event shares
    /// (`message-id`, `destination`, `content-type`, `content-length`, `x-event-type`,
    /// `x-event-id`, the body), encoded once per event and version and cached in the shared
    /// [`Published`]. The destination is `/topic/` and the event's topic: its canonical one, or
    /// for an event published on several topics the first this subscription selects (then the
    /// tail is this subscription's own, not cached).
    ///
    /// The cache holds the whole frame of the first subscriber that encoded it: a subscription
    /// whose head is the same (clients number their subscriptions alike; stomp.js's first is
    /// `sub-0` in every browser) gets that frame whole, with an empty head, and no subscriber's
    /// bytes are joined or copied.
    pub(crate) fn message(
        &mut self,
        published: &Published,
        version: Version,
    ) -> Result<Transmit, crate::Error> {
        let per_message = self.ack != AckMode::Auto && version == Version::V1_2;
        let own;
        let head = if per_message {
            let ack = self.ack_id(published.cursor());
            let mut head = Vec::with_capacity(32 + self.id.len() + ack.len());
            let headers = [("subscription", self.id.as_str()), ("ack", ack.as_str())];
            encode_head(Command::Message, headers, version, &mut head)?;
            own = Bytes::from(head);
            &own
        } else if let Some(head) = &self.head {
            head
        } else {
            let mut head = Vec::with_capacity(32 + self.id.len());
            let headers = [("subscription", self.id.as_str())];
            encode_head(Command::Message, headers, version, &mut head)?;
            self.head.insert(Bytes::from(head))
        };
        let canonical = published.topic();
        if published.topics().len() == 1 || self.selector.matches(canonical) {
            // A head naming one message is nobody else's: the cached frame then starts with none.
            let first = if per_message { &[][..] } else { &head[..] };
            let mut shared = shared_frame(published, version, first);
            let Some(split) = Shared::split(&shared) else {
                return Err(crate::Error::Unencodable);
            };
            // The head is compared, and cloned only when it goes out: in a fan-out most
            // subscribers take the cached frame whole. The cached `Bytes` is advanced past
            // what is not sent, not sliced: no second count on the shared buffer.
            let whole = !split.head.is_empty() && split.head == &head[..];
            let (text, frame, tail) = (split.text, split.frame.start, split.tail.start);
            if whole {
                shared.advance(frame);
                return Ok(Transmit::Message {
                    head: Bytes::new(),
                    tail: shared,
                    text,
                });
            }
            shared.advance(tail);
            return Ok(Transmit::Message {
                head: head.clone(),
                tail: shared,
                text,
            });
        }
        let topic = published
            .topics()
            .iter()
            .find(|t| self.selector.matches(t))
            .unwrap_or(canonical);
        let own_tail = tail(published, topic, version);
        let Some((&kind, _)) = own_tail.split_first() else {
            return Err(crate::Error::Unencodable);
        };
        Ok(Transmit::Message {
            head: head.clone(),
            tail: Bytes::from(own_tail).slice(1..),
            text: kind == TEXT,
        })
    }

    /// The `MESSAGE` frame announcing a gap: no body, [`GAP_HEADER`] with the reason, the
    /// resume cursor as its `message-id`.
    pub(crate) fn gap(&self, gap: &Gap, version: Version) -> Frame {
        self.head(gap.resume, version)
            .with_header(GAP_HEADER, gap.reason.as_str())
            .with_body_and_length(Bytes::new())
    }

    fn head(&self, message: Cursor, version: Version) -> Frame {
        let mut frame = Frame::new(Command::Message)
            .with_header("subscription", self.id.as_str())
            .with_header("message-id", message.text().as_str())
            .with_header("destination", self.destination.as_str());
        if self.ack != AckMode::Auto && version == Version::V1_2 {
            frame.push_header("ack", self.ack_id(message));
        }
        frame
    }
}

/// The first byte of an encoded tail: the body is UTF-8, so the frame is a text message.
const TEXT: u8 = b't';
/// The first byte of an encoded tail: the body is not UTF-8 (a binary message).
const BINARY: u8 = b'b';

/// The cache keys of the shared frames in [`Published::encoded`], one per version (escaping
/// differs).
struct FrameV10;
struct FrameV11;
struct FrameV12;

/// The shared `MESSAGE` of `published` in `version`, from the event's cache; on a miss it is
/// encoded with `head` (the first subscriber's). Laid out as the kind byte ([`TEXT`] or
/// [`BINARY`]), the head's length (two bytes, big-endian), the head, then the tail; empty when
/// the version cannot carry the event's headers.
#[inline]
fn shared_frame(published: &Published, version: Version, head: &[u8]) -> Bytes {
    let encode = |p: &Published| {
        let tail = tail(p, p.topic(), version);
        let Some((&kind, tail)) = tail.split_first() else {
            return Bytes::new();
        };
        // A head too long to record is left out: its subscribers join their own.
        let head = u16::try_from(head.len()).map_or(&[][..], |_| head);
        let mut out = Vec::with_capacity(3 + head.len() + tail.len());
        out.push(kind);
        out.extend_from_slice(&(head.len() as u16).to_be_bytes());
        out.extend_from_slice(head);
        out.extend_from_slice(tail);
        Bytes::from(out)
    };
    match version {
        Version::V1_0 => published.encoded::<FrameV10>(encode),
        Version::V1_1 => published.encoded::<FrameV11>(encode),
        Version::V1_2 => published.encoded::<FrameV12>(encode),
    }
}

impl<S: Subscription> Sub<S> {
    /// The cursor before the next delivery, where a `NACK` of it redelivers from: read only in
    /// the `client` modes (an `auto` fan-out asks its subscription nothing more per message).
    pub(crate) fn before(&self) -> Option<Cursor> {
        (self.ack != AckMode::Auto).then(|| self.stream.cursor())
    }
}

/// The parts of a [`shared_frame`].
struct Shared<'a> {
    text: bool,
    /// The head it was encoded with (empty: none).
    head: &'a [u8],
    /// Where the whole frame is (head and tail).
    frame: core::ops::RangeFrom<usize>,
    /// Where the tail is.
    tail: core::ops::RangeFrom<usize>,
}

impl<'a> Shared<'a> {
    #[inline]
    fn split(shared: &'a [u8]) -> Option<Self> {
        let (&kind, rest) = shared.split_first()?;
        let (len, rest) = rest.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        Some(Self {
            text: kind == TEXT,
            head: rest.get(..len)?,
            frame: 3..,
            tail: 3 + len..,
        })
    }
}

/// The kind byte ([`TEXT`] or [`BINARY`]) and the tail of the event's `MESSAGE` with
/// `destination` `/topic/TOPIC`; empty when `version` cannot carry a header (a line break in an
/// event type under 1.0).
fn tail(published: &Published, topic: &Topic, version: Version) -> Vec<u8> {
    let event = published.event();
    let text = core::str::from_utf8(&event.data).is_ok();
    // STOMP 1.1 and 1.2 imply UTF-8 for `text/` types: a `charset` parameter would only add
    // 14 bytes to every subscriber's copy of every message.
    let content_type = if text {
        "text/plain"
    } else {
        "application/octet-stream"
    };
    let cursor = published.cursor().text();
    let destination = format!("/topic/{}", topic.as_str());
    let length = event.data.len().to_string();
    let mut headers = vec![
        ("message-id", cursor.as_str()),
        ("destination", destination.as_str()),
        ("content-type", content_type),
        ("content-length", length.as_str()),
    ];
    if let Some(kind) = &event.event {
        headers.push(("x-event-type", kind.as_str()));
    }
    if let Some(id) = &event.id {
        headers.push(("x-event-id", id.as_str()));
    }
    let mut out = Vec::with_capacity(destination.len() + event.data.len() + 120);
    out.push(if text { TEXT } else { BINARY });
    if encode_tail(Command::Message, headers, &event.data, version, &mut out).is_err() {
        out.clear();
    }
    out
}

/// The subscription id and cursor an `ACK`'s `id` (1.2) names.
pub(crate) fn parse_ack_id(id: &str) -> Option<(&str, Cursor)> {
    let (sub, cursor) = id.rsplit_once('/')?;
    Some((sub, Cursor::parse(cursor).ok()?))
}
