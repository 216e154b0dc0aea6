//! Round trips: what a header writer produces from structured values, the grammar reads back
//! unchanged, whatever whitespace and escapes it chose; and the cookie reader agrees with a
//! plain model of the lenient rule.

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

fn token() -> impl Strategy<Value = String> {
    "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,8}"
}

/// Text a quoted-string can carry: visible ASCII, space, tab, and non-ASCII letters.
fn text() -> impl Strategy<Value = String> {
    "[ -~\t\u{e9}\u{20ac}]{0,10}"
}

fn ows() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("\t "), Just("  ")]
}

type Params = Vec<(String, Option<String>)>;

fn params() -> impl Strategy<Value = Params> {
    vec((token(), proptest::option::of(text())), 0..4)
}

fn write_params(params: &Params, ows: &str, out: &mut String) {
    for (name, value) in params {
        out.push_str(&format!("{ows};{ows}{name}"));
        if let Some(value) = value {
            // `to_word` refuses nothing `text()` makes.
            let word = to_word(value).expect("quotable");
            out.push_str(&format!("{ows}={ows}{word}"));
        }
    }
}

fn read_params(params: super::Params<'_>) -> Params {
    params
        .map(|p| {
            let value = p
                .value()
                .map(|w| w.to_str().expect("UTF-8 in, UTF-8 out").into_owned());
            (p.name().to_owned(), value)
        })
        .collect()
}

proptest! {
    #[test]
    fn links_round_trip(
        written in vec(("[!-;=?-~]{0,12}", params()), 0..5),
        ows in ows(),
    ) {
        let mut header = String::new();
        for (i, (target, params)) in written.iter().enumerate() {
            if i > 0 {
                header.push_str(&format!("{ows},{ows}"));
            }
            header.push_str(&format!("<{target}>"));
            write_params(params, ows, &mut header);
        }
        let read: Vec<(String, Params)> = links(header.as_bytes())
            .map(|l| (l.target().to_owned(), read_params(l.params())))
            .collect();
        prop_assert_eq!(read, written, "{}", header);
    }

    #[test]
    fn preferences_round_trip(
        written in vec((token(), proptest::option::of(text()), params()), 0..5),
        ows in ows(),
    ) {
        let mut header = String::new();
        for (i, (name, value, params)) in written.iter().enumerate() {
            if i > 0 {
                header.push_str(&format!("{ows},{ows}"));
            }
            header.push_str(name);
            if let Some(value) = value {
                header.push_str(&format!("{ows}={ows}{}", to_word(value).expect("quotable")));
            }
            write_params(params, ows, &mut header);
        }
        let read: Vec<_> = preferences(header.as_bytes())
            .map(|p| {
                let value = p.value().map(|w| w.to_str().unwrap().into_owned());
                (p.name().to_owned(), value, read_params(p.params()))
            })
            .collect();
        prop_assert_eq!(read, written, "{}", header);
    }

    #[test]
    fn entity_tags_round_trip(
        written in vec((any::<bool>(), "[!#-~\u{e9}]{0,8}"), 0..6),
        ows in ows(),
    ) {
        let header = written
            .iter()
            .map(|(weak, tag)| EntityTag::new(tag.as_bytes(), *weak).unwrap().to_string())
            .collect::<Vec<_>>()
            .join(&format!("{ows},{ows}"));
        let read: Vec<_> = entity_tags(header.as_bytes())
            .map(|c| match c {
                EntityTagCondition::Tag(t) => {
                    (t.is_weak(), String::from_utf8(t.tag().to_vec()).unwrap())
                }
                EntityTagCondition::Any => panic!("no `*` was written"),
            })
            .collect();
        prop_assert_eq!(read, written, "{}", header);
    }

    #[test]
    fn a_word_reads_back_as_its_text(value in text()) {
        let word = to_word(&value).unwrap();
        let header = format!("x={word}");
        let read = find_preference([header.as_bytes()], "x").unwrap().value().unwrap();
        prop_assert_eq!(&*read.unescape(), value.as_bytes());
        prop_assert!(read.eq_ignore_ascii_case(&value.to_ascii_uppercase()));
        prop_assert_eq!(read.is_quoted(), !is_token(value.as_bytes()));
    }

    /// Cookies agree with a plain reading of the lenient rule, and a well-formed pair is found
    /// whatever its siblings hold.
    #[test]
    fn cookies_follow_the_lenient_model(
        pieces in vec(prop_oneof![
            (token(), "[!#-+--:<-\\[\\]-~]{0,6}").prop_map(|(n, v)| format!("{n}={v}").into_bytes()),
            vec(any::<u8>().prop_filter("one piece", |&b| b != b';'), 0..8),
        ], 0..6),
        pad in ows(),
    ) {
        let header: Vec<u8> = pieces.join(format!(";{pad}").as_bytes());
        let model: Vec<(&[u8], &[u8])> = header
            .split(|&b| b == b';')
            .filter_map(|piece| {
                let at = piece.iter().position(|&b| b == b'=')?;
                let name = piece[..at].trim_ascii_matches_wsp();
                let value = piece[at + 1..].trim_ascii_matches_wsp();
                let value = value
                    .strip_prefix(b"\"")
                    .and_then(|v| v.strip_suffix(b"\""))
                    .unwrap_or(value);
                let ok = !name.is_empty()
                    && core::str::from_utf8(name).is_ok()
                    && core::str::from_utf8(value).is_ok();
                ok.then_some((name, value))
            })
            .collect();
        let read: Vec<(&[u8], &[u8])> = cookies(&header)
            .map(|c| (c.name().as_bytes(), c.value().as_bytes()))
            .collect();
        prop_assert_eq!(&read, &model);
        for piece in &pieces {
            if let Some(at) = piece.iter().position(|&b| b == b'=')
                && is_token(&piece[..at])
                && piece[at + 1..].iter().all(|&b| {
                    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
                })
            {
                let pair = (&piece[..at], &piece[at + 1..]);
                prop_assert!(read.contains(&pair), "{:?} hidden in {:?}", pair, read);
            }
        }
    }
}

trait TrimWsp {
    fn trim_ascii_matches_wsp(&self) -> &Self;
}

impl TrimWsp for [u8] {
    fn trim_ascii_matches_wsp(&self) -> &Self {
        let start = self
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(self.len());
        let end = self
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(start, |i| i + 1);
        &self[start..end]
    }
}
