//! Stream replies (`XREAD`, `XRANGE`) read straight from redis-rs's `Value`s: an entry keeps
//! its field/value list as Redis sent it, with no map and no copy per field, and
//! [`entry::parse`](crate::entry::parse) takes the data's bytes over as they are.
//!
//! Accepts both protocol versions' shapes: an `XREAD` answer is an array of `[key, entries]`
//! pairs in RESP2 and a map in RESP3, and nil when nothing came.

use redis::{FromRedisValue, ParsingError, Value};

use crate::layout::EntryId;

/// One stream entry: its id and its fields, `[name, value, name, value, …]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawEntry {
    pub(crate) id: EntryId,
    pub(crate) fields: Vec<Value>,
}

/// An `XREAD` answer: per stream that had entries, its key and its entries. (An `XRANGE`
/// answer is a `Vec<RawEntry>`, through redis-rs's own `Vec` conversion.)
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RawStreams(pub(crate) Vec<(Vec<u8>, Vec<RawEntry>)>);

fn invalid(what: &str) -> ParsingError {
    format!("unexpected stream reply: {what}").into()
}

/// A string reply's bytes (bulk or simple), as Redis sent them; `None` for anything else.
pub(crate) fn into_bytes(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        _ => None,
    }
}

fn bytes(value: Value) -> Result<Vec<u8>, ParsingError> {
    into_bytes(value).ok_or_else(|| invalid("not a string"))
}

fn items(value: Value) -> Result<Vec<Value>, ParsingError> {
    match value {
        Value::Array(items) | Value::Set(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        _ => Err(invalid("not an array")),
    }
}

impl FromRedisValue for RawEntry {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let mut pair = items(v)?.into_iter();
        let (Some(id), fields, None) = (pair.next(), pair.next(), pair.next()) else {
            return Err(invalid("an entry is not [id, fields]"));
        };
        let id = bytes(id)?;
        let id = std::str::from_utf8(&id)
            .ok()
            .and_then(EntryId::parse)
            .ok_or_else(|| invalid("not a stream entry id"))?;
        let fields = match fields {
            None => Vec::new(),
            Some(Value::Map(pairs)) => pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
            Some(other) => items(other)?,
        };
        Ok(Self { id, fields })
    }
}

impl FromRedisValue for RawStreams {
    fn from_redis_value(v: Value) -> Result<Self, ParsingError> {
        let pairs: Vec<(Value, Value)> = match v {
            Value::Nil => return Ok(Self::default()),
            Value::Map(pairs) => pairs,
            other => items(other)?
                .into_iter()
                .map(|stream| {
                    let mut pair = items(stream)?.into_iter();
                    match (pair.next(), pair.next(), pair.next()) {
                        (Some(key), Some(entries), None) => Ok((key, entries)),
                        _ => Err(invalid("a stream is not [key, entries]")),
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        pairs
            .into_iter()
            .map(|(key, entries)| Ok((bytes(key)?, Vec::<RawEntry>::from_redis_value(entries)?)))
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn entry(id: &str, fields: &[&str]) -> Value {
        Value::Array(vec![
            bulk(id),
            Value::Array(fields.iter().map(|f| bulk(f)).collect()),
        ])
    }

    fn expected(ms: u64, seq: u64, fields: &[&str]) -> RawEntry {
        RawEntry {
            id: EntryId { ms, seq },
            fields: fields.iter().map(|f| bulk(f)).collect(),
        }
    }

    #[test]
    fn an_xread_answer_in_either_protocol() {
        let entries = || {
            Value::Array(vec![
                entry("5-1", &["t", "a", "d", "x"]),
                entry("6-0", &["t", "b"]),
            ])
        };
        let want = RawStreams(vec![(
            b"k".to_vec(),
            vec![
                expected(5, 1, &["t", "a", "d", "x"]),
                expected(6, 0, &["t", "b"]),
            ],
        )]);
        let resp2 = Value::Array(vec![Value::Array(vec![bulk("k"), entries()])]);
        assert_eq!(RawStreams::from_redis_value(resp2).unwrap(), want);
        let resp3 = Value::Map(vec![(bulk("k"), entries())]);
        assert_eq!(RawStreams::from_redis_value(resp3).unwrap(), want);
        assert_eq!(
            RawStreams::from_redis_value(Value::Nil).unwrap(),
            RawStreams::default()
        );
    }

    #[test]
    fn an_xrange_answer_keeps_the_fields_in_order() {
        let answer = Value::Array(vec![entry("1-0", &["d", "1", "t", "x", "d", "2"])]);
        assert_eq!(
            Vec::<RawEntry>::from_redis_value(answer).unwrap(),
            vec![expected(1, 0, &["d", "1", "t", "x", "d", "2"])]
        );
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        for bad in [
            Value::Int(3),
            Value::Array(vec![Value::Int(3)]),
            Value::Array(vec![Value::Array(vec![bulk("k")])]),
            Value::Array(vec![Value::Array(vec![
                bulk("k"),
                Value::Array(vec![entry("nope", &[])]),
            ])]),
            Value::Array(vec![Value::Array(vec![
                bulk("k"),
                Value::Array(vec![Value::Array(vec![bulk("1-0"), bulk("x"), bulk("y")])]),
            ])]),
        ] {
            assert!(RawStreams::from_redis_value(bad).is_err());
        }
    }
}
