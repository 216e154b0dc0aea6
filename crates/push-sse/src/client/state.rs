//! The client's state machine, sans-IO: what [`EventSource`](super::EventSource) does between
//! its socket reads, with the time as an argument. Stream bytes, connection outcomes and the
//! current time go in; items and reconnection decisions (the delay, the `Last-Event-ID` to send)
//! come out.
//!
//! ```text
//!   handle_open(now) ──► a stream begins (a decoder that starts from the last event id)
//!   handle_bytes(chunk) ─► poll_item ──► Item::Event / Item::Retry (applied to the backoff)
//!   handle_end() ──► poll_item drains what is complete; an unfinished event is discarded
//!   handle_disconnect(now) ──► Some(Reconnect { delay, last_event_id, withheld_id }) or None
//! ```
//!
//! An id that cannot be sent: a stream may set an id holding a control character (`id: a\x01b`;
//! only NUL makes the decoder ignore an id), which no HTTP field value may carry, so no
//! `Last-Event-ID` header can send it (browsers send it anyway; an HTTP library refuses it). The
//! state then resumes from the most recent id it saw that can be sent (that of the last event
//! delivered with one, or of the previous connection; none if there is none) and says so in
//! [`Reconnect::withheld_id`]: the server may resend events, it does not skip them silently
//! because of an id it chose. The id the events report is still the stream's own.

use std::time::{Duration, Instant};

use bytes::Bytes;

use push_core::Event;

use crate::{Config, Decoded, Decoder, Error};
use push_http::client::{Backoff, ReconnectPolicy};

/// What a client yields: an event, or the reconnection time the server set.
///
/// (The decoder's own output is a [`Decoded`]; a client yields items.)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// An event: its type `Some("message")` when the stream gave none, its data UTF-8 with lines
    /// joined by LF, its id the event source's last event id at dispatch (`Some("")` until a
    /// stream sets one); `retry` is `None`.
    Event(Event),
    /// The server set the reconnection time (`retry:`), as sent; the client applies it clamped
    /// into its policy's `[floor, cap]`.
    Retry(Duration),
}

/// The sans-IO state of a reconnecting Server-Sent Events client: the event source's last
/// event id, the reconnection policy, and the stream being read.
///
/// The last event id follows the WHATWG rules: it is the decoder's last event id buffer at each
/// blank line, also one that dispatches no event (`id: 7` then a blank line), and it carries
/// over to the next connection, whose events that set no id report it.
///
/// ```
/// use std::time::{Duration, Instant};
/// use bytes::Bytes;
/// use push_sse::Config;
/// use push_sse::client::{EventSourceState, Item, ReconnectPolicy};
///
/// let mut state = EventSourceState::new(ReconnectPolicy::default(), Config::default(), 1);
/// let t = Instant::now();
/// state.handle_open(t);
/// state.handle_bytes(Bytes::from_static(b"retry: 0\nid: 7\n\n"));
/// assert_eq!(state.poll_item(), Ok(Some(Item::Retry(Duration::ZERO))));
/// assert_eq!(state.poll_item(), Ok(None)); // an id-only block fires no event...
/// state.handle_end();
/// let next = state.handle_disconnect(t).expect("the policy retries");
/// assert_eq!(next.last_event_id.as_deref(), Some("7")); // ...but sets the id to send
/// assert!(next.delay >= Duration::from_millis(250)); // `retry: 0` is raised to the floor
/// ```
#[derive(Debug)]
pub struct EventSourceState {
    backoff: Backoff,
    config: Config,
    /// The event source's last event id while no stream is open.
    last_event_id: String,
    /// The stream being read, if any: its decoder holds the last event id meanwhile.
    stream: Option<Decoder>,
    /// The most recent last event id seen that [can be sent](is_sendable_id): what a reconnection
    /// sends when the event source's own cannot be.
    sendable_id: String,
}

