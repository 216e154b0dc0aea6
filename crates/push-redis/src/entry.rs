//! An event as a stream entry and back. Fields: `t` topics joined by `\n` (a topic holds no
//! control character), `d` data, and `e` type, `i` publisher id, `r` retry, `a` = `p` for a
//! private event, `k` the replacement key, each only when present.

use std::collections::HashMap;

use bytes::Bytes;
use push_core::{Audience, Event, Topic};
use redis::Value;

/// The field/value pairs of `event` on `topics`, in the order `XADD` takes them.
pub(crate) fn fields(topics: &[Topic], event: &Event) -> Vec<(&'static str, Bytes)> {
    let mut joined = String::new();
    for (i, topic) in topics.iter().enumerate() {
        if i > 0 {
            joined.push('\n');
        }
        joined.push_str(topic.as_str());
    }
    let mut out = vec![("t", Bytes::from(joined)), ("d", event.data.clone())];
    if let Some(kind) = &event.event {
        out.push(("e", Bytes::from(kind.clone())));
    }
    if let Some(id) = &event.id {
        out.push(("i", Bytes::from(id.clone())));
    }
    if let Some(retry) = event.retry {
        out.push(("r", Bytes::from(retry.to_string())));
    }
    if event.audience == Audience::Private {
        out.push(("a", Bytes::from_static(b"p")));
    }
    if let Some(key) = &event.replace {
        out.push(("k", Bytes::from(key.clone())));
    }
    out
}

/// Why an entry is not one of ours (written by something else into our keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    Topics,
    Text,
    Retry,
}

/// The topics and event of an entry's fields.
pub(crate) fn parse(map: &HashMap<String, Value>) -> Result<(Box<[Topic]>, Event), Malformed> {
    let topics_text = text(map.get("t")).ok_or(Malformed::Topics)?;
    let topics: Box<[Topic]> = topics_text
        .split('\n')
        .map(Topic::new)
        .collect::<Result<_, _>>()
        .map_err(|_| Malformed::Topics)?;
    if topics.is_empty() {
        return Err(Malformed::Topics);
    }
    let mut event = Event::new(bytes(map.get("d")).unwrap_or_default());
    if let Some(v) = map.get("e") {
        event.event = Some(text(Some(v)).ok_or(Malformed::Text)?);
    }
    if let Some(v) = map.get("i") {
        event.id = Some(text(Some(v)).ok_or(Malformed::Text)?);
    }
    if let Some(v) = map.get("r") {
        let retry = text(Some(v)).and_then(|t| t.parse().ok());
        event.retry = Some(retry.ok_or(Malformed::Retry)?);
    }
    if map.contains_key("a") {
        event.audience = Audience::Private;
    }
    if let Some(v) = map.get("k") {
        event.replace = Some(text(Some(v)).ok_or(Malformed::Text)?);
    }
    Ok((topics, event))
}

fn bytes(value: Option<&Value>) -> Option<Bytes> {
    match value? {
        Value::BulkString(b) => Some(Bytes::copy_from_slice(b)),
        Value::SimpleString(s) => Some(Bytes::from(s.clone())),
        _ => None,
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    String::from_utf8(bytes(value)?.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_map(fields: &[(&'static str, Bytes)]) -> HashMap<String, Value> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::BulkString(v.to_vec())))
            .collect()
    }

    #[test]
    fn round_trips_every_field() {
        let topics = [Topic::new("a/1").unwrap(), Topic::new("b 2").unwrap()];
        let mut event = Event::new("x\ny")
            .with_event("kind")
            .with_id("id-1")
            .with_retry(1500)
            .with_replace("unread");
        event.audience = Audience::Private;
        let (t, e) = parse(&as_map(&fields(&topics, &event))).unwrap();
        assert_eq!(&*t, &topics[..]);
        assert_eq!(e, event);
        let plain = Event::new("");
        let (t, e) = parse(&as_map(&fields(&topics[..1], &plain))).unwrap();
        assert_eq!((&*t, e), (&topics[..1], plain));
    }

    #[test]
    fn foreign_entries_are_refused() {
        let mut map = as_map(&[("d", Bytes::from_static(b"x"))]);
        assert_eq!(parse(&map), Err(Malformed::Topics));
        map.insert("t".into(), Value::BulkString(b"a\n\x01".to_vec()));
        assert_eq!(parse(&map), Err(Malformed::Topics));
        map.insert("t".into(), Value::BulkString(b"a".to_vec()));
        map.insert("r".into(), Value::BulkString(b"soon".to_vec()));
        assert_eq!(parse(&map), Err(Malformed::Retry));
        map.insert("r".into(), Value::Int(3));
        assert_eq!(parse(&map), Err(Malformed::Retry));
    }
}
