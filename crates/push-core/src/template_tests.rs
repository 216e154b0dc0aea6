//! RFC 6570's own examples (section 3.2, with its variable values) must match their templates;
//! near misses must not.

use super::*;
use crate::Topic;

fn matches(template: &str, topic: &str) -> bool {
    UriTemplate::parse(template)
        .unwrap()
        .matches(&Topic::new(topic).unwrap())
}

/// (template, expansion) pairs from RFC 6570 §3.2.2–3.2.9.
const RFC_EXPANSIONS: &[(&str, &str)] = &[
    ("{var}", "value"),
    ("{hello}", "Hello%20World%21"),
    ("{half}", "50%25"),
    ("O{empty}X", "OX"),
    ("O{undef}X", "OX"),
    ("{x,y}", "1024,768"),
    ("{x,hello,y}", "1024,Hello%20World%21,768"),
    ("?{x,empty}", "?1024,"),
    ("?{x,undef}", "?1024"),
    ("{var:3}", "val"),
    ("{list}", "red,green,blue"),
    ("{list*}", "red,green,blue"),
    ("{keys}", "semi,%3B,dot,.,comma,%2C"),
    ("{keys*}", "semi=%3B,dot=.,comma=%2C"),
    ("{+var}", "value"),
    ("{+hello}", "Hello%20World!"),
    ("{+path}/here", "/foo/bar/here"),
    ("here?ref={+path}", "here?ref=/foo/bar"),
    ("{+path:6}/here", "/foo/b/here"),
    ("{+keys*}", "semi=;,dot=.,comma=,"),
    ("{#var}", "#value"),
    ("{#hello}", "#Hello%20World!"),
    ("{#path:6}/here", "#/foo/b/here"),
    ("{#list*}", "#red,green,blue"),
    ("{#keys*}", "#semi=;,dot=.,comma=,"),
    ("X{.var}", "X.value"),
    ("X{.x,y}", "X.1024.768"),
    ("X{.list*}", "X.red.green.blue"),
    ("X{.keys*}", "X.semi=%3B.dot=..comma=%2C"),
    ("X{.empty_keys}", "X"),
    ("{/var}", "/value"),
    ("{/var,x}/here", "/value/1024/here"),
    ("{/list*,path:4}", "/red/green/blue/%2Ffoo"),
    ("{/keys*}", "/semi=%3B/dot=./comma=%2C"),
    ("{;x,y}", ";x=1024;y=768"),
    ("{;x,y,empty}", ";x=1024;y=768;empty"),
    ("{;list*}", ";list=red;list=green;list=blue"),
    ("{;keys*}", ";semi=%3B;dot=.;comma=%2C"),
    ("{?x,y}", "?x=1024&y=768"),
    ("{?x,y,empty}", "?x=1024&y=768&empty="),
    ("{?list*}", "?list=red&list=green&list=blue"),
    ("?fixed=yes{&x}", "?fixed=yes&x=1024"),
    ("{&x,y,empty}", "&x=1024&y=768&empty="),
    ("{&keys*}", "&semi=%3B&dot=.&comma=%2C"),
];

#[test]
fn every_rfc_expansion_matches_its_template() {
    for (template, expansion) in RFC_EXPANSIONS {
        assert!(matches(template, expansion), "{template} !~ {expansion}");
    }
}

#[test]
fn what_no_expansion_produces_does_not_match() {
    let misses: &[(&str, &str)] = &[
        ("{var}", "a/b"),
        ("{var}", "a?b"),
        ("{keys}", "semi=x"),
        ("X{.var}", "Xvalue"),
        ("X{.var}", "X/value"),
        ("{/var}", "value"),
        ("{?x}", "&x=1"),
        ("{#var}", "value#"),
        ("O{var}X", "OvalueY"),
        ("{var}", "ü"),
    ];
    for (template, topic) in misses {
        assert!(!matches(template, topic), "{template} ~ {topic}");
    }
}

#[test]
fn mercure_style_topics() {
    let books = "https://example.com/books/{id}";
    assert!(matches(books, "https://example.com/books/1"));
    assert!(matches(books, "https://example.com/books/"));
    assert!(!matches(books, "https://example.com/books/1/reviews"));
    assert!(!matches(books, "https://example.com/users/1"));
    assert!(!matches(books, "http://example.com/books/1"));
    let reviews = "https://example.com/books/{id}/reviews{/review}";
    assert!(matches(reviews, "https://example.com/books/1/reviews"));
    assert!(matches(reviews, "https://example.com/books/1/reviews/9"));
    assert!(!matches(
        reviews,
        "https://example.com/books/1/reviews/9/x/y?z"
    ));
    let anything = "https://example.com/{+path}";
    assert!(matches(anything, "https://example.com/a/b?c=d#e"));
}

#[test]
fn malformed_templates_are_refused() {
    for bad in [
        "{",
        "{}",
        "a}b",
        "{=x}",
        "{,x}",
        "{x,}",
        "{x:0}",
        "{x:12345}",
        "{x*y}",
        "{.x.}",
        "{x..y}",
        "a b{x}",
        "{x%zz}",
        "%zz{x}",
        "{x}{",
    ] {
        assert_eq!(
            UriTemplate::parse(bad).err(),
            Some(Error::PatternInvalid),
            "{bad}"
        );
    }
    let long = format!("{{x}}{}", "a".repeat(MAX_TOPIC_LEN));
    assert_eq!(UriTemplate::parse(&long).err(), Some(Error::TopicTooLong));
    for good in [
        "{x}",
        "{x:1}",
        "{x:9999}",
        "{a.b_c%20}",
        "{x*}",
        "plain",
        "",
    ] {
        assert!(UriTemplate::parse(good).is_ok(), "{good}");
    }
}

/// The matcher's work is bounded by parts × topic length: the worst templates for a
/// backtracking matcher finish here at once (the test would time out otherwise).
#[test]
fn matching_never_backtracks() {
    let template = "{a}{b}".repeat(100) + "!";
    let topic = "a".repeat(MAX_TOPIC_LEN);
    assert!(!matches(&template, &topic));
    assert!(matches(&template, &(topic[1..].to_owned() + "!")));
}
