//! The event a server pushes.

use bytes::Bytes;

/// One event, as every transport understands it.
///
/// `data` is opaque bytes: SSE and the JSON transports carry it as UTF-8 text, WebSocket may carry it
/// as a binary frame. `event` is the optional type (SSE's `event:` field, `message` when absent);
/// `id` is a publisher-supplied id, if any — the broker's [`Cursor`](crate::Cursor) is assigned
/// separately and is what clients resume from; `retry` is a reconnection hint in milliseconds;
/// `replace` is a replacement key, for transports that hold messages for an absent client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Event {
    /// The event type, if any.
    pub event: Option<String>,
    /// The payload.
    pub data: Bytes,
    /// An id chosen by the publisher (or, on a decoded SSE stream, the last event id), if any.
    pub id: Option<String>,
    /// A reconnection delay in milliseconds, if any.
    pub retry: Option<u64>,
    /// Who may receive it: every subscriber of its topics, or only those granted private events.
    pub audience: crate::Audience,
    /// A replacement key, if the publisher gave one: a transport that holds undelivered
    /// messages (Web Push's push service, RFC 8030 `Topic`) lets a newer event with the same
    /// key replace an older one still waiting. Live transports deliver every event anyway.
    pub replace: Option<String>,
}

impl Event {
    /// An event with this data and nothing else.
    pub fn new(data: impl Into<Bytes>) -> Self {
        Self {
            data: data.into(),
            ..Self::default()
        }
    }

    /// Sets the event type.
    #[must_use]
    pub fn with_event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(event.into());
        self
    }

    /// Sets the publisher-supplied id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the reconnection hint in milliseconds.
    #[must_use]
    pub fn with_retry(mut self, retry_ms: u64) -> Self {
        self.retry = Some(retry_ms);
        self
    }

    /// Sets who may receive the event.
    #[must_use]
    pub fn with_audience(mut self, audience: crate::Audience) -> Self {
        self.audience = audience;
        self
    }

    /// Sets the replacement key.
    #[must_use]
    pub fn with_replace(mut self, key: impl Into<String>) -> Self {
        self.replace = Some(key.into());
        self
    }

    /// The size this event counts for in byte budgets (data, type, id and replacement key).
    pub fn weight(&self) -> usize {
        self.data.len()
            + self.event.as_ref().map_or(0, String::len)
            + self.id.as_ref().map_or(0, String::len)
            + self.replace.as_ref().map_or(0, String::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_every_field() {
        let e = Event::new("hi")
            .with_event("greet")
            .with_id("7")
            .with_retry(1500)
            .with_replace("k");
        assert_eq!(e.replace.as_deref(), Some("k"));
        assert_eq!(e.data, Bytes::from_static(b"hi"));
        assert_eq!(e.event.as_deref(), Some("greet"));
        assert_eq!(e.id.as_deref(), Some("7"));
        assert_eq!(e.retry, Some(1500));
        assert_eq!(e.weight(), 2 + 5 + 1 + 1);
    }
}
