//! The query decoder's rules, tested alone and as a pair with `form_urlencoded`'s encoder.

use proptest::prelude::*;

use super::*;

#[test]
fn escapes_are_strict() {
    assert_eq!(form_decode(b"plain").as_deref(), Some("plain"));
    assert!(matches!(form_decode(b"plain"), Some(Cow::Borrowed(_))));
    assert_eq!(form_decode(b"%41%62+").as_deref(), Some("Ab "));
    assert_eq!(form_decode(b"%e2%82%ac").as_deref(), Some("\u{20ac}"));
    assert_eq!(form_decode(b"%25zz").as_deref(), Some("%zz"));
    for bad in [
        &b"%"[..],
        b"%4",
        b"%zz",
        b"a%g0",
        b"%ff",
        b"%c3",
        b"\xff",
        b"%+1",
    ] {
        assert_eq!(form_decode(bad), None, "{bad:?}");
    }
}

#[test]
fn distinct_spellings_are_never_one_topic() {
    // Lossy decoding would have made both `a\u{fffd}b`.
    assert_eq!(
        selector_from_query(b"topic=a%ffb"),
        Err(Error::QueryInvalid)
    );
    assert_eq!(
        selector_from_query(b"topic=a%feb"),
        Err(Error::QueryInvalid)
    );
    assert_eq!(selector_from_query(b"topic=%zz"), Err(Error::QueryInvalid));
    assert_eq!(
        selector_from_query(b"topic=%0a"),
        Err(Error::TopicInvalidCharacter)
    );
    assert_eq!(selector_from_query(b"topic="), Err(Error::TopicEmpty));
    let s = selector_from_query(b"%74opic=x&topic=y&&topic").unwrap_err();
    assert_eq!(s, Error::TopicEmpty, "a bare `topic` names the empty topic");
    let many: String = (0..65).map(|i| format!("topic={i}&")).collect();
    assert_eq!(
        selector_from_query(many.as_bytes()),
        Err(Error::SelectorTooLarge)
    );
    let s = selector_from_query(b"%74opic=x&topic=y&other=%zz").unwrap();
    assert_eq!(s.topics().len(), 2);
}

#[test]
fn the_selector_limit_counts_distinct_topics_and_the_work_is_bounded() {
    // One topic named 65 times (or 256) is one topic.
    for times in [MAX_SELECTOR_TOPICS + 1, MAX_QUERY_TOPIC_PARAMS] {
        let repeated = "topic=a&".repeat(times);
        let s = selector_from_query(repeated.as_bytes()).unwrap();
        assert_eq!(s.topics().len(), 1, "{times} repeats");
    }
    // 64 distinct topics, each named twice, fit; a 65th distinct one does not.
    let twice: String = (0..2 * MAX_SELECTOR_TOPICS)
        .map(|i| format!("topic={}&", i % MAX_SELECTOR_TOPICS))
        .collect();
    assert_eq!(
        selector_from_query(twice.as_bytes())
            .unwrap()
            .topics()
            .len(),
        MAX_SELECTOR_TOPICS
    );
    let more = format!("{twice}topic=new");
    assert_eq!(
        selector_from_query(more.as_bytes()),
        Err(Error::SelectorTooLarge)
    );
    // Past the parameter bound the query is refused, however few topics it names.
    let flood = "topic=a&".repeat(MAX_QUERY_TOPIC_PARAMS + 1);
    assert_eq!(
        selector_from_query(flood.as_bytes()),
        Err(Error::SelectorTooLarge)
    );
}

#[test]
fn more_topics_than_kept_inline_stay_sorted_and_distinct() {
    // Past `INLINE_TOPICS` distinct topics the set moves to the heap, in order.
    let names: Vec<String> = (0..3 * INLINE_TOPICS)
        .rev()
        .map(|i| format!("t{i:02}"))
        .collect();
    let query: String = names
        .iter()
        .chain(&names)
        .map(|n| format!("topic={n}&"))
        .collect();
    let s = selector_from_query(query.as_bytes()).unwrap();
    let mut expected = names.clone();
    expected.sort();
    let got: Vec<&str> = s.topics().iter().map(Topic::as_str).collect();
    assert_eq!(got, expected);
    let one = selector_from_query(b"topic=a&topic=a").unwrap();
    assert_eq!(one, Selector::one(Topic::new("a").unwrap()));
}

