//! The RFCs' own examples, and the cases the hand-written parsers this module replaces were
//! tested on.

use http::HeaderMap;
use http::header::LINK;

use super::*;

fn link_list(value: &str) -> Vec<Link<'_>> {
    links(value.as_bytes()).collect()
}

fn text(word: Option<Word<'_>>) -> Option<String> {
    word.and_then(|w| w.to_str()).map(|s| s.into_owned())
}

#[test]
fn rfc_8288_examples() {
    let l = link_list(
        r#"<http://example.com/TheBook/chapter2>; rel="previous"; title="previous chapter""#,
    );
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].target(), "http://example.com/TheBook/chapter2");
    assert!(l[0].has_rel("previous"));
    assert_eq!(
        text(l[0].param("title").unwrap().value()).as_deref(),
        Some("previous chapter")
    );

    let l = link_list(r#"</>; rel="http://example.net/foo""#);
    assert_eq!(l[0].target(), "/");
    assert!(l[0].has_rel("http://example.net/foo"));

    let l = link_list(r##"</terms>; rel="copyright"; anchor="#foo""##);
    assert_eq!(
        text(l[0].param("anchor").unwrap().value()).as_deref(),
        Some("#foo")
    );

    let l = link_list(
        "</TheBook/chapter2>; rel=\"previous\"; title*=UTF-8'de'letztes%20Kapitel, \
         </TheBook/chapter4>; rel=\"next\"; title*=UTF-8'de'n%c3%a4chstes%20Kapitel",
    );
    assert_eq!(l.len(), 2);
    assert!(l[0].has_rel("previous") && l[1].has_rel("next"));
    assert_eq!(
        l[1].param("title*").unwrap().value().unwrap().as_token(),
        Some("UTF-8'de'n%c3%a4chstes%20Kapitel")
    );

    let l = link_list(r#"<http://example.org/>; rel="start http://example.net/relation/other""#);
    assert!(l[0].has_rel("start") && l[0].has_rel("http://example.net/relation/other"));
    assert!(!l[0].has_rel("other"));

    let l = link_list(
        r#"<https://example.org/>; rel="start", <https://example.org/index>; rel="index""#,
    );
    assert_eq!(l.len(), 2);
    assert_eq!(l[1].target(), "https://example.org/index");
}

#[test]
fn links_as_push_h2_reads_them() {
    let l = link_list(
        r#"</style.css>; rel=preload; as=style, </app.js>;rel="preload";AS="Script";nopush, <https://x/y,z>; rel="prefetch preload""#,
    );
    assert_eq!(l.len(), 3);
    assert_eq!(l[0].target(), "/style.css");
    assert!(l[0].has_rel("preload") && l[0].param("nopush").is_none());
    assert_eq!(
        text(l[0].param("as").unwrap().value()).as_deref(),
        Some("style")
    );
    assert!(l[1].has_rel("preload") && l[1].param("nopush").is_some());
    assert_eq!(
        text(l[1].param("as").unwrap().value()).as_deref(),
        Some("Script")
    );
    assert_eq!(l[2].target(), "https://x/y,z");
    assert!(l[2].has_rel("preload"));

    // Malformed link-values are skipped, the others still count.
    let l = link_list(
        r#"junk, </a>; rel="pre,load", <b c>; rel=preload, </d>; rel=preload; title="x\"y,", </e> x, </f>;rel=preload"#,
    );
    let targets: Vec<_> = l.iter().map(Link::target).collect();
    assert_eq!(targets, ["/a", "/d", "/f"]);
    assert!(!l[0].has_rel("preload"));
    assert_eq!(
        text(l[1].param("title").unwrap().value()).as_deref(),
        Some("x\"y,")
    );
    assert!(link_list(r#"</a>; rel="unterminated"#).is_empty());
    // A comma inside a malformed element's quoted string starts nothing.
    assert!(link_list(r#"x="a, </b>, c", <d"#).is_empty());
    assert!(link_list(r#"<x y="a, </b>, c">, <d"#).is_empty());
    assert!(link_list("<").is_empty());
    assert!(link_list(",,, ,").is_empty());
    assert!(
        link_list("</a>; rel=\"\x01\"").is_empty(),
        "a control in a quoted-string"
    );

    // The first `rel` counts; the headers of a response combine, up to MAX_LINKS.
    assert!(!link_list("</a>; rel=stylesheet; rel=preload")[0].has_rel("preload"));
    let mut headers = HeaderMap::new();
    headers.append(LINK, "</a>; rel=preload".parse().unwrap());
    headers.append(
        LINK,
        "</b>; rel=preload, </c>; rel=preload".parse().unwrap(),
    );
    assert_eq!(parse_links(&headers).len(), 3);
    let many: HeaderMap = [(LINK, "</x>; rel=preload, ".repeat(100).parse().unwrap())]
        .into_iter()
        .collect();
    assert_eq!(parse_links(&many).len(), MAX_LINKS);
    // Empty parameters (RFC 9110 `parameters`) and the empty target are read.
    let l = link_list("<>;; rel=self ;");
    assert_eq!(l[0].target(), "");
    assert!(l[0].has_rel("self"));
    assert_eq!(l[0].to_string(), "<>;; rel=self ;");
}

#[test]
fn rfc_7240_examples() {
    for value in ["respond-async, wait=100", "wait=100, respond-async"] {
        let found: Vec<_> = preferences(value.as_bytes()).collect();
        assert_eq!(found.len(), 2, "{value}");
        let wait = find_preference([value.as_bytes()], "wait").unwrap();
        assert_eq!(wait.value().unwrap().as_token(), Some("100"));
        assert!(find_preference([value.as_bytes()], "respond-async").is_some());
    }
    // §2: these three are equivalent: an empty value is no value.
    for value in [r#"foo; bar"#, r#"foo; bar="""#, r#"foo=""; bar"#] {
        let foo = find_preference([value.as_bytes()], "foo").unwrap();
        assert!(
            foo.value().is_none_or(|v| v.unescape().is_empty()),
            "{value}"
        );
        let bar = foo.params().get("bar").unwrap();
        assert!(
            bar.value().is_none_or(|v| v.unescape().is_empty()),
            "{value}"
        );
    }
    for (value, name, expected) in [
        ("handling=lenient", "handling", "lenient"),
        ("return=minimal", "return", "minimal"),
        ("return=representation", "RETURN", "representation"),
    ] {
        let p = find_preference([value.as_bytes()], name).unwrap();
        assert!(p.value().unwrap().eq_ignore_ascii_case(expected));
    }
}

#[test]
fn prefer_as_push_longpoll_reads_it() {
    let wait = |values: &[&[u8]]| {
        find_preference(values.iter().copied(), "wait")
            .and_then(|p| p.value())
            .and_then(|w| w.to_str().map(|s| s.into_owned()))
    };
    assert_eq!(wait(&[b"wait=10"]).as_deref(), Some("10"));
    assert_eq!(wait(&[b"WAIT = \"7\"; x=1"]).as_deref(), Some("7"));
    assert_eq!(wait(&[br#"foo="a,wait=1", wait=3"#]).as_deref(), Some("3"));
    assert_eq!(
        wait(&[b"respond-async", b"wait=4, wait=9"]).as_deref(),
        Some("4")
    );
    assert_eq!(wait(&[b"x=\"unterminated, wait=1"]), None);
    // A preference that does not parse is ignored (RFC 7240 §2), the next one counts.
    assert_eq!(wait(&[b"wait=1 2, wait=5"]).as_deref(), Some("5"));
    assert_eq!(wait(&[b""]), None);
}

#[test]
fn rfc_9110_entity_tags() {
    for (value, weak, tag) in [
        (&br#""xyzzy""#[..], false, &b"xyzzy"[..]),
        (br#"W/"xyzzy""#, true, b"xyzzy"),
        (br#""""#, false, b""),
    ] {
        let t = EntityTag::parse(value).unwrap();
        assert_eq!((t.is_weak(), t.tag()), (weak, tag));
        assert_eq!(t.to_string().as_bytes(), value);
    }
    for bad in [
        &b"xyzzy"[..],
        b"w/\"x\"",
        b"\"a\"b\"",
        b"\"a b\"",
        b"\"a\" \"b\"",
    ] {
        assert_eq!(EntityTag::parse(bad), None, "{bad:?}");
    }
    // §8.8.3.2's comparison table.
    let e = |v: &'static [u8]| EntityTag::parse(v).unwrap();
    for (a, b, strong, weak) in [
        (e(br#"W/"1""#), e(br#"W/"1""#), false, true),
        (e(br#"W/"1""#), e(br#"W/"2""#), false, false),
        (e(br#"W/"1""#), e(br#""1""#), false, true),
        (e(br#""1""#), e(br#""1""#), true, true),
    ] {
        assert_eq!((a.strong_eq(&b), a.weak_eq(&b)), (strong, weak), "{a} {b}");
    }
    // §13.1.2's examples of If-None-Match.
    let count = |v: &str| entity_tags(v.as_bytes()).count();
    assert_eq!(count(r#""xyzzy""#), 1);
    assert_eq!(count(r#"W/"xyzzy""#), 1);
    assert_eq!(count(r#""xyzzy", "r2d2xxxx", "c3piozzzz""#), 3);
    assert_eq!(count(r#"W/"xyzzy", W/"r2d2xxxx", W/"c3piozzzz""#), 3);
    assert_eq!(
        entity_tags(b"*").collect::<Vec<_>>(),
        [EntityTagCondition::Any]
    );
    // As push-longpoll reads it: empty elements pass, the list ends at a malformed one.
    assert_eq!(count(r#" ,, "1-2" ,"3-4","#), 2);
    assert_eq!(count(r#""1-2", 3-4, "5-6""#), 1);
    assert_eq!(count(r#""1-2"x, "5-6""#), 0);
    assert_eq!(count(r#""unterminated"#), 0);
    assert_eq!(EntityTag::new(b"a\"b", false), None);
}

#[test]
fn rfc_6265_cookies_and_lenient_siblings() {
    let pairs = |v: &[u8]| -> Vec<(String, String)> {
        cookies(v)
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect()
    };
    assert_eq!(
        pairs(b"SID=31d4d96e407aad42"),
        [("SID".into(), "31d4d96e407aad42".into())]
    );
    assert_eq!(
        pairs(b"SID=31d4d96e407aad42; lang=en-US"),
        [
            ("SID".into(), "31d4d96e407aad42".into()),
            ("lang".into(), "en-US".into())
        ]
    );
    // One malformed sibling never hides another, wherever it is.
    for value in [
        &b"junk; h2d=abc"[..],
        b"h2d=abc; junk",
        b"a=\"unterminated; h2d=abc",
        b"\xff\xfe=1; h2d=abc",
        b";;; =x ; h2d = \"abc\" ;",
        b"a=b=c;h2d=abc",
    ] {
        let found = pairs(value);
        assert!(
            found.contains(&("h2d".into(), "abc".into())),
            "{value:?}: {found:?}"
        );
    }
    assert_eq!(pairs(b"a=b=c"), [("a".into(), "b=c".into())]);
    assert_eq!(pairs(b"a=\""), [("a".into(), "\"".into())]);
    assert_eq!(pairs(b"a="), [("a".into(), String::new())]);
    assert!(pairs(b"").is_empty() && pairs(b";").is_empty() && pairs(b"=").is_empty());
}

#[test]
fn tokens_and_words() {
    let found: Vec<_> = tokens(b" Upgrade ,keep-alive,\"q\", a b, h2c").collect();
    assert_eq!(found, ["Upgrade", "keep-alive", "h2c"]);
    let mut headers = HeaderMap::new();
    headers.append("connection", "keep-alive".parse().unwrap());
    headers.append("connection", "UPGRADE".parse().unwrap());
    assert!(has_token(headers.get_all("connection"), "upgrade"));
    assert!(!has_token(headers.get_all("connection"), "close"));
    assert!(
        is_token(b"w-x")
            && !is_token(b"w/x")
            && !is_token(b"")
            && !is_token(b"a b")
            && !is_token(b"a\"b")
    );
    let w = find_preference([&br#"x="a\"b\\c\ d""#[..]], "x")
        .unwrap()
        .value()
        .unwrap();
    assert!(w.is_quoted());
    assert_eq!(w.as_token(), None);
    assert_eq!(&*w.unescape(), b"a\"b\\c d");
    assert!(w.eq_ignore_ascii_case("A\"B\\C D"));
    assert!(!w.eq_ignore_ascii_case("a\"b\\c d "));
    assert_eq!(w.as_written(), br#""a\"b\\c\ d""#);
    // obs-text is carried, not decoded: to_str answers None when it is not UTF-8.
    let w = find_preference([&b"x=\"\xff\""[..]], "x")
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(&*w.unescape(), b"\xff");
    assert_eq!(w.to_str(), None);
    // A params walk over unchecked text ends at the first parameter that does not parse.
    let names: Vec<_> = Params::parse(b"; a=1;;b ; c=\"x\" junk; d")
        .map(|p| p.name())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
}
