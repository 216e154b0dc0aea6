//! Table-driven tests of the WHATWG event stream interpretation: every file in `fixtures/`.
//!
//! Fixture format (one directive per line, values with `\n \r \t \\ \xNN \u{...}` escapes):
//! `# comment`, `config: max_line_len=N` / `max_event_len=N`, `in: <bytes>` (repeatable,
//! concatenated), then the expected items in order: `retry: <ms>`, or `event: <type>` followed by
//! `id: <id>` and `data: <data>`; and optionally a final `error: <variant>`.
//!
//! Each fixture is decoded whole, split in two at every index, and one byte at a time.

use std::path::Path;

use bytes::Bytes;
use push_core::Event;
use push_sse::__fuzz::decode_chunks;
use push_sse::{Config, Decoded, Error};

type Item = Decoded<Event>;

struct Fixture {
    config: Config,
    input: Vec<u8>,
    items: Vec<Item>,
    error: Option<Error>,
}

fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).expect("\\xNN"));
            }
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let code = u32::from_str_radix(rest.trim_start_matches('{'), 16).expect("\\u{..}");
                let c = char::from_u32(code).expect("scalar value");
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            other => panic!("unknown escape \\{other:?}"),
        }
    }
    out
}

fn text(s: &str) -> String {
    String::from_utf8(unescape(s)).expect("expected values are UTF-8")
}

fn parse(source: &str) -> Fixture {
    let mut f = Fixture {
        config: Config::default(),
        input: Vec::new(),
        items: Vec::new(),
        error: None,
    };
    let mut pending: Option<Event> = None;
    for line in source
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (key, value) = line.split_once(':').expect("key: value");
        let value = value.strip_prefix(' ').unwrap_or(value);
        match key {
            "config" => {
                let (name, n) = value.split_once('=').expect("name=N");
                let n: usize = n.parse().expect("a number");
                f.config = match name {
                    "max_line_len" => f.config.with_max_line_len(n),
                    "max_event_len" => f.config.with_max_event_len(n),
                    _ => panic!("unknown config {name}"),
                };
            }
            "in" => f.input.extend(unescape(value)),
            "retry" => f.items.push(Item::Retry(value.parse().expect("retry ms"))),
            "event" => pending = Some(Event::default().with_event(text(value))),
            "id" => pending.as_mut().expect("event: first").id = Some(text(value)),
            "data" => {
                let mut e = pending.take().expect("event: first");
                e.data = Bytes::from(text(value));
                f.items.push(Item::Event(e));
            }
            "error" => {
                f.error = Some(match value {
                    "LineTooLong" => Error::LineTooLong,
                    "EventTooLarge" => Error::EventTooLarge,
                    _ => panic!("unknown error {value}"),
                });
            }
            _ => panic!("unknown key {key}"),
        }
    }
    assert!(pending.is_none(), "event without data");
    f
}

#[test]
fn fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    assert!(
        names.len() >= 25,
        "expected the fixtures in {}",
        dir.display()
    );
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let f = parse(&std::fs::read_to_string(&path).expect("readable fixture"));
        let want = (f.items.clone(), f.error);
        assert_eq!(
            decode_chunks(f.config, [&f.input[..]]),
            want,
            "{name}: whole"
        );
        for i in 0..=f.input.len() {
            let (a, b) = f.input.split_at(i);
            assert_eq!(
                decode_chunks(f.config, [a, b]),
                want,
                "{name}: split at {i}"
            );
        }
        assert_eq!(
            decode_chunks(f.config, f.input.chunks(1)),
            want,
            "{name}: bytes"
        );
    }
}
