//! What each client frame does to a [`Session`].

use bytes::Bytes;
use http::HeaderValue;
use http::header::AUTHORIZATION;
use push_core::{Access, Broker, Cursor, Event, Pattern, Resume, Selector, Topic};
use push_http::Hooks;

use super::negotiate;
use super::publish::Publish;
use super::subscription::{AckMode, Acked, RESUME_HEADER, Sub, parse_ack_id};
use super::{Pending, Session};
use crate::{Command, Frame, Version};

/// A `SUBSCRIBE` checked and waiting for its authorization.
pub(crate) struct NewSub {
    id: String,
    destination: String,
    selector: Selector,
    ack: AckMode,
    from: Option<Cursor>,
}

/// The topic name or selector a destination names: `/topic/NAME` or a bare `NAME`; `/queue/…`
/// and the other queue-like prefixes are refused, since the hub has no competing consumers.
fn name_of(destination: &str) -> Result<&str, String> {
    const QUEUES: [&str; 5] = [
        "/queue/",
        "/temp-queue/",
        "/amq/queue/",
        "/exchange/",
        "/reply-queue/",
    ];
    if QUEUES.iter().any(|q| destination.starts_with(q)) {
        return Err(format!(
            "{destination}: queue destinations (competing consumers) are not supported; use /topic/NAME"
        ));
    }
    Ok(destination.strip_prefix("/topic/").unwrap_or(destination))
}

/// What a `SUBSCRIBE` destination selects, read as Mercure reads a `topic` selector: `*` is
/// every topic, a URI template (`/topic/books/{id}`) the topics it can expand to, anything
/// else the exact topic.
fn selector_of(destination: &str) -> Result<Selector, String> {
    let name = name_of(destination)?;
    let pattern = Pattern::parse(name).map_err(|e| format!("{destination}: {e}"))?;
    Selector::new([pattern]).map_err(|e| format!("{destination}: {e}"))
}

/// The topic a `SEND` destination names: one topic, never a selector (an event is published on
/// topics, which selectors then match).
fn topic_of(destination: &str) -> Result<Topic, String> {
    match Pattern::parse(name_of(destination)?) {
        Ok(Pattern::Exact(topic)) => Ok(topic),
        Ok(_) => Err(format!(
            "{destination}: a SEND names one topic, not a selector or template"
        )),
        Err(e) => Err(format!("{destination}: {e}")),
    }
}

