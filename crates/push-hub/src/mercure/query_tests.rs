//! The subscribe query: both revisions' selectors, the reserved `match` namespace, limits,
//! encodings and the cursor parameters.

use super::*;

fn parse(query: &str) -> Result<SubscribeQuery, QueryError> {
    let base = url::Url::parse("https://hub.example/.well-known/mercure").unwrap();
    parse_subscribe(query.as_bytes(), Some(&base))
}

fn t(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

#[test]
fn topic_selectors_are_star_templates_or_exact() {
    let q = parse("topic=*&topic=https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D&topic=a").unwrap();
    assert!(!q.v1);
    assert_eq!(q.matchers.len(), 3);
    assert!(q.selector.matches(&t("anything")));
    let q = parse("topic=https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D").unwrap();
    assert!(q.selector.matches(&t("https://example.com/books/7")));
    assert!(!q.selector.matches(&t("https://example.com/authors/7")));
    // A template also matches the identical template text (Mercure's rule 2).
    let q = parse("topic=%2Fb%2F%7Bx%7D&topic=c").unwrap();
    assert!(q.selector.matches(&t("c")));
}

#[test]
fn match_parameters_make_a_v1_query() {
    let q = parse("match=https%3A%2F%2Fexample.com%2Fa&match_exact=b").unwrap();
    assert!(q.v1);
    assert!(q.selector.matches(&t("https://example.com/a")));
    assert!(q.selector.matches(&t("b")));
    // Exact is byte-exact: a template is not one in `match`.
    let q = parse("match=%2Fb%2F%7Bx%7D").unwrap();
    assert!(!q.selector.matches(&t("/b/1")));
    assert!(q.selector.matches(&t("/b/{x}")));
    assert!(parse("match=*").unwrap().selector.matches(&t("x")));
    let q = parse("match_urlpattern=https%3A%2F%2Fexample.com%2Fbooks%2F%3Aid").unwrap();
    assert_eq!(q.matchers[0].kind, MatchType::UrlPattern);
    assert!(q.selector.matches(&t("https://example.com/books/42")));
    assert!(!q.selector.matches(&t("https://example.com/books/42/x")));
}

#[test]
fn relative_url_patterns_resolve_against_the_hub() {
    let q = parse("match_urlpattern=%2Fbooks%2F%3Aid").unwrap();
    assert!(q.selector.matches(&t("https://hub.example/books/1")));
    assert!(!q.selector.matches(&t("https://other.example/books/1")));
    let q = parse("match_urlpattern=items%2F*").unwrap();
    assert!(
        q.selector
            .matches(&t("https://hub.example/.well-known/items/9"))
    );
    // Without a base, a relative pattern is refused.
    let refused = parse_subscribe(b"match_urlpattern=%2Fbooks%2F%3Aid", None).unwrap_err();
    assert!(
        matches!(refused, QueryError::Selector("match_urlpattern", _)),
        "{refused:?}"
    );
}

#[test]
fn the_match_namespace_is_reserved() {
    for name in ["match_regex", "matches", "match_", "%6Datch_x"] {
        let e = parse(&format!("{name}=a")).unwrap_err();
        assert!(matches!(e, QueryError::UnknownMatcher(_)), "{name}: {e:?}");
    }
    // Names are case-sensitive: `Match` is not in the namespace (and is ignored).
    assert_eq!(parse("Match=a").unwrap_err(), QueryError::MissingTopic);
}

#[test]
fn hostile_values_are_400s_never_panics() {
    assert_eq!(parse("").unwrap_err(), QueryError::MissingTopic);
    assert_eq!(
        parse("lastEventID=x").unwrap_err(),
        QueryError::MissingTopic
    );
    assert_eq!(
        parse("topic=%zz").unwrap_err(),
        QueryError::Encoding("topic")
    );
    assert_eq!(
        parse("topic=%ff").unwrap_err(),
        QueryError::Encoding("topic")
    );
    assert!(matches!(
        parse("topic=").unwrap_err(),
        QueryError::Selector("topic", push_core::Error::TopicEmpty)
    ));
    assert!(matches!(
        parse("topic=a%0Ab").unwrap_err(),
        QueryError::Selector(..)
    ));
    assert_eq!(
        parse("match=a%E2%80%8Bb").unwrap_err(),
        QueryError::Character("match")
    );
    assert_eq!(
        parse("match=a%C2%85").unwrap_err(),
        QueryError::Character("match")
    );
    let long = "x".repeat(push_core::MAX_TOPIC_LEN + 1);
    assert!(matches!(
        parse(&format!("topic={long}")).unwrap_err(),
        QueryError::Selector("topic", push_core::Error::TopicTooLong)
    ));
    assert!(matches!(
        parse("match_urlpattern=https%3A%2F%2Fa%2F(").unwrap_err(),
        QueryError::Selector("match_urlpattern", _)
    ));
    // Too many distinct selectors, and too many parameters even when they repeat.
    let many: String = (0..=MAX_SELECTOR_TOPICS)
        .map(|i| format!("topic={i}&"))
        .collect();
    assert!(matches!(
        parse(&many).unwrap_err(),
        QueryError::Selector(_, push_core::Error::SelectorTooLarge)
    ));
    let repeated = "topic=a&".repeat(MAX_SELECTOR_PARAMS);
    assert_eq!(parse(&repeated).unwrap().matchers.len(), 1);
    let flood = "topic=a&".repeat(MAX_SELECTOR_PARAMS + 1);
    assert_eq!(parse(&flood).unwrap_err(), QueryError::TooManyParameters);
    for e in [QueryError::MissingTopic, QueryError::TooManyParameters] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn the_cursor_parameters() {
    assert_eq!(parse("topic=a").unwrap().last_event_id, None);
    let q = parse("topic=a&lastEventID=urn%3Auuid%3A1&last_event_id=2").unwrap();
    assert_eq!(q.last_event_id.as_deref(), Some("urn:uuid:1"));
    let q = parse("topic=a&lastEventID=&last_event_id=earliest").unwrap();
    assert_eq!(q.last_event_id.as_deref(), Some("earliest"));
    // Present but empty is not absent: 1.0 answers it.
    let q = parse("topic=a&last_event_id=").unwrap();
    assert_eq!(q.last_event_id.as_deref(), Some(""));
    assert_eq!(
        parse("topic=a&last_event_id=%zz").unwrap_err(),
        QueryError::Encoding("last_event_id")
    );
}