/// What to do after a disconnection: wait `delay`, then send a request with this
/// `Last-Event-ID` header (none when the id is empty).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconnect {
    /// How long to wait before the next attempt (within the policy's `[floor, cap]`).
    pub delay: Duration,
    /// The `Last-Event-ID` header of the next request, `None` when there is no id to send.
    /// Always a valid HTTP field value: the event source's last event id, or, when that cannot
    /// be sent (see [`withheld_id`](Self::withheld_id)), the most recent id seen that can.
    pub last_event_id: Option<String>,
    /// The event source's last event id when it cannot be sent as a header value (it holds a
    /// control character other than tab): the next request resumes from `last_event_id`
    /// instead, so the server may resend events already delivered. `None` normally.
    pub withheld_id: Option<String>,
}

/// Whether `id` can be sent as a `Last-Event-ID` header: an HTTP field value (RFC 9110 §5.5)
/// holds no control character but tab. Bytes from 0x80 are allowed (UTF-8 is sent as it is, as
/// browsers do). This is the `http` crate's rule for `HeaderValue`.
pub(crate) fn is_sendable_id(id: &str) -> bool {
    id.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7F))
}

impl EventSourceState {
    /// A client state with this policy and these decoder limits; `seed` drives the jitter.
    pub fn new(policy: ReconnectPolicy, config: Config, seed: u64) -> Self {
        Self {
            backoff: Backoff::new(policy, seed),
            config,
            last_event_id: String::new(),
            stream: None,
            sendable_id: String::new(),
        }
    }

    /// Starts from this last event id (a resumed client). An id that cannot be sent as a header
    /// value is kept as the event source's, and no `Last-Event-ID` is sent until one that can is
    /// seen ([`Reconnect::withheld_id`] says so).
    #[must_use]
    pub fn with_last_event_id(mut self, id: impl Into<String>) -> Self {
        self.last_event_id = id.into();
        self.sendable_id.clear();
        if is_sendable_id(&self.last_event_id) {
            self.sendable_id.clone_from(&self.last_event_id);
        }
        if let Some(decoder) = self.stream.take() {
            self.stream = Some(decoder.with_last_event_id(self.last_event_id.clone()));
        }
        self
    }

    /// Uses this reconnection policy from now on (the failure count starts over).
    pub fn set_policy(&mut self, policy: ReconnectPolicy, seed: u64) {
        self.backoff = Backoff::new(policy, seed);
    }

