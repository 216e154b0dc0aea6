//! The two zero-copy forms of a dispatched event: [`EventRef`], borrowed from the decoder
//! ([`Decoder::poll_ref`](crate::Decoder::poll_ref)), and [`SharedEvent`], which shares the
//! input chunk ([`Decoder::poll_shared`](crate::Decoder::poll_shared)); each inside a
//! [`Decoded`](crate::Decoded).

use std::sync::Arc;

use arrayvec::ArrayString;
use bytes::Bytes;
use push_core::Event;

/// A dispatched event borrowed from the decoder: nothing copied, nothing reference-counted.
///
/// The data is a slice of the input chunk when it was a single line lying in the chunk being
/// read, else of the decoder's buffer; the type and id are the decoder's own (the id is the
/// last event id at dispatch). All three are valid UTF-8 (invalid input replaced with U+FFFD),
/// with the same values as the [`Event`] of [`Decoded::Event`](crate::Decoded::Event). The borrow
/// ends at the next call on the decoder: what is kept must be copied
/// ([`to_event`](Self::to_event)). This is the fastest way to decode, for a consumer that
/// handles each event at once (deserialises its JSON, say).
///
/// ```
/// use bytes::Bytes;
/// use push_sse::{Decoded, Decoder};
///
/// let mut decoder = Decoder::new();
/// decoder.feed_bytes(Bytes::from_static(b"event: tick\nid: 7\ndata: {\"n\":1}\n\n"));
/// while let Some(item) = decoder.poll_ref().unwrap() {
///     if let Decoded::Event(event) = item {
///         assert_eq!(event.event_type(), "tick");
///         assert_eq!(event.data(), "{\"n\":1}");
///         assert_eq!(event.last_event_id(), "7");
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventRef<'a> {
    event: &'a str,
    data: &'a str,
    id: &'a str,
}

impl<'a> EventRef<'a> {
    pub(crate) fn new(event: &'a str, data: &'a str, id: &'a str) -> Self {
        Self { event, data, id }
    }

    /// The event type (`message` when the stream gave none or an empty one).
    pub fn event_type(&self) -> &'a str {
        self.event
    }

    /// The data: lines joined by LF.
    pub fn data(&self) -> &'a str {
        self.data
    }

    /// The last event id at dispatch (`""` until the stream sets one).
    pub fn last_event_id(&self) -> &'a str {
        self.id
    }

    /// As an owned [`Event`], the same as [`Decoder::poll_owned`](crate::Decoder::poll_owned)
    /// gives (`event` and `id` always `Some`, `retry` `None`).
    pub fn to_event(&self) -> Event {
        Event {
            event: Some(self.event.to_owned()),
            id: Some(self.id.to_owned()),
            data: Bytes::copy_from_slice(self.data.as_bytes()),
            retry: None,
            audience: push_core::Audience::Public,
            replace: None,
        }
    }
}

/// A dispatched event whose fields share the input's memory.
///
/// The type, data and id are valid UTF-8 (invalid input replaced with U+FFFD), with the same
/// values as the [`Event`] of [`Decoded::Event`](crate::Decoded::Event).
///
/// What is copied: when the stream was fed with
/// [`Decoder::feed_bytes`](crate::Decoder::feed_bytes) and the event has a single `data` line
/// lying wholly in the chunk being read, the data is a slice of that chunk (a reference count,
/// no copy). Data of several lines is joined in one new buffer; a line that spans two chunks, or
/// came through [`Decoder::feed`](crate::Decoder::feed), is copied. The type and id are stored
/// in the event itself when short (up to 30 bytes: no allocation), else as a shared copy.
///
/// Memory: events share the chunk's memory. Keeping one event keeps its whole chunk alive, so a
/// small event kept for long can hold many times its size: copy the data of what you keep
/// ([`detach`](Self::detach)) if you keep many small events for long.
///
/// ```
/// use bytes::Bytes;
/// use push_sse::{Decoded, Decoder};
///
/// let mut decoder = Decoder::new();
/// decoder.feed_bytes(Bytes::from_static(b"\nevent: tick\nid: 7\ndata: {\"n\":1}\n\n"));
/// let Some(Decoded::Event(event)) = decoder.poll_shared().unwrap() else {
///     panic!("expected an event");
/// };
/// assert_eq!(event.event_type(), "tick");
/// assert_eq!(event.data_str(), "{\"n\":1}");
/// assert_eq!(event.last_event_id(), "7");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SharedEvent {
    event: Text,
    data: Bytes,
    id: Text,
}

