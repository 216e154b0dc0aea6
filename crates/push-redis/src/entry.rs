//! An event as a stream entry and back. Fields: `t` topics joined by `\n` (a topic holds no
//! control character), `d` data, and `e` type, `i` publisher id, `r` retry, `a` = `p` for a
//! private event, `k` the replacement key, each only when present.

use bytes::Bytes;
use push_core::{Audience, Event, Topic};
use redis::Value;

use crate::raw::into_bytes;

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

/// The topics and event of an entry's fields, `[name, value, name, value, …]` as Redis sent
/// them (a repeated field: the first wins). The data's bytes are taken over, not copied.
pub(crate) fn parse(fields: Vec<Value>) -> Result<(Box<[Topic]>, Event), Malformed> {
    let mut found: [Option<Value>; 7] = Default::default();
    let mut list = fields.into_iter();
    while let (Some(name), Some(value)) = (list.next(), list.next()) {
        let slot = match name_bytes(&name) {
            b"t" => 0,
            b"d" => 1,
            b"e" => 2,
            b"i" => 3,
            b"r" => 4,
            b"a" => 5,
            b"k" => 6,
            _ => continue,
        };
        found[slot].get_or_insert(value);
    }
    let [topics, data, kind, id, retry, private, key] = found;
    let topics_text = topics.and_then(text).ok_or(Malformed::Topics)?;
    let topics: Box<[Topic]> = topics_text
        .split('\n')
        .map(Topic::new)
        .collect::<Result<_, _>>()
        .map_err(|_| Malformed::Topics)?;
    if topics.is_empty() {
        return Err(Malformed::Topics);
    }
    let mut event = Event::new(data.and_then(bytes).unwrap_or_default());
    let optional = |v: Option<Value>| v.map(|v| text(v).ok_or(Malformed::Text)).transpose();
    event.event = optional(kind)?;
    event.id = optional(id)?;
    if let Some(v) = retry {
        let retry = text(v).and_then(|t| t.parse().ok());
        event.retry = Some(retry.ok_or(Malformed::Retry)?);
    }
    if private.is_some() {
        event.audience = Audience::Private;
    }
    event.replace = optional(key)?;
    Ok((topics, event))
}

fn name_bytes(value: &Value) -> &[u8] {
    match value {
        Value::BulkString(b) => b,
        Value::SimpleString(s) => s.as_bytes(),
        _ => &[],
    }
}

fn bytes(value: Value) -> Option<Bytes> {
    into_bytes(value).map(Bytes::from)
}

fn text(value: Value) -> Option<String> {
    String::from_utf8(into_bytes(value)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_list(fields: &[(&'static str, Bytes)]) -> Vec<Value> {
        fields
            .iter()
            .flat_map(|(k, v)| {
                [
                    Value::BulkString(k.as_bytes().to_vec()),
                    Value::BulkString(v.to_vec()),
                ]
            })
            .collect()
    }

    fn bulk(s: &[u8]) -> Value {
        Value::BulkString(s.to_vec())
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
        let (t, e) = parse(as_list(&fields(&topics, &event))).unwrap();
        assert_eq!(&*t, &topics[..]);
        assert_eq!(e, event);
        let plain = Event::new("");
        let (t, e) = parse(as_list(&fields(&topics[..1], &plain))).unwrap();
        assert_eq!((&*t, e), (&topics[..1], plain));
    }

    #[test]
    fn foreign_entries_are_refused() {
        assert_eq!(parse(vec![bulk(b"d"), bulk(b"x")]), Err(Malformed::Topics));
        assert_eq!(
            parse(vec![bulk(b"t"), bulk(b"a\n\x01")]),
            Err(Malformed::Topics)
        );
        assert_eq!(
            parse(vec![bulk(b"t"), bulk(b"a"), bulk(b"r"), bulk(b"soon")]),
            Err(Malformed::Retry)
        );
        assert_eq!(
            parse(vec![bulk(b"t"), bulk(b"a"), bulk(b"r"), Value::Int(3)]),
            Err(Malformed::Retry)
        );
        assert_eq!(
            parse(vec![bulk(b"t"), bulk(b"a"), bulk(b"i"), bulk(b"\xff")]),
            Err(Malformed::Text)
        );
    }

    #[test]
    fn a_repeated_field_keeps_its_first_value_and_an_odd_name_is_ignored() {
        let (topics, event) = parse(vec![
            bulk(b"t"),
            bulk(b"a"),
            bulk(b"d"),
            bulk(b"first"),
            bulk(b"d"),
            bulk(b"second"),
            bulk(b"z"),
        ])
        .unwrap();
        assert_eq!(&*topics, &[Topic::new("a").unwrap()]);
        assert_eq!(event.data, Bytes::from_static(b"first"));
    }
}