    /// Uses these decoder limits from the next stream on.
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
    }

    /// The event source's last event id: the id of the last block a blank line ended.
    pub fn last_event_id(&self) -> &str {
        match &self.stream {
            Some(decoder) => decoder.last_event_id(),
            None => &self.last_event_id,
        }
    }

    /// The `Last-Event-ID` header a request sent now carries: `None` when the id is empty.
    ///
    /// Always a valid HTTP field value: when the event source's last event id cannot be sent (a
    /// control character), the most recent id seen that can (see [`Reconnect::withheld_id`]).
    pub fn request_last_event_id(&self) -> Option<&str> {
        let id = self.last_event_id();
        let id = if is_sendable_id(id) {
            id
        } else {
            &self.sendable_id
        };
        Some(id).filter(|id| !id.is_empty())
    }

    /// The reconnection policy's state.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// Whether a stream is open (between [`handle_open`](Self::handle_open) and
    /// [`handle_disconnect`](Self::handle_disconnect)).
    pub fn is_open(&self) -> bool {
        self.stream.is_some()
    }

    /// A request was answered `200 text/event-stream` at `now`: a new stream begins, with the
    /// event source's last event id. A stream still open is dropped first.
    pub fn handle_open(&mut self, now: Instant) {
        self.close_stream();
        self.backoff.connected(now);
        let id = core::mem::take(&mut self.last_event_id);
        self.stream = Some(Decoder::with_config(self.config).with_last_event_id(id));
    }

    /// Bytes of the open stream's body (ignored when no stream is open).
    pub fn handle_bytes(&mut self, chunk: Bytes) {
        if let Some(decoder) = &mut self.stream {
            decoder.feed_bytes(chunk);
        }
    }

    /// The open stream's body ended: [`poll_item`](Self::poll_item) yields what is complete, the
    /// unfinished event is discarded; then call [`handle_disconnect`](Self::handle_disconnect).
    pub fn handle_end(&mut self) {
        if let Some(decoder) = &mut self.stream {
            decoder.finish();
        }
    }

    /// The next item of the open stream; a `retry` is applied to the backoff (clamped) before it
    /// is returned.
    ///
    /// - `Ok(Some(item))`: poll again.
    /// - `Ok(None)`: feed more ([`handle_bytes`](Self::handle_bytes)), or after
    ///   [`handle_end`](Self::handle_end) call [`handle_disconnect`](Self::handle_disconnect).
    /// - `Err(e)`: the stream broke a decoder limit; it is over (call
    ///   [`handle_disconnect`](Self::handle_disconnect)).
    #[must_use = "the item or error is lost if not used"]
    pub fn poll_item(&mut self) -> Result<Option<Item>, Error> {
        let Some(decoder) = &mut self.stream else {
            return Ok(None);
        };
        Ok(match decoder.poll_owned()? {
            Some(Decoded::Retry(ms)) => {
                let retry = Duration::from_millis(ms);
                self.backoff.set_retry(retry);
                Some(Item::Retry(retry))
            }
            Some(Decoded::Event(e)) => {
                let id = e.id.as_deref().unwrap_or("");
                if id != self.sendable_id && is_sendable_id(id) {
                    self.sendable_id.clear();
                    self.sendable_id.push_str(id);
                }
                Some(Item::Event(e))
            }
            None => None,
        })
    }

    /// The stream ended, broke, or the attempt failed, at `now`: when and with which id to
    /// reconnect, or `None` when the policy says stop. Anything unread of the stream is dropped.
    ///
    /// The id to send is always a valid header value; when the event source's last event id is
    /// not one, [`Reconnect::withheld_id`] holds it and the request resumes from an earlier id.
    pub fn handle_disconnect(&mut self, now: Instant) -> Option<Reconnect> {
        self.close_stream();
        let delay = self.backoff.disconnected(now)?;
        Some(Reconnect {
            delay,
            last_event_id: self.request_last_event_id().map(str::to_owned),
            withheld_id: (!is_sendable_id(&self.last_event_id)).then(|| self.last_event_id.clone()),
        })
    }

    /// Drops the open stream, keeping its last event id (and, if it can be sent, as the one to
    /// resume from).
    fn close_stream(&mut self) {
        if let Some(decoder) = self.stream.take() {
            self.last_event_id = decoder.last_event_id().to_owned();
            if is_sendable_id(&self.last_event_id) {
                self.sendable_id.clone_from(&self.last_event_id);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // Tests need a starting instant; the state never reads one.
mod tests {
    use super::*;

    fn state() -> EventSourceState {
        let policy = ReconnectPolicy::default()
            .with_min(Duration::from_millis(10))
            .with_max(Duration::from_secs(1));
        EventSourceState::new(policy, Config::default(), 11)
    }

    fn drain(s: &mut EventSourceState) -> Vec<Item> {
        let mut out = Vec::new();
        while let Ok(Some(item)) = s.poll_item() {
            out.push(item);
        }
        out
    }

    #[test]
    fn an_id_only_block_sets_the_id_sent_on_reconnection() {
        let mut s = state();
        let t = Instant::now();
        s.handle_open(t);
        s.handle_bytes(Bytes::from_static(
            b"id: 1\ndata: a\n\nid: 7\n\nid: 8\ndata: cut",
        ));
        assert_eq!(drain(&mut s).len(), 1);
        assert_eq!(s.last_event_id(), "7");
        s.handle_end();
        assert!(drain(&mut s).is_empty());
        let next = s.handle_disconnect(t).unwrap();
        // `id: 8` belongs to the event the end of the stream cut off: discarded.
        assert_eq!(next.last_event_id.as_deref(), Some("7"));
        // The next stream starts from it.
        s.handle_open(t);
        s.handle_bytes(Bytes::from_static(b"data: b\n\n"));
        let [Item::Event(e)] = &drain(&mut s)[..] else {
            panic!("one event");
        };
        assert_eq!(e.id.as_deref(), Some("7"));
    }

    #[test]
    fn an_empty_id_sends_no_header_and_a_decode_error_keeps_the_id() {
        let mut s = state().with_last_event_id("3");
        assert_eq!(s.request_last_event_id(), Some("3"));
        let t = Instant::now();
        s.handle_open(t);
        s.handle_bytes(Bytes::from_static(b"id\n\n"));
        assert!(drain(&mut s).is_empty());
        assert_eq!(s.request_last_event_id(), None);
        s.set_config(Config::new().with_max_line_len(8));
        s.handle_open(t);
        s.handle_bytes(Bytes::from_static(b"id: 4\n\nevent: far too long\n"));
        assert_eq!(s.poll_item(), Err(Error::LineTooLong));
        let next = s.handle_disconnect(t).unwrap();
        assert_eq!(next.last_event_id.as_deref(), Some("4"));
    }

    #[test]
    fn an_id_that_cannot_be_a_header_value_is_withheld_and_the_last_sendable_one_sent() {
        let mut s = state();
        let t = Instant::now();
        s.handle_open(t);
        // `a\x01b` is a valid SSE id (only NUL is ignored) but no HTTP field value.
        s.handle_bytes(Bytes::from_static(
            b"id: 5\ndata: a\n\nid: 6\n\nid: a\x01b\ndata: b\n\nid: a\x7fc\n\n",
        ));
        let ids: Vec<_> = drain(&mut s)
            .into_iter()
            .filter_map(|i| match i {
                Item::Event(e) => e.id,
                Item::Retry(_) => None,
            })
            .collect();
        // The events report the stream's ids as they are.
        assert_eq!(ids, ["5", "a\x01b"]);
        assert_eq!(s.last_event_id(), "a\x7fc");
        // `id: 6` was never seen on an event: the resume point is the last event's sendable id.
        assert_eq!(s.request_last_event_id(), Some("5"));
        s.handle_end();
        let next = s.handle_disconnect(t).expect("the policy retries");
        assert_eq!(next.last_event_id.as_deref(), Some("5"));
        assert_eq!(next.withheld_id.as_deref(), Some("a\x7fc"));
        // A reconnection as any other: a backoff delay, never an immediate retry.
        let policy = s.backoff().policy();
        let (floor, cap) = (policy.min(), policy.max().max(policy.min()));
        assert!(next.delay >= floor && next.delay <= cap, "{:?}", next.delay);
        assert!(next.delay > Duration::ZERO);
        // The next stream's events still carry the event source's id; once a sendable id ends a
        // block, it is sent again.
        s.handle_open(t);
        s.handle_bytes(Bytes::from_static(b"data: c\n\nid: \t7\n\n"));
        let [Item::Event(e)] = &drain(&mut s)[..] else {
            panic!("one event");
        };
        assert_eq!(e.id.as_deref(), Some("a\x7fc"));
        let next = s.handle_disconnect(t).unwrap();
        assert_eq!(next.last_event_id.as_deref(), Some("\t7"));
        assert_eq!(next.withheld_id, None);
        // Nothing sendable seen at all: no header, and the id is still reported withheld.
        let mut s = state().with_last_event_id("x\ny");
        assert_eq!(s.request_last_event_id(), None);
        let next = s.handle_disconnect(t).unwrap();
        assert_eq!(next.last_event_id, None);
        assert_eq!(next.withheld_id.as_deref(), Some("x\ny"));
    }

    #[test]
    fn sendable_ids_are_http_field_values() {
        assert!(is_sendable_id("") && is_sendable_id("a b\tc") && is_sendable_id("é~"));
        for bad in (0u8..0x20).filter(|&b| b != b'\t').chain([0x7F]) {
            assert!(
                !is_sendable_id(&format!("a{}", char::from(bad))),
                "{bad:#x}"
            );
        }
    }

    #[test]
    fn retry_is_applied_clamped_and_bytes_without_a_stream_are_ignored() {
        let mut s = state();
        s.handle_bytes(Bytes::from_static(b"data: x\n\n"));
        assert_eq!(s.poll_item(), Ok(None));
        let t = Instant::now();
        s.handle_open(t);
        s.handle_bytes(Bytes::from_static(b"retry: 99999999999999999\n"));
        assert_eq!(
            s.poll_item(),
            Ok(Some(Item::Retry(Duration::from_millis(
                99_999_999_999_999_999
            ))))
        );
        assert_eq!(s.backoff().retry(), Duration::from_secs(1));
        let next = s.handle_disconnect(t).unwrap();
        assert!(next.delay >= Duration::from_millis(500) && next.delay <= Duration::from_secs(1));
        assert!(!s.is_open());
    }
}
