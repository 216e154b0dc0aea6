//! What a [`Client`](super::Client) yields: the server's messages, parsed and checked.

use std::borrow::Cow;

use bytes::Bytes;
use http::StatusCode;
use push_core::{Cursor, Topic};
use serde::Deserialize;

/// One message of the push protocol from the server (see the
/// [crate documentation](crate#the-push-protocol)).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The connection's selection is now `topics`, delivering events after `cursor`.
    Subscribed {
        /// The whole selection.
        topics: Vec<Topic>,
        /// The cursor the selection delivers after.
        cursor: Cursor,
    },
    /// An event (its binary data already paired with its announcement).
    Event {
        /// The topic it was published on.
        topic: Topic,
        /// Its cursor: what the client resumes after.
        id: Cursor,
        /// Its type, if it has one.
        event: Option<String>,
        /// Its data (text, or the bytes of the binary frame that followed).
        data: Bytes,
    },
    /// Events were lost; what follows is everything after `resume`.
    Gap {
        /// Why (`overflow`, `evicted`, `unknown-epoch`, `from-future`).
        reason: String,
        /// The cursor delivery resumes after.
        resume: Cursor,
    },
    /// The server refused a command: malformed, refused by the broker, or (with a status) by
    /// its hooks. The connection and its selection are unchanged.
    Rejected {
        /// The status of the hooks' refusal (401, 403, …), if it was theirs.
        status: Option<StatusCode>,
        /// Why.
        message: String,
    },
}

impl Item {
    /// The cursor a reconnection resumes after, once this item was seen.
    pub(crate) fn cursor(&self) -> Option<Cursor> {
        match self {
            Self::Subscribed { cursor, .. } => Some(*cursor),
            Self::Event { id, .. } => Some(*id),
            Self::Gap { resume, .. } => Some(*resume),
            Self::Rejected { .. } => None,
        }
    }
}

/// A text message: an item, an event whose binary data follows (with its length), or nothing
/// (a message type this client does not know, ignored for forward compatibility).
pub(crate) enum Parsed {
    Item(Item),
    Binary(Item, u64),
    Unknown,
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    topic: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    topics: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    cursor: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    resume: Option<Cow<'a, str>>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    binary: Option<u64>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    message: Option<String>,
}

/// Parses one text message from the server.
pub(crate) fn parse(text: &str) -> Result<Parsed, String> {
    let raw: Raw<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let cursor = |field: &str, value: Option<Cow<'_, str>>| -> Result<Cursor, String> {
        let value = value.ok_or_else(|| format!("{} without {field}", raw.kind))?;
        Cursor::parse(&value).map_err(|e| format!("{field}: {e}"))
    };
    let topic = |name: &str| Topic::new(name).map_err(|e| format!("topic: {e}"));
    Ok(match &*raw.kind {
        "subscribed" => Parsed::Item(Item::Subscribed {
            topics: (raw.topics.iter().flatten())
                .map(|t| topic(t))
                .collect::<Result<_, _>>()?,
            cursor: cursor("cursor", raw.cursor.clone())?,
        }),
        "event" => {
            let name = raw.topic.as_deref().ok_or("event without topic")?;
            let item = |data: Bytes| -> Result<Item, String> {
                Ok(Item::Event {
                    topic: topic(name)?,
                    id: cursor("id", raw.id.clone())?,
                    event: raw.event.clone(),
                    data,
                })
            };
            match (raw.data.clone(), raw.binary) {
                (Some(text), _) => Parsed::Item(item(Bytes::from(text))?),
                (None, Some(len)) => Parsed::Binary(item(Bytes::new())?, len),
                (None, None) => return Err("event without data".to_owned()),
            }
        }
        "gap" => Parsed::Item(Item::Gap {
            reason: raw.reason.clone().unwrap_or_default(),
            resume: cursor("resume", raw.resume.clone())?,
        }),
        "error" => Parsed::Item(Item::Rejected {
            status: raw.status.and_then(|s| StatusCode::from_u16(s).ok()),
            message: raw.message.clone().unwrap_or_default(),
        }),
        _ => Parsed::Unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use push_core::{Event, Published};

    /// What the server encodes, the client parses back.
    #[test]
    fn server_messages_parse_back() {
        let topic = Topic::new("t\"x").unwrap();
        let event = Published::new(
            topic.clone(),
            Cursor::new(1, 2),
            Event::new("a\nb").with_event("k"),
        );
        let (json, _) = crate::encode_event(&event);
        let Ok(Parsed::Item(item)) = parse(core::str::from_utf8(&json).unwrap()) else {
            panic!()
        };
        assert_eq!(
            item,
            Item::Event {
                topic: topic.clone(),
                id: Cursor::new(1, 2),
                event: Some("k".into()),
                data: Bytes::from("a\nb")
            }
        );
        let binary = Published::new(topic.clone(), Cursor::new(1, 3), Event::new(vec![0xff]));
        let (json, _) = crate::encode_event(&binary);
        assert!(matches!(
            parse(core::str::from_utf8(&json).unwrap()),
            Ok(Parsed::Binary(_, 1))
        ));
        let subscribed = crate::encode_subscribed(&[topic], Cursor::new(1, 0));
        let Ok(Parsed::Item(item)) = parse(&subscribed) else {
            panic!()
        };
        assert_eq!(item.cursor(), Some(Cursor::new(1, 0)));
        let refused = crate::encode_refusal(StatusCode::FORBIDDEN, "no");
        let Ok(Parsed::Item(Item::Rejected { status, message })) = parse(&refused) else {
            panic!()
        };
        assert_eq!(
            (status, message.as_str()),
            (Some(StatusCode::FORBIDDEN), "no")
        );
        assert!(matches!(parse(r#"{"type":"future"}"#), Ok(Parsed::Unknown)));
        for bad in [
            "nope",
            r#"{"type":"event","id":"1-1","data":"x"}"#,
            r#"{"type":"event","topic":"t","id":"zz","data":"x"}"#,
            r#"{"type":"gap","reason":"overflow"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
