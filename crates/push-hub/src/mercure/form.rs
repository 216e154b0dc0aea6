//! The publish form (`application/x-www-form-urlencoded`): `topic` (repeatable: the first
//! canonical, the others alternates), `data`, `id`, `type`, `retry`, `private`, and the hub's
//! own `push_replace`; every other field is ignored. Every rule of both revisions, with the
//! status each revision answers.
//!
//! ```text
//! form    = field *( "&" field )       ; strict escapes, UTF-8 (push-http's form decoding)
//! topic   = 1*  "topic=" topic         ; not in /.well-known/mercure (0.x 403, 1.0 400); 1.0: not "*"
//! id      = "id=" id                   ; not "#…", not "earliest", not a cursor's text, no CR/LF/NUL (1.0: no control / Cf)
//! type    = "type=" type               ; no CR/LF/NUL; 1.0: not "mercure"
//! retry   = "retry=" 1*DIGIT
//! private = "private" [ "=" anything ] ; present: private
//! replace = "push_replace" [ "=" key ] ; present: the event's replacement key, the key or, when
//!                                      ; empty, the canonical topic; at most the id's limit
//! ```
//! `push_replace` is not Mercure's: it asks that a newer update with the same key replace an
//! older one still undelivered where a transport holds messages — Web Push's RFC 8030 `Topic`
//! (a digest of the key). It is prefixed so that a field a later Mercure revision adds cannot
//! collide with it; a hub that does not know it ignores it, as Mercure says of unknown fields.
//! A repeated single-valued field takes its first value, as Mercure's reference hub does.

use core::fmt;

use bytes::Bytes;
use http::StatusCode;
use push_core::{Audience, Event, MAX_SELECTOR_TOPICS, Topic};
use push_http::query::{form_decode, pairs};

use super::Revision;
use super::query::MAX_SELECTOR_PARAMS;
use super::text::has_control_or_format;

/// The reserved namespace: topics under the hub's own path are the hub's (subscription events).
pub const RESERVED: &str = "/.well-known/mercure";

/// A publish request, checked: the topics (canonical first) and the event to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// The canonical topic, then the alternates, without duplicates.
    pub topics: Vec<Topic>,
    /// The event: data, type, retry, audience, and the publisher's id if it gave one.
    pub event: Event,
}

/// Why a publish form is refused; [`status`](Self::status) depends on the revision.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormError {
    /// A field that is not strictly form-encoded UTF-8.
    Encoding(&'static str),
    /// No `topic` field.
    MissingTopic,
    /// More topics than one update may have.
    TooManyTopics,
    /// A topic the broker's model refuses (empty, too long, a control character).
    Topic(push_core::Error),
    /// A topic in the hub's reserved namespace (`/.well-known/mercure…`).
    Reserved,
    /// The topic `*` (1.0: it is a selector, not a topic).
    StarTopic,
    /// The `id` breaks a rule (the message says which).
    Id(&'static str),
    /// The `id` is longer than the configured limit.
    IdTooLong(usize),
    /// The `type` breaks a rule (the message says which).
    Type(&'static str),
    /// `retry` is not a number of milliseconds.
    Retry,
    /// The `push_replace` key is longer than the configured limit (the id's).
    ReplaceTooLong(usize),
}

impl FormError {
    /// The status `revision` answers with: 400, except a reserved topic in 0.x (403) and the
    /// size limits in 1.0 (413).
    pub fn status(&self, revision: Revision) -> StatusCode {
        match (self, revision) {
            (Self::Reserved, Revision::V0) => StatusCode::FORBIDDEN,
            (Self::TooManyTopics | Self::IdTooLong(_) | Self::ReplaceTooLong(_), Revision::V1) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encoding(field) => write!(
                f,
                "the {field:?} field is not strictly form-encoded UTF-8 (a bad %-escape?)"
            ),
            Self::MissingTopic => f.write_str("Missing \"topic\" parameter"),
            Self::TooManyTopics => write!(
                f,
                "too many topics in one update (at most {MAX_SELECTOR_TOPICS})"
            ),
            Self::Topic(e) => write!(f, "bad \"topic\": {e}"),
            Self::Reserved => write!(
                f,
                "topics under {RESERVED} are reserved for the hub's own updates"
            ),
            Self::StarTopic => f.write_str("\"*\" is a selector, not a topic one can publish to"),
            Self::Id(why) => write!(f, "bad \"id\": {why}"),
            Self::IdTooLong(max) => write!(f, "the \"id\" is longer than {max} bytes"),
            Self::Type(why) => write!(f, "bad \"type\": {why}"),
            Self::Retry => f.write_str("\"retry\" must be a number of milliseconds (digits only)"),
            Self::ReplaceTooLong(max) => {
                write!(f, "the \"push_replace\" key is longer than {max} bytes")
            }
        }
    }
}

impl std::error::Error for FormError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Topic(e) => Some(e),
            _ => None,
        }
    }
}

