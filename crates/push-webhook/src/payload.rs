//! The body of a delivery: JSON with the specification's `type`, `timestamp` and `data`, and the
//! push fields a receiver needs — the topic, the event's cursor (to reorder when several
//! deliveries are in flight), and the id the client gave its registration, echoed unchanged.

use std::time::SystemTime;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `type` of a delivery carrying a published event.
pub const EVENT_TYPE: &str = "push.event";
/// The `type` of the event a hub publishes when it disables a registration.
pub const DISABLED_TYPE: &str = "push.callback.disabled";

/// One delivery's body, before serialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload<'a> {
    /// The dot-delimited type ([`EVENT_TYPE`] for events).
    pub kind: &'a str,
    /// When the event happened (written as RFC 3339, UTC).
    pub timestamp: SystemTime,
    /// The topic the event was published on.
    pub topic: &'a str,
    /// The event's cursor in the hub's history.
    pub cursor: &'a str,
    /// The id the client supplied when it registered, echoed unchanged.
    pub registration: &'a str,
    /// The event's own type (SSE `event`), if any.
    pub event: Option<&'a str>,
    /// The event's data, as published.
    pub data: &'a str,
}

impl Payload<'_> {
    /// The minified JSON body: these exact bytes are signed and sent.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let mut data = Map::new();
        if let Some(event) = self.event {
            data.insert("event".into(), event.into());
        }
        data.insert("data".into(), self.data.into());
        let mut body = Map::new();
        body.insert("type".into(), self.kind.into());
        body.insert("timestamp".into(), rfc3339(self.timestamp).into());
        body.insert("topic".into(), self.topic.into());
        body.insert("cursor".into(), self.cursor.into());
        body.insert("registration".into(), self.registration.into());
        body.insert("data".into(), Value::Object(data));
        // A map of strings always serializes.
        serde_json::to_vec(&Value::Object(body)).expect("JSON of strings")
    }
}

fn rfc3339(at: SystemTime) -> String {
    // Every SystemTime of a running system is within `time`'s range (±9999 years).
    OffsetDateTime::from(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn the_body_carries_every_field_and_escapes_data() {
        let payload = Payload {
            kind: EVENT_TYPE,
            timestamp: UNIX_EPOCH + Duration::from_millis(1_667_507_170_344),
            topic: "orders/1",
            cursor: "5eed-2a",
            registration: "client\"42\"",
            event: Some("created"),
            data: "{\"total\":3}\n",
        };
        let body = payload.to_json();
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["type"], "push.event");
        assert_eq!(value["timestamp"], "2022-11-03T20:26:10.344Z");
        assert_eq!(value["topic"], "orders/1");
        assert_eq!(value["cursor"], "5eed-2a");
        assert_eq!(value["registration"], "client\"42\"");
        assert_eq!(value["data"]["event"], "created");
        assert_eq!(value["data"]["data"], "{\"total\":3}\n");
        assert!(!body.contains(&b' '), "minified");
    }
}
