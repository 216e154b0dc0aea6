//! The `mercure_publish` fuzz target's checks (private feature `__fuzz`): the publish form and
//! the subscribe query parsers on hostile bytes. Never a panic; what they accept keeps every
//! rule; an accepted form written back as a form reads the same.

use push_core::Audience;

use super::Revision;
use super::form::{is_reserved, parse_publish};
use super::query::parse_subscribe;

/// Runs both parsers on `data` (its first byte picks the revision and the id limit) and checks
/// what they return.
pub fn mercure_publish(data: &[u8]) {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let revision = if mode & 1 == 0 {
        Revision::V0
    } else {
        Revision::V1
    };
    let max_id_len = usize::from(mode >> 1) * 4;
    if let Ok(update) = parse_publish(input, revision, max_id_len) {
        check_update(&update, revision, max_id_len);
        let again = parse_publish(encode(&update).as_bytes(), revision, max_id_len)
            .expect("a checked update written back as a form is accepted");
        assert_eq!(again, update, "a checked update reads back the same");
    }
    let base = url::Url::parse("https://hub.example/.well-known/mercure").ok();
    if let Ok(query) = parse_subscribe(input, base.as_ref()) {
        assert!(!query.matchers.is_empty());
        assert_eq!(query.matchers.len(), query.selector.patterns().len());
        // An empty cursor stands only for a cursor parameter that was present but empty (1.0
        // answers it): then the first of each cursor parameter had no value.
        if query.last_event_id.as_deref() == Some("") {
            let first = |name: &str| {
                form_urlencoded::parse(input)
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.into_owned())
            };
            let (legacy, current) = (first("lastEventID"), first("last_event_id"));
            assert!(legacy.is_some() || current.is_some());
            assert!(legacy.is_none_or(|v| v.is_empty()) && current.is_none_or(|v| v.is_empty()));
        }
    }
}

fn check_update(update: &super::Update, revision: Revision, max_id_len: usize) {
    assert!(!update.topics.is_empty());
    for (i, topic) in update.topics.iter().enumerate() {
        assert!(!is_reserved(topic.as_str()), "{topic:?}");
        assert!(!update.topics[..i].contains(topic), "duplicate {topic:?}");
        if revision == Revision::V1 {
            assert_ne!(topic.as_str(), "*");
        }
    }
    let event = &update.event;
    if let Some(id) = &event.id {
        assert!(id.len() <= max_id_len && !id.is_empty() && !id.starts_with('#'));
        assert!(!id.contains(['\r', '\n', '\0']) && id != "earliest");
    }
    if let Some(kind) = &event.event {
        assert!(!kind.contains(['\r', '\n', '\0']));
        assert!(revision == Revision::V0 || kind != "mercure");
    }
    assert_ne!(event.retry, Some(0));
    if let Some(key) = &event.replace {
        assert!(key.len() <= max_id_len || update.topics[0].as_str() == key);
    }
    assert!(push_sse::check_encodable(event).is_ok(), "{event:?}");
}

/// `update` as a publish form, written by `form_urlencoded` (the reference encoder).
fn encode(update: &super::Update) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for topic in &update.topics {
        form.append_pair("topic", topic.as_str());
    }
    let event = &update.event;
    form.append_pair("data", &String::from_utf8_lossy(&event.data));
    if let Some(id) = &event.id {
        form.append_pair("id", id);
    }
    if let Some(kind) = &event.event {
        form.append_pair("type", kind);
    }
    if let Some(retry) = event.retry {
        form.append_pair("retry", &retry.to_string());
    }
    if event.audience == Audience::Private {
        form.append_key_only("private");
    }
    match &event.replace {
        // The canonical topic as the key is what the bare field means (and it may be longer
        // than a key the form takes).
        Some(key) if update.topics.first().is_some_and(|t| t.as_str() == key) => {
            form.append_key_only("push_replace");
        }
        Some(key) => {
            form.append_pair("push_replace", key);
        }
        None => {}
    }
    form.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepted_forms_round_trip() {
        for input in [
            &b"\x80topic=a&topic=b&data=x%0Ay&id=i&type=t&retry=5&private"[..],
            b"\x80topic=a&push_replace=k%2F1",
            b"\x01topic=a&push_replace",
            b"\x01topic=a&data=",
            b"\x00topic=*&retry=00",
            b"\x00match=a&match_urlpattern=%2Fb%2F%3Aid&lastEventID=x",
            b"",
            b"\xff%zz",
        ] {
            super::mercure_publish(input);
        }
    }
}