#[test]
fn topic_values_are_patterns_and_count_toward_the_limit_once_each() {
    let s = selector_from_query(
        b"topic=*&topic=https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D&topic=a&topic=*",
    )
    .unwrap();
    assert_eq!(s.topics().len(), 1);
    assert_eq!(s.patterns().len(), 3);
    assert!(s.patterns().contains(&Pattern::All));
    let book = Topic::new("https://example.com/books/7").unwrap();
    assert!(s.matches(&book));
    // An unclosed brace is no template: the exact topic of that name.
    let s = selector_from_query(b"topic=a%7Bb").unwrap();
    assert_eq!(s.topics()[0].as_str(), "a{b");
    // 63 distinct templates and one exact topic fit; another of either kind does not.
    let templates: String = (0..MAX_SELECTOR_TOPICS - 1)
        .map(|i| format!("topic=/t{i}/%7Bx%7D&"))
        .collect();
    let full = format!("{templates}{templates}topic=a");
    assert_eq!(
        selector_from_query(full.as_bytes())
            .unwrap()
            .patterns()
            .len(),
        MAX_SELECTOR_TOPICS
    );
    for more in ["&topic=b", "&topic=/more/%7Bx%7D"] {
        assert_eq!(
            selector_from_query(format!("{full}{more}").as_bytes()),
            Err(Error::SelectorTooLarge),
            "{more}"
        );
    }
}

#[test]
fn every_parameter_name_is_decoded_before_it_is_matched() {
    let q = b"%74opic=a&%65vent=x%2By&event=second&b%ff=1";
    assert_eq!(query_param(q, "event").unwrap().as_deref(), Some("x+y"));
    assert_eq!(query_param(q, "topic").unwrap().as_deref(), Some("a"));
    assert_eq!(
        query_param(q, "b\u{fffd}"),
        Ok(None),
        "an undecodable name is no name"
    );
    assert_eq!(
        query_param(b"e%76ent=%zz", "event"),
        Err(Error::QueryInvalid)
    );
}

proptest! {
    /// A query read as text splits into exactly the parameters of the same query read as
    /// bytes.
    #[test]
    fn a_text_query_splits_as_its_bytes(raw in proptest::collection::vec(
        prop_oneof![Just('%'), Just('+'), Just('&'), Just('='), Just('a'), Just('F'),
            Just('2'), Just('\u{e9}'), any::<char>()],
        0..24,
    )) {
        let raw: String = raw.into_iter().collect();
        let text: Vec<_> = pairs_of_str(&raw).collect();
        let bytes: Vec<_> = pairs(raw.as_bytes()).collect();
        prop_assert_eq!(text, bytes);
    }

    /// Whatever `form_urlencoded` writes, this module reads back exactly.
    #[test]
    fn decodes_what_form_urlencoded_encodes(s in "\\PC*") {
        let encoded: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
        let decoded = form_decode(encoded.as_bytes());
        prop_assert_eq!(decoded.as_deref(), Some(s.as_str()));
    }

    /// Where this module accepts a component, it agrees with `form_urlencoded`'s lenient
    /// reading; where they differ, the input had a malformed escape or was not UTF-8.
    #[test]
    fn agrees_with_form_urlencoded_where_it_accepts(raw in proptest::collection::vec(
        prop_oneof![Just(b'%'), Just(b'+'), Just(b'a'), Just(b'F'), Just(b'2'),
            any::<u8>().prop_filter("one parameter", |&b| b != b'&')],
        0..24,
    )) {
        let lenient: Vec<(String, String)> = form_urlencoded::parse(&[&b"k="[..], &raw].concat())
            .into_owned()
            .collect();
        match form_decode(&raw) {
            Some(strict) => prop_assert_eq!(&lenient[0].1, strict.as_ref()),
            None => prop_assert!(
                !escapes_are_well_formed(&raw) || lenient[0].1.contains('\u{fffd}'),
                "refused {:?} though its escapes are well formed and it decodes to UTF-8", raw
            ),
        }
    }
}
