//! The publish form: fields, alternates, every refusal and its status in each revision.

use super::*;

fn v0(body: &str) -> Result<Update, FormError> {
    parse_publish(body.as_bytes(), Revision::V0, 256)
}

fn v1(body: &str) -> Result<Update, FormError> {
    parse_publish(body.as_bytes(), Revision::V1, 256)
}

#[test]
fn every_field_is_read_and_unknown_ones_are_ignored() {
    let u = v0(
        "topic=https%3A%2F%2Fex.com%2Fa&topic=b&topic=https%3A%2F%2Fex.com%2Fa&data=hi+there%0Ax\
        &id=my-id&type=tick&retry=1500&private=on&unknown=%zz&%ff=1",
    )
    .unwrap();
    let names: Vec<_> = u.topics.iter().map(Topic::as_str).collect();
    assert_eq!(names, ["https://ex.com/a", "b"]);
    assert_eq!(&u.event.data[..], b"hi there\nx");
    assert_eq!(u.event.id.as_deref(), Some("my-id"));
    assert_eq!(u.event.event.as_deref(), Some("tick"));
    assert_eq!(u.event.retry, Some(1500));
    assert_eq!(u.event.audience, Audience::Private);
    // Presence alone makes an update private; repeated single fields take the first value.
    let u = v0("topic=a&private&data=1&data=2").unwrap();
    assert_eq!(u.event.audience, Audience::Private);
    assert_eq!(&u.event.data[..], b"1");
    let u = v0("topic=a").unwrap();
    assert_eq!(
        (u.event.id, u.event.event, u.event.retry),
        (None, None, None)
    );
    assert_eq!(u.event.audience, Audience::Public);
    assert!(u.event.data.is_empty());
}