impl<B, H, P> Session<B, H, P>
where
    B: Broker + Clone,
    H: Hooks,
    P: Publish,
{
    pub(super) fn on_frame(&mut self, frame: Frame) {
        let receipt = frame.header("receipt").map(str::to_owned);
        let result = match (self.version, frame.command()) {
            (None, Command::Connect | Command::Stomp) => self.on_connect(&frame, receipt.clone()),
            (None, _) => Err("the first frame must be CONNECT or STOMP".to_owned()),
            (Some(_), Command::Connect | Command::Stomp) => Err("already connected".to_owned()),
            (Some(_), Command::Send | Command::Ack | Command::Nack)
                if frame.header("transaction").is_some() =>
            {
                self.in_transaction(frame, receipt.as_deref())
            }
            (Some(_), Command::Send) => self.on_send(vec![frame], receipt.clone()),
            (Some(_), Command::Subscribe) => self.on_subscribe(&frame, receipt.clone()),
            (Some(_), Command::Unsubscribe) => self.on_unsubscribe(&frame),
            (Some(_), Command::Ack) => self.on_ack(&frame, false),
            (Some(_), Command::Nack) => self.on_ack(&frame, true),
            (Some(_), Command::Begin | Command::Commit | Command::Abort) => {
                self.on_transaction(&frame, receipt.clone())
            }
            (Some(_), Command::Disconnect) => {
                self.receipt(receipt.clone());
                self.out.push_back(super::Transmit::Close);
                self.closing = true;
                self.subs.clear();
                return;
            }
            (Some(_), c) => Err(format!("{} is a server frame", c.as_str())),
        };
        match result {
            // The steps under way answer when they end.
            Ok(()) if self.pending.is_some() => {}
            Ok(()) => self.receipt(receipt),
            Err(message) => self.fail(&message, receipt.as_deref()),
        }
    }

    /// `CONNECT` / `STOMP`: the version, the heart-beats, the credentials; `CONNECTED`.
    fn on_connect(&mut self, frame: &Frame, receipt: Option<String>) -> Result<(), String> {
        let Some(version) = negotiate::version(frame.header("accept-version"), self.ceiling) else {
            // The ERROR names the versions we speak, as the specification asks.
            let supported = Version::ALL.map(Version::as_str).join(",");
            return Err(format!(
                "no common STOMP version; the server speaks {supported}"
            ));
        };
        let client = negotiate::client_heart_beat(frame.header("heart-beat"));
        let beats = negotiate::heart_beats(self.config.heart_beat(), client);
        // Credentials in the frame stand for the upgrade request's: an `Authorization` header
        // as is, otherwise the `passcode` as a bearer token (how STOMP clients carry a JWT).
        let credential = match (frame.header("Authorization"), frame.header("passcode")) {
            (Some(value), _) => Some(value.to_owned()),
            (None, Some(token)) if !token.is_empty() => Some(format!("Bearer {token}")),
            _ => None,
        };
        if let Some(credential) = credential {
            let value = HeaderValue::from_str(&credential)
                .map_err(|_| "the credentials are not a valid header value".to_owned())?;
            self.request.headers.insert(AUTHORIZATION, value);
        }
        // The hooks accept the credentials before `CONNECTED`: a bad login is an `ERROR` now,
        // not at the first subscription. Frames after `CONNECT` wait until then.
        let (hooks, request) = (self.hooks.clone(), self.request.clone());
        let answer = Box::pin(async move { hooks.authenticate(&request).await });
        self.pending = Some(Pending::Connect {
            answer,
            version,
            beats,
            receipt,
        });
        Ok(())
    }

    /// The credentials were accepted: the session speaks `version` and answers `CONNECTED`.
    pub(super) fn connected(&mut self, version: Version, beats: (u64, u64)) {
        self.heartbeat.agree(beats);
        self.version = Some(version);
        self.decoder.set_version(version);
        let connected = Frame::new(Command::Connected)
            .with_header("version", version.as_str())
            .with_header("heart-beat", format!("{},{}", beats.0, beats.1))
            .with_header("server", self.config.server());
        self.send(&connected);
    }

    fn on_subscribe(&mut self, frame: &Frame, receipt: Option<String>) -> Result<(), String> {
        let destination = frame
            .header("destination")
            .ok_or("SUBSCRIBE without a destination")?;
        // 1.0 made `id` optional: the destination names the subscription then.
        let id = match (frame.header("id"), self.version) {
            (Some(id), _) => id,
            (None, Some(Version::V1_0)) => destination,
            (None, _) => return Err("SUBSCRIBE without an id".to_owned()),
        };
        if self.subs.iter().any(|s| s.id == id) {
            return Err(format!("subscription {id} already exists"));
        }
        if self.subs.len() >= self.config.max_subscriptions() {
            return Err("too many subscriptions on this connection".to_owned());
        }
        let ack = AckMode::parse(frame.header("ack")).ok_or("unknown ack mode")?;
        let selector = selector_of(destination)?;
        let from = match frame.header(RESUME_HEADER) {
            None => None,
            // A cursor, or an id the broker places (a Mercure id seen over SSE; one it
            // cannot place is a gap, then all it retains).
            Some(text) => Some(self.broker.place(&Resume::parse(text))),
        };
        let sub = NewSub {
            id: id.to_owned(),
            destination: destination.to_owned(),
            selector: selector.clone(),
            ack,
            from,
        };
        let (hooks, request) = (self.hooks.clone(), self.request.clone());
        let answer = Box::pin(async move { hooks.authorize(&request, &selector).await });
        self.pending = Some(Pending::Subscribe {
            answer,
            sub,
            receipt,
        });
        Ok(())
    }

    /// The authorization came: the broker subscription opens (or the session ends).
    pub(super) fn subscribed(&mut self, sub: NewSub, access: Access, receipt: Option<String>) {
        match self.broker.subscribe(&sub.selector, sub.from, &access) {
            Ok(stream) => {
                self.subs.push(Sub::new(
                    sub.id,
                    sub.destination,
                    sub.selector,
                    access,
                    sub.ack,
                    stream,
                ));
                self.receipt(receipt);
            }
            Err(e) => self.fail(&format!("{}: {e}", sub.destination), receipt.as_deref()),
        }
    }

    fn on_unsubscribe(&mut self, frame: &Frame) -> Result<(), String> {
        let id = match (frame.header("id"), self.version) {
            (Some(id), _) => id,
            (None, Some(Version::V1_0)) => frame
                .header("destination")
                .ok_or("UNSUBSCRIBE without an id")?,
            (None, _) => return Err("UNSUBSCRIBE without an id".to_owned()),
        };
        self.subs.retain(|s| s.id != id);
        Ok(())
    }

    /// `ACK` / `NACK`: 1.2 names the message by the `id` the `ack` header gave; 1.1 by
    /// `message-id` and `subscription`; 1.0 by `message-id` alone.
    pub(super) fn on_ack(&mut self, frame: &Frame, nack: bool) -> Result<(), String> {
        if nack && self.version == Some(Version::V1_0) {
            return Err("NACK is not part of STOMP 1.0".to_owned());
        }
        let (sub, message) = match self.version {
            Some(Version::V1_2) => {
                let id = frame.header("id").ok_or("ACK or NACK without an id")?;
                let (sub, cursor) = parse_ack_id(id).ok_or("no such message to acknowledge")?;
                (Some(sub.to_owned()), cursor)
            }
            _ => {
                let id = frame
                    .header("message-id")
                    .ok_or("ACK or NACK without a message-id")?;
                let cursor = Cursor::parse(id).map_err(|_| "no such message to acknowledge")?;
                (frame.header("subscription").map(str::to_owned), cursor)
            }
        };
        let found = self.subs.iter_mut().enumerate().find_map(|(i, s)| {
            if sub.as_deref().is_some_and(|id| id != s.id) {
                return None;
            }
            s.ack(message, nack).map(|acked| (i, acked))
        });
        match found {
            Some((_, Acked::Done)) => Ok(()),
            Some((i, Acked::Redeliver(from))) => {
                let sub = &mut self.subs[i];
                sub.stream = self
                    .broker
                    .subscribe(&sub.selector, Some(from), &sub.access)
                    .map_err(|e| e.to_string())?;
                Ok(())
            }
            None => Err(format!(
                "message {} awaits no acknowledgement",
                message.text().as_str()
            )),
        }
    }

    /// `SEND`s, authorized and published in order, one step.
    pub(super) fn on_send(
        &mut self,
        frames: Vec<Frame>,
        receipt: Option<String>,
    ) -> Result<(), String> {
        let mut sends = Vec::with_capacity(frames.len());
        for frame in frames {
            let destination = frame
                .header("destination")
                .ok_or("SEND without a destination")?;
            let topic = topic_of(destination)?;
            let mut event = Event::new(Bytes::clone(frame.body()));
            if let Some(kind) = frame.header("x-event-type") {
                event = event.with_event(kind);
            }
            if let Some(id) = frame.header("x-event-id") {
                event = event.with_id(id);
            }
            sends.push((topic, event));
        }
        let (broker, publish, request) = (
            self.broker.clone(),
            self.publish.clone(),
            self.request.clone(),
        );
        let done = Box::pin(async move {
            for (topic, event) in sends {
                publish
                    .authorize_send(&request, &topic)
                    .await
                    .map_err(|r| r.message().to_owned())?;
                broker
                    .publish(core::slice::from_ref(&topic), event)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        self.pending = Some(Pending::Send { done, receipt });
        Ok(())
    }
}
