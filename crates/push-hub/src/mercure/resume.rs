//! Update ids and where a subscriber resumes (design-12 "Ids and cursors").
//!
//! Every update carries a Mercure id: the publisher's, or one the hub generates,
//! `urn:uuid:` and a random (version 4) UUID. Random, not time-ordered (v7) and not an offset:
//! an id a subscriber sees says nothing about how much was published on topics it cannot see.
//!
//! A subscriber resumes from the `Last-Event-ID` header, else the `lastEventID` /
//! `last_event_id` query parameter:
//! - empty: live updates (the answer is the newest update's cursor, or `earliest`);
//! - `earliest`: every retained update;
//! - an id the broker still indexes ([`Broker::resolve`]): the updates after it;
//! - a cursor text (as `/ws` and `/poll` hand out): the updates after it, so a client can move
//!   between transports;
//! - anything else (an id the hub no longer has, or never had): a gap, announced, then every
//!   retained update (never silence, and never a loss between the gap and the next update).

use push_core::{Broker, Cursor, Gap, GapReason};

/// The prefix of the ids the hub generates.
pub const UUID_PREFIX: &str = "urn:uuid:";

/// A fresh update id: `urn:uuid:` and a random (version 4) UUID.
///
/// ```
/// let id = push_hub::mercure::generate_id();
/// assert!(id.starts_with("urn:uuid:"));
/// assert_eq!(id.len(), 9 + 36);
/// assert_ne!(id, push_hub::mercure::generate_id());
/// ```
pub fn generate_id() -> String {
    let mut id = String::with_capacity(UUID_PREFIX.len() + 36);
    id.push_str(UUID_PREFIX);
    id.push_str(
        uuid::Uuid::new_v4()
            .hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer()),
    );
    id
}

/// Where a subscription starts, and what the hub says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    /// The cursor to open the subscription from (`None`: live updates only).
    pub from: Option<Cursor>,
    /// A loss to announce first (an id the hub cannot place).
    pub gap: Option<Gap>,
    /// The response cursor header's value (`Last-Event-ID` / `Mercure-Last-Event-ID`): the id
    /// of the update before the first one sent, or `earliest` when every retained update
    /// follows. `None` when the request carried no cursor (the header is not sent).
    pub answer: Option<String>,
}

/// Resolves a subscriber's `requested` cursor (the header's or the query's value, if any).
pub fn resume<B: Broker>(broker: &B, requested: Option<&str>) -> Resume {
    let Some(requested) = requested else {
        return Resume {
            from: None,
            gap: None,
            answer: None,
        };
    };
    let head = broker.head();
    let epoch = head.epoch();
    let oldest = Cursor::new(epoch, 0);
    if requested.is_empty() {
        // Sent but empty: live updates; the answer names the newest update, which precedes
        // the first one sent.
        let answer = if head.offset() == 0 {
            "earliest".to_owned()
        } else {
            head.to_string()
        };
        return Resume {
            from: None,
            gap: None,
            answer: Some(answer),
        };
    }
    let everything = |gap| Resume {
        from: Some(oldest),
        gap,
        answer: Some("earliest".to_owned()),
    };
    if requested == "earliest" {
        return everything(None);
    }
    if let Some(cursor) = broker.resolve(requested) {
        return Resume {
            from: Some(cursor),
            gap: None,
            answer: Some(requested.to_owned()),
        };
    }
    match Cursor::parse(requested) {
        // The broker announces a cursor of another epoch and replays all it has.
        Ok(cursor) if cursor.epoch() != epoch || cursor.sequence().is_some() => Resume {
            from: Some(cursor),
            gap: None,
            answer: Some("earliest".to_owned()),
        },
        Ok(cursor) => Resume {
            from: Some(cursor),
            gap: None,
            answer: Some(requested.to_owned()),
        },
        Err(_) => everything(Some(Gap {
            reason: GapReason::Evicted,
            resume: oldest,
        })),
    }
}

#[cfg(test)]
mod tests {
    use push_broker::MemoryBroker;
    use push_core::{Event, Topic};

    use super::*;

    #[test]
    fn generated_ids_are_random_v4_uuids() {
        let a = generate_id();
        let uuid = uuid::Uuid::parse_str(&a[UUID_PREFIX.len()..]).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        assert_ne!(a, generate_id());
    }

    #[tokio::test]
    async fn every_kind_of_cursor_resolves() {
        let broker = MemoryBroker::default();
        let topic = Topic::new("t").unwrap();
        let first = broker
            .publish(&[topic], Event::new("1").with_id("urn:uuid:one"))
            .await
            .unwrap();
        let epoch = first.epoch();
        assert_eq!(resume(&broker, None).from, None);
        let empty = resume(&broker, Some(""));
        assert_eq!((empty.from, empty.gap), (None, None));
        assert_eq!(empty.answer, Some(first.to_string()));
        let all = resume(&broker, Some("earliest"));
        assert_eq!(
            (all.from, all.gap, all.answer.as_deref()),
            (Some(Cursor::new(epoch, 0)), None, Some("earliest"))
        );
        let by_id = resume(&broker, Some("urn:uuid:one"));
        assert_eq!(
            (by_id.from, by_id.answer.as_deref()),
            (Some(first), Some("urn:uuid:one"))
        );
        let text = first.to_string();
        let by_cursor = resume(&broker, Some(&text));
        assert_eq!((by_cursor.from, by_cursor.gap), (Some(first), None));
        assert_eq!(by_cursor.answer.as_deref(), Some(text.as_str()));
        let foreign = resume(&broker, Some("1-2-3"));
        assert_eq!(foreign.answer.as_deref(), Some("earliest"));
        let unknown = resume(&broker, Some("urn:uuid:gone"));
        assert_eq!(unknown.from, Some(Cursor::new(epoch, 0)));
        assert_eq!(unknown.gap.map(|g| g.reason), Some(GapReason::Evicted));
        assert_eq!(unknown.answer.as_deref(), Some("earliest"));
    }
}
