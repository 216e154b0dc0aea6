//! The JSON push protocol, sans-IO: parsing client commands and encoding server messages.

use core::fmt;
use std::borrow::Cow;

use bytes::{Buf, Bytes};
use http::StatusCode;
use push_core::{Cursor, Gap, Published, Resume, Topic};
use push_http::json::push_string;

/// The key of this crate's event messages in [`Published::encoded`]'s cache.
struct WsEncoding;
use serde::{Deserialize, Serialize};

use std::io::Write as _;

/// A command from the client, parsed and validated.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Add `topics` to the connection's selection; with `from`, resume the whole selection after
    /// that cursor (otherwise continue from the connection's cursor, or live for a first subscribe).
    Subscribe {
        /// The topics to add (at least one).
        topics: Vec<Topic>,
        /// Where to resume: a cursor, or an id the server's broker places
        /// ([`Broker::place`](push_core::Broker::place): a Mercure update id seen over SSE,
        /// say; one it cannot place is a gap, then all it retains).
        from: Option<Resume>,
    },
    /// Remove `topics` from the connection's selection.
    Unsubscribe {
        /// The topics to remove (at least one).
        topics: Vec<Topic>,
    },
}

/// Why a client message is not a valid command; sent back as an `error` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandError(Cow<'static, str>);

impl CommandError {
    fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self(message.into())
    }

    /// The message sent to the client.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CommandError {}

impl push_http::HttpStatus for CommandError {
    /// 400: the client sent a message that is not a valid command.
    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

#[derive(Deserialize)]
struct RawCommand<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    topics: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    from: Option<Cow<'a, str>>,
}

impl Command {
    /// Parses one client text message. Unknown fields are ignored (for forward compatibility);
    /// an unknown `type`, a malformed topic or cursor, or invalid JSON is an error.
    ///
    /// ```
    /// use push_ws::Command;
    ///
    /// let cmd = Command::parse(r#"{"type":"subscribe","topics":["a","b"],"from":"5-2a"}"#).unwrap();
    /// assert!(matches!(cmd, Command::Subscribe { ref topics, from: Some(_) } if topics.len() == 2));
    /// assert_eq!(
    ///     Command::parse(r#"{"type":"dance"}"#).unwrap_err().message(),
    ///     "unknown command type \"dance\""
    /// );
    /// ```
    pub fn parse(text: &str) -> Result<Self, CommandError> {
        let raw: RawCommand<'_> = serde_json::from_str(text).map_err(|e| {
            // serde_json quotes unexpected strings: keep the message short.
            let message = e.to_string();
            CommandError::new(format!("invalid command: {}", shorten(&message, 160)))
        })?;
        let topics = || -> Result<Vec<Topic>, CommandError> {
            let names = raw
                .topics
                .as_deref()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| CommandError::new("\"topics\" must be a non-empty array"))?;
            if names.len() > push_core::MAX_SELECTOR_TOPICS {
                return Err(CommandError::new("too many topics"));
            }
            names
                .iter()
                .map(|n| {
                    Topic::new(n)
                        .map_err(|e| CommandError::new(format!("topic {:?}: {e}", shorten(n, 64))))
                })
                .collect()
        };
        match &*raw.kind {
            "subscribe" => {
                let from = raw.from.as_deref().map(Resume::parse);
                Ok(Self::Subscribe {
                    topics: topics()?,
                    from,
                })
            }
            "unsubscribe" => Ok(Self::Unsubscribe { topics: topics()? }),
            other => Err(CommandError::new(format!(
                "unknown command type {:?}",
                shorten(other, 64)
            ))),
        }
    }
}

/// At most `max` characters of client input, for error messages.
fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

/// The messages of one event: its JSON text message and, when its data is not UTF-8, the binary
/// message that follows it.
///
/// The JSON is encoded once per event and cached in the shared [`Published`]
/// (under this crate's own key), so fanning an event out to N connections encodes it once.
///
/// ```
/// use push_core::{Cursor, Event, Published, Topic};
///
/// let p = Published::new(Topic::new("t").unwrap(), Cursor::new(5, 1), Event::new("hi"));
/// let (text, binary) = push_ws::encode_event(&p);
/// assert_eq!(text, r#"{"type":"event","topic":"t","id":"5-1","data":"hi"}"#);
/// assert!(binary.is_none());
///
/// let raw = Published::new(Topic::new("t").unwrap(), Cursor::new(5, 2), Event::new(vec![0xff, 0]));
/// let (text, binary) = push_ws::encode_event(&raw);
/// assert_eq!(text, r#"{"type":"event","topic":"t","id":"5-2","binary":2}"#);
/// assert_eq!(binary.as_deref(), Some(&[0xff, 0][..]));
/// ```
pub fn encode_event(published: &Published) -> (Bytes, Option<Bytes>) {
    // The cached bytes start with a kind byte, so the data's UTF-8 check runs once per event,
    // not once per subscriber; advancing past it leaves the shared buffer's count alone.
    let mut json = published.encoded::<WsEncoding>(|p| {
        encode_event_json(p, core::str::from_utf8(&p.event().data).ok())
    });
    let binary = json.first() == Some(&BINARY);
    json.advance(1);
    (json, binary.then(|| published.event().data.clone()))
}