/// Reads a publish form under `revision`'s rules; an `id` longer than `max_id_len` bytes is
/// refused.
///
/// # Errors
/// [`FormError`], answered with [`FormError::status`] and its text.
pub fn parse_publish(
    body: &[u8],
    revision: Revision,
    max_id_len: usize,
) -> Result<Update, FormError> {
    let mut topics: Vec<Topic> = Vec::new();
    let mut read = 0;
    let (mut data, mut id, mut kind, mut retry, mut replace) = (None, None, None, None, None);
    let mut private = false;
    for pair in pairs(body) {
        let Some(name) = pair.name.as_deref() else {
            continue;
        };
        let (slot, field) = match name {
            "topic" => {
                read += 1;
                if read > MAX_SELECTOR_PARAMS {
                    return Err(FormError::TooManyTopics);
                }
                let value = form_decode(pair.value).ok_or(FormError::Encoding("topic"))?;
                let topic = check_topic(&value, revision)?;
                if !topics.contains(&topic) {
                    if topics.len() == MAX_SELECTOR_TOPICS {
                        return Err(FormError::TooManyTopics);
                    }
                    topics.push(topic);
                }
                continue;
            }
            "private" => {
                private = true;
                continue;
            }
            "data" => (&mut data, "data"),
            "id" => (&mut id, "id"),
            "type" => (&mut kind, "type"),
            "retry" => (&mut retry, "retry"),
            "push_replace" => (&mut replace, "push_replace"),
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(form_decode(pair.value).ok_or(FormError::Encoding(field))?);
        }
    }
    if topics.is_empty() {
        return Err(FormError::MissingTopic);
    }
    let mut event = Event::new(data.map_or_else(Bytes::new, |d| Bytes::from(d.into_owned())));
    if let Some(id) = id.filter(|id| !id.is_empty()) {
        check_id(&id, revision, max_id_len)?;
        event = event.with_id(id.into_owned());
    }
    if let Some(kind) = kind.filter(|k| !k.is_empty()) {
        if has_line_break_or_nul(&kind) {
            return Err(FormError::Type("CR, LF and NUL are not allowed"));
        }
        if revision == Revision::V1 && kind == "mercure" {
            return Err(FormError::Type(
                "\"mercure\" is reserved for subscription events",
            ));
        }
        event = event.with_event(kind.into_owned());
    }
    if let Some(retry) = retry.filter(|r| !r.is_empty()) {
        if !retry.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FormError::Retry);
        }
        // Digits only: the one failure left is a number past u64, which saturates.
        let ms = retry.parse::<u64>().unwrap_or(u64::MAX);
        if ms != 0 {
            event = event.with_retry(ms);
        }
    }
    if private {
        event = event.with_audience(Audience::Private);
    }
    if let Some(key) = replace {
        if key.len() > max_id_len {
            return Err(FormError::ReplaceTooLong(max_id_len));
        }
        let key = if key.is_empty() {
            topics[0].as_str().to_owned()
        } else {
            key.into_owned()
        };
        event = event.with_replace(key);
    }
    Ok(Update { topics, event })
}

fn check_topic(value: &str, revision: Revision) -> Result<Topic, FormError> {
    if revision == Revision::V1 && value == "*" {
        return Err(FormError::StarTopic);
    }
    let topic = Topic::new(value).map_err(FormError::Topic)?;
    if is_reserved(value) {
        return Err(FormError::Reserved);
    }
    Ok(topic)
}

fn check_id(id: &str, revision: Revision, max_len: usize) -> Result<(), FormError> {
    if id.len() > max_len {
        return Err(FormError::IdTooLong(max_len));
    }
    if id.starts_with('#') {
        return Err(FormError::Id(
            "it must not start with \"#\" (the hub's own ids may)",
        ));
    }
    if id == "earliest" {
        return Err(FormError::Id(
            "\"earliest\" asks for the whole history; it cannot be an id",
        ));
    }
    // Every transport reads a cursor's text as that position (push-core's `Broker::place`):
    // an id written like one could steer another client's resume. Mercure ids SHOULD be IRIs.
    if push_core::Cursor::parse(id).is_ok() {
        return Err(FormError::Id(
            "it has the form of a hub cursor (EPOCH-OFFSET), which every transport reads as a \
             position; use an IRI (urn:…, https://…)",
        ));
    }
    if has_line_break_or_nul(id) {
        return Err(FormError::Id("CR, LF and NUL are not allowed"));
    }
    if revision == Revision::V1 && has_control_or_format(id) {
        return Err(FormError::Id(
            "control and invisible format characters are not allowed",
        ));
    }
    Ok(())
}

fn has_line_break_or_nul(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// Whether `topic` is in the reserved namespace: it contains `/.well-known/mercure`, as written
/// or once resolved as a URL against a hub (dot segments removed, escaped unreserved characters
/// decoded: `/a/../.well-known/%6Dercure` is reserved too).
pub fn is_reserved(topic: &str) -> bool {
    if topic.contains(RESERVED) {
        return true;
    }
    let Ok(base) = url::Url::parse("https://hub.invalid/") else {
        return false;
    };
    let Ok(resolved) = base.join(topic) else {
        return false;
    };
    decode_unreserved(resolved.path()).contains(RESERVED)
}

/// `path` with every `%XX` escape of an unreserved character (`ALPHA / DIGIT / - . _ ~`)
/// decoded (RFC 3986 §6.2.2.2), the others left as they are.
fn decode_unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = path.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
            && (byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~'))
        {
            out.push(char::from(byte));
            i += 3;
            continue;
        }
        // `path` is ASCII (a serialized URL path): one byte is one char.
        out.push(char::from(bytes[i]));
        i += 1;
    }
    out
}

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