#[test]
fn topics_are_required_and_bounded() {
    for body in ["", "data=x", "topic"] {
        assert!(v0(body).is_err(), "{body:?}");
    }
    assert_eq!(v0("data=x").unwrap_err(), FormError::MissingTopic);
    assert_eq!(
        v0("topic=").unwrap_err(),
        FormError::Topic(push_core::Error::TopicEmpty)
    );
    assert_eq!(
        v0("topic=a%00b").unwrap_err(),
        FormError::Topic(push_core::Error::TopicInvalidCharacter)
    );
    let many: String = (0..=MAX_SELECTOR_TOPICS)
        .map(|i| format!("topic={i}&"))
        .collect();
    let e = v0(&many).unwrap_err();
    assert_eq!(e, FormError::TooManyTopics);
    assert_eq!(e.status(Revision::V0), StatusCode::BAD_REQUEST);
    assert_eq!(
        v1(&many).unwrap_err().status(Revision::V1),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Repeats count toward the parameter bound, not the topic limit.
    assert_eq!(
        v0(&"topic=a&".repeat(MAX_SELECTOR_PARAMS))
            .unwrap()
            .topics
            .len(),
        1
    );
    assert_eq!(
        v0(&"topic=a&".repeat(MAX_SELECTOR_PARAMS + 1)).unwrap_err(),
        FormError::TooManyTopics
    );
}

#[test]
fn the_reserved_namespace_is_403_in_0x_and_400_in_1_0() {
    for topic in [
        "https://hub.example/.well-known/mercure/subscriptions/a/b",
        "/.well-known/mercure",
        "/a/../.well-known/mercure/x",
        "/.well-known/%6Dercure/x",
        "/a/%2E%2E/.well-known/mercure",
        "/x/%2e%2e/.well-known/mercure",
    ] {
        let body = format!("topic={}", topic.replace('%', "%25"));
        let e = v0(&body).unwrap_err();
        assert_eq!(e, FormError::Reserved, "{topic}");
        assert_eq!(e.status(Revision::V0), StatusCode::FORBIDDEN);
        assert_eq!(
            v1(&body).unwrap_err().status(Revision::V1),
            StatusCode::BAD_REQUEST
        );
    }
    // An escaped slash is not a slash: a different topic, not the hub's.
    for fine in [
        "/.well-known/other",
        "/mercure",
        "https://ex.com/.well-known/mercur",
        "%2F.well-known%2Fmercure",
    ] {
        assert!(
            v0(&format!("topic={}", fine.replace('%', "%25"))).is_ok(),
            "{fine}"
        );
    }
    // `*` is a selector: 1.0 refuses it as a topic; 0.x takes it as a name.
    assert_eq!(v1("topic=*").unwrap_err(), FormError::StarTopic);
    assert!(v0("topic=*").is_ok());
}

#[test]
fn ids_types_and_retries_are_checked() {
    for (body, want) in [
        ("topic=a&id=%23frag", "#"),
        ("topic=a&id=earliest", "earliest"),
        ("topic=a&id=5eed-2a", "cursor"),
        ("topic=a&id=a%0Ab", "CR"),
        ("topic=a&id=a%0Db", "CR"),
        ("topic=a&id=a%00b", "CR"),
    ] {
        let e = v0(body).unwrap_err();
        assert!(matches!(e, FormError::Id(_)), "{body}: {e:?}");
        assert!(e.to_string().contains(want), "{body}: {e}");
        assert_eq!(e.status(Revision::V0), StatusCode::BAD_REQUEST);
    }
    // 1.0 also refuses other control and format characters; 0.x takes them.
    assert!(v0("topic=a&id=a%E2%80%8Bb").is_ok());
    assert!(matches!(
        v1("topic=a&id=a%E2%80%8Bb").unwrap_err(),
        FormError::Id(_)
    ));
    assert!(matches!(
        v1("topic=a&id=a%09b").unwrap_err(),
        FormError::Id(_)
    ));
    let long = format!("topic=a&id={}", "x".repeat(257));
    assert_eq!(v0(&long).unwrap_err(), FormError::IdTooLong(256));
    assert_eq!(
        v1(&long).unwrap_err().status(Revision::V1),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert!(matches!(
        v0("topic=a&type=a%0Ab").unwrap_err(),
        FormError::Type(_)
    ));
    assert!(v0("topic=a&type=mercure").is_ok());
    assert!(matches!(
        v1("topic=a&type=mercure").unwrap_err(),
        FormError::Type(_)
    ));
    for bad in ["-1", "1.5", "1e3", "+1", " 1", "x"] {
        let body = format!(
            "topic=a&retry={}",
            bad.replace('+', "%2B").replace(' ', "+")
        );
        assert_eq!(v0(&body).unwrap_err(), FormError::Retry, "{bad}");
    }
    assert_eq!(
        v0("topic=a&retry=99999999999999999999999")
            .unwrap()
            .event
            .retry,
        Some(u64::MAX)
    );
    assert_eq!(v0("topic=a&retry=0").unwrap().event.retry, None);
    assert_eq!(
        v0("topic=a&data=%zz").unwrap_err(),
        FormError::Encoding("data")
    );
    assert_eq!(
        v0("topic=a&data=%C3").unwrap_err(),
        FormError::Encoding("data")
    );
}

#[test]
fn push_replace_is_a_key_or_the_canonical_topic_and_bounded() {
    let u = v1("topic=a&topic=b&push_replace=unread%2F42").unwrap();
    assert_eq!(u.event.replace.as_deref(), Some("unread/42"));
    // Presence alone (or an empty value): the canonical topic is the key.
    for body in ["topic=a&topic=b&push_replace", "topic=a&push_replace="] {
        assert_eq!(v0(body).unwrap().event.replace.as_deref(), Some("a"));
    }
    assert_eq!(v1("topic=a").unwrap().event.replace, None);
    let long = format!("topic=a&push_replace={}", "k".repeat(257));
    let err = v1(&long).unwrap_err();
    assert_eq!(err, FormError::ReplaceTooLong(256));
    assert_eq!(err.status(Revision::V1), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        v0(&long).unwrap_err().status(Revision::V0),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        v1("topic=a&push_replace=%zz").unwrap_err(),
        FormError::Encoding("push_replace")
    );
}