/// The kind byte before a cached event's JSON: its data is text, or binary (sent after it).
const TEXT: u8 = b't';
const BINARY: u8 = b'b';

/// The kind byte, then `{"type":"event","topic":..,"id":..,"event":..,"data":..|"binary":LEN}`,
/// written directly (what `serde_json` would write for that object, without its formatter
/// machinery).
fn encode_event_json(p: &Published, text: Option<&str>) -> Bytes {
    let topic = p.topic().as_str();
    let event = p.event().event.as_deref();
    let cursor = p.cursor();
    let binary = p.event().data.len() as u64;
    // Exact for text data that needs no escaping (the common case), so the buffer becomes
    // `Bytes` without another allocation; an upper bound for the digits of a binary length.
    let id = cursor.text();
    // A string's length as JSON when it needs no escaping (a lower bound otherwise).
    let quoted = |s: &str| s.len() + 2;
    let len = r#"{"type":"event","topic":,"id":""}"#.len()
        + quoted(topic)
        + id.as_bytes().len()
        + event.map_or(0, |e| r#","event":"#.len() + quoted(e))
        + text.map_or(r#","binary":"#.len() + 20, |t| {
            r#","data":"#.len() + quoted(t)
        });
    let mut out = Vec::with_capacity(1 + len);
    out.push(if text.is_some() { TEXT } else { BINARY });
    out.extend_from_slice(br#"{"type":"event","topic":"#);
    push_string(&mut out, topic);
    out.extend_from_slice(br#","id":""#);
    out.extend_from_slice(id.as_bytes());
    out.push(b'"');
    if let Some(event) = event {
        out.extend_from_slice(br#","event":"#);
        push_string(&mut out, event);
    }
    match text {
        Some(text) => {
            out.extend_from_slice(br#","data":"#);
            push_string(&mut out, text);
        }
        None => {
            // Rare (binary data), and `Display` writes what `serde_json` writes for a number.
            let _ = write!(out, r#","binary":{binary}"#);
        }
    }
    out.push(b'}');
    Bytes::from(out)
}

#[derive(Serialize)]
struct GapMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    reason: &'a str,
    resume: String,
}

/// The `gap` message: events were lost; resume from `resume`.
pub fn encode_gap(gap: &Gap) -> String {
    json(&GapMessage {
        kind: "gap",
        reason: gap.reason.as_str(),
        resume: gap.resume.to_string(),
    })
}

#[derive(Serialize)]
struct ErrorMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    message: &'a str,
}

/// The `error` message: a command was refused; the connection stays up.
pub fn encode_error(message: &str) -> String {
    json(&ErrorMessage {
        kind: "error",
        status: None,
        message,
    })
}

/// The `error` message for a subscribe the hooks refused: the [`Refusal`](push_http::Refusal)'s
/// status (401, 403, …) and message; the connection stays up with its selection unchanged.
pub fn encode_refusal(status: StatusCode, message: &str) -> String {
    json(&ErrorMessage {
        kind: "error",
        status: Some(status.as_u16()),
        message,
    })
}

#[derive(Serialize)]
struct SubscribedMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    topics: Vec<&'a str>,
    cursor: String,
}

/// The `subscribed` message: the connection's selection is now `topics`, delivering events
/// after `cursor`.
pub fn encode_subscribed(topics: &[Topic], cursor: Cursor) -> String {
    json(&SubscribedMessage {
        kind: "subscribed",
        topics: topics.iter().map(Topic::as_str).collect(),
        cursor: cursor.to_string(),
    })
}

fn json(value: &impl Serialize) -> String {
    // Serialising structs of strings cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use push_core::{Event, GapReason};

    #[test]
    fn commands_and_their_errors() {
        let a = Topic::new("a").unwrap();
        assert_eq!(
            Command::parse(r#"{"type":"unsubscribe","topics":["a"],"extra":1}"#),
            Ok(Command::Unsubscribe {
                topics: vec![a.clone()]
            })
        );
        assert_eq!(
            Command::parse(r#"{"type":"subscribe","topics":["a"]}"#),
            Ok(Command::Subscribe {
                topics: vec![a],
                from: None
            })
        );
        for (input, want) in [
            ("not json", "invalid command"),
            (r#"{"topics":["a"]}"#, "invalid command"),
            (r#"{"type":"subscribe"}"#, "\"topics\" must be"),
            (r#"{"type":"subscribe","topics":[]}"#, "\"topics\" must be"),
            (r#"{"type":"subscribe","topics":[""]}"#, "topic \"\""),
            (
                r#"{"type":"subscribe","topics":["a"],"from":7}"#,
                "invalid command",
            ),
        ] {
            let err = Command::parse(input).unwrap_err();
            assert!(err.message().starts_with(want), "{input}: {err}");
        }
        let long = format!(r#"{{"type":"{}"}}"#, "x".repeat(500));
        assert!(Command::parse(&long).unwrap_err().message().len() < 100);
        let long = format!(
            r#"{{"type":"subscribe","topics":["{}"]}}"#,
            "\\u007f".repeat(500)
        );
        assert!(Command::parse(&long).unwrap_err().message().len() < 600);
        let long = format!("\"{}\"", "s".repeat(5000));
        assert!(Command::parse(&long).unwrap_err().message().len() < 300);
    }

    #[test]
    fn server_messages() {
        let gap = Gap {
            reason: GapReason::Overflow,
            resume: Cursor::new(1, 9),
        };
        assert_eq!(
            encode_gap(&gap),
            r#"{"type":"gap","reason":"overflow","resume":"1-9"}"#
        );
        assert_eq!(encode_error("a\"b"), r#"{"type":"error","message":"a\"b"}"#);
        assert_eq!(
            encode_refusal(StatusCode::FORBIDDEN, "no"),
            r#"{"type":"error","status":403,"message":"no"}"#
        );
        let topics = [Topic::new("x").unwrap()];
        assert_eq!(
            encode_subscribed(&topics, Cursor::new(1, 0)),
            r#"{"type":"subscribed","topics":["x"],"cursor":"1-0"}"#
        );
        let p = Published::new(
            Topic::new("t\"").unwrap(),
            Cursor::new(1, 2),
            Event::new("x\ny").with_event("k"),
        );
        let (text, bin) = encode_event(&p);
        assert_eq!(
            text,
            r#"{"type":"event","topic":"t\"","id":"1-2","event":"k","data":"x\ny"}"#
        );
        assert!(bin.is_none());
        // Cached: the same bytes come back.
        assert_eq!(encode_event(&p).0.as_ptr(), text.as_ptr());
        // Binary data is told from the cache too: the JSON, then the data itself.
        let raw = Published::new(
            Topic::new("t").unwrap(),
            Cursor::new(1, 3),
            Event::new(vec![0xff]),
        );
        for _ in 0..2 {
            let (json, bin) = encode_event(&raw);
            assert_eq!(
                json,
                r#"{"type":"event","topic":"t","id":"1-3","binary":1}"#
            );
            assert_eq!(bin.as_deref(), Some(&[0xff][..]));
        }
    }

    /// The event encoder writes what serde_json writes for the same object.
    #[test]
    fn events_match_serde_json() {
        #[derive(Serialize)]
        struct EventMessage<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            topic: &'a str,
            id: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            event: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            binary: Option<usize>,
        }
        let datas: [&[u8]; 6] = [
            b"",
            b"hi",
            b"a\"b\\c\x01",
            "é✓\u{7f}".as_bytes(),
            &[0xff],
            &[0; 1000],
        ];
        for (i, data) in datas.into_iter().enumerate() {
            for event in [None, Some("update"), Some("t\tab")] {
                let cursor = Cursor::new(u64::MAX >> (i * 9), i as u64 * 0x1_0000_0001);
                let mut e = Event::new(data.to_vec());
                e.event = event.map(str::to_owned);
                let p = Published::new(Topic::new(&format!("t\"{i}")).unwrap(), cursor, e);
                let text = core::str::from_utf8(data).ok();
                let want = serde_json::to_vec(&EventMessage {
                    kind: "event",
                    topic: p.topic().as_str(),
                    id: cursor.to_string(),
                    event,
                    data: text,
                    binary: text.is_none().then_some(data.len()),
                })
                .unwrap();
                let (json, binary) = encode_event(&p);
                assert_eq!(json, want, "{}", String::from_utf8_lossy(&want));
                assert_eq!(binary.is_some(), text.is_none());
            }
        }
    }
}
