//! One STOMP subscription on a broker subscription: its ack mode, the messages awaiting an
//! `ACK`, and the `MESSAGE` frames of its deliveries.

use std::collections::VecDeque;

use bytes::Bytes;
use push_core::{Access, Cursor, Gap, Published, Selector};

use crate::{Command, Frame, Version};

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
        }
    }

    /// Whether the subscription may deliver another message (the prefetch window).
    pub(crate) fn has_room(&self, prefetch: usize) -> bool {
        self.ack == AckMode::Auto || self.unacked.len() < prefetch
    }

    /// Records a delivered message in the `client` modes.
    pub(crate) fn delivered(&mut self, message: Cursor, before: Cursor) {
        if self.ack != AckMode::Auto {
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

    /// The `MESSAGE` frame of an event.
    pub(crate) fn message(&self, published: &Published, version: Version) -> Frame {
        let event = published.event();
        let content_type = if core::str::from_utf8(&event.data).is_ok() {
            "text/plain;charset=utf-8"
        } else {
            "application/octet-stream"
        };
        let mut frame = self
            .head(published.cursor(), version)
            .with_header("content-type", content_type);
        if let Some(kind) = &event.event {
            frame.push_header("x-event-type", kind.as_str());
        }
        if let Some(id) = &event.id {
            frame.push_header("x-event-id", id.as_str());
        }
        frame.with_body_and_length(event.data.clone())
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

/// The subscription id and cursor an `ACK`'s `id` (1.2) names.
pub(crate) fn parse_ack_id(id: &str) -> Option<(&str, Cursor)> {
    let (sub, cursor) = id.rsplit_once('/')?;
    Some((sub, Cursor::parse(cursor).ok()?))
}