impl SharedEvent {
    /// `data` already validated as UTF-8.
    pub(crate) fn new(event: Text, data: Bytes, id: Text) -> Self {
        Self { event, data, id }
    }

    /// The event type (`message` when the stream gave none or an empty one).
    pub fn event_type(&self) -> &str {
        self.event.as_str()
    }

    /// The data: lines joined by LF, UTF-8.
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// The data as text.
    pub fn data_str(&self) -> &str {
        text(&self.data)
    }

    /// The last event id at dispatch (`""` until the stream sets one).
    pub fn last_event_id(&self) -> &str {
        self.id.as_str()
    }

    /// The same event with its data copied, so that it keeps no input chunk alive.
    #[must_use]
    pub fn detach(self) -> Self {
        Self {
            data: Bytes::copy_from_slice(&self.data),
            ..self
        }
    }

    /// As an [`Event`], the same as [`Decoder::poll_owned`](crate::Decoder::poll_owned) gives
    /// (`event` and `id` always `Some`, `retry` `None`). The type and id are copied into
    /// `String`s; the data stays shared.
    pub fn into_event(self) -> Event {
        Event {
            event: Some(self.event_type().to_owned()),
            id: Some(self.last_event_id().to_owned()),
            data: self.data,
            retry: None,
            audience: push_core::Audience::Public,
            replace: None,
        }
    }
}

/// Bytes this crate validated as UTF-8, as text (validated again: safe code has no other way).
fn text(bytes: &[u8]) -> &str {
    crate::utf8::text(bytes).unwrap_or_default()
}

/// How long a type or id is kept inline in an [`SharedEvent`] (no allocation, no reference count).
const INLINE: usize = 30;

/// A short text stored inline, a longer one shared; either way known to be UTF-8, so reading it
/// costs nothing (no validation per access).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Text {
    Inline(ArrayString<INLINE>),
    Shared(Arc<str>),
}

impl Text {
    /// `text`, inline if short, else copied into an `Arc`.
    pub(crate) fn new(text: &str) -> Self {
        match ArrayString::from(text) {
            Ok(inline) => Self::Inline(inline),
            Err(_) => Self::Shared(Arc::from(text)),
        }
    }

    /// Whether [`Self::new`] would store `len` bytes inline.
    pub(crate) fn fits(len: usize) -> bool {
        len <= INLINE
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Inline(inline) => inline,
            Self::Shared(shared) => shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_and_conversions() {
        let e = SharedEvent::new(
            Text::new("message"),
            Bytes::from_static("d\u{e9}".as_bytes()),
            Text::new(""),
        );
        let long = "x".repeat(INLINE + 1);
        assert_eq!(Text::new(&long).as_str(), long);
        assert!(matches!(Text::new(&long), Text::Shared(_)));
        assert_eq!(
            (e.event_type(), e.data_str(), e.last_event_id()),
            ("message", "dé", "")
        );
        assert_eq!(e.clone().detach(), e);
        let owned = e.clone().into_event();
        assert_eq!(owned.event.as_deref(), Some("message"));
        assert_eq!(owned.id.as_deref(), Some(""));
        assert_eq!(owned.data, e.data);
        assert_eq!(
            crate::Decoded::Event(e).into_owned(),
            crate::Decoded::Event(owned.clone())
        );
        assert_eq!(
            crate::Decoded::<SharedEvent>::Retry(5).into_owned(),
            crate::Decoded::Retry(5)
        );
    }
}
