//! push-http's nom header grammars against the hand-written parsers they replace (frozen in
//! `http_grammar/baseline.rs`):
//!
//! - `link/{hand-written,push-http}`: a three-link `Link` value as a push server reads it,
//!   into owned links (target, preload, nopush, lowercased `as`), as push-h2 keeps them;
//!   `link/push-http-borrowed` reads the same without copying.
//! - `prefer/{hand-written,push-http}`: the `wait` of `Prefer: respond-async, x="a, wait=1";
//!   y, wait=30` (after a quoted comma and a parameter), as push-longpoll reads it.
//!
//! The same binary counts instructions deterministically on this noisy machine (`drive` mode):
//!
//! ```text
//! cargo bench -p push-benches --bench http_grammar --no-run   # prints the binary's path
//! valgrind --tool=callgrind BINARY drive link/push-http 100000
//! ```
//!
//! Modes: `link/hand-written`, `link/push-http`, `prefer/hand-written`, `prefer/push-http`.
//! Run twice with different counts and subtract for the instructions per header.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use push_http::grammar::{find_preference, links};

#[path = "http_grammar/baseline.rs"]
mod baseline;

const LINK: &[u8] = br#"</style.css>; rel=preload; as=style, </app.js>; rel="preload"; as=Script; nopush, <https://cdn.example/font.woff2>; rel="preload prefetch"; as=font; crossorigin"#;
const PREFER: &[u8] = br#"respond-async, x="a, wait=1"; y, wait=30"#;

/// What push-h2 keeps of a link.
#[derive(Debug, PartialEq, Eq)]
struct Owned {
    target: String,
    preload: bool,
    nopush: bool,
    as_type: Option<String>,
}

/// One walk over each link's params, the first `rel` and `as` counting, as push-h2 reads them.
fn with_push_http(value: &[u8], out: &mut Vec<Owned>) {
    for link in links(value).take(baseline::link::MAX_LINKS - out.len()) {
        let mut owned = Owned {
            target: link.target().to_owned(),
            preload: false,
            nopush: false,
            as_type: None,
        };
        let (mut seen_rel, mut seen_as) = (false, false);
        for param in link.params() {
            if param.is("rel") && !seen_rel {
                seen_rel = true;
                owned.preload = param.value().is_some_and(|rel| {
                    rel.unescape()
                        .split(|b| b.is_ascii_whitespace())
                        .any(|t| t.eq_ignore_ascii_case(b"preload"))
                });
            } else if param.is("as") && !seen_as {
                seen_as = true;
                owned.as_type = param
                    .value()
                    .and_then(|w| w.to_str())
                    .map(|s| s.to_ascii_lowercase());
            } else if param.is("nopush") {
                owned.nopush = true;
            }
        }
        out.push(owned);
    }
}

fn wait_with_push_http(values: &[&[u8]]) -> Option<Duration> {
    let wait = find_preference(values.iter().copied(), "wait")?;
    baseline::prefer::parse_seconds(&wait.value()?.unescape())
}

fn bench(c: &mut Criterion) {
    // Both read the same thing before anything is timed.
    let mut hand = Vec::new();
    baseline::link::parse_link_header(LINK, &mut hand);
    let mut ours = Vec::new();
    with_push_http(LINK, &mut ours);
    assert_eq!(hand.len(), 3);
    for (h, o) in hand.iter().zip(&ours) {
        assert_eq!(h.target(), o.target);
        assert_eq!((h.is_preload(), h.is_nopush()), (o.preload, o.nopush));
        assert_eq!(h.as_type(), o.as_type.as_deref());
    }
    assert_eq!(
        baseline::prefer::prefer_wait(&[PREFER]),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        wait_with_push_http(&[PREFER]),
        Some(Duration::from_secs(30))
    );

    let mut group = c.benchmark_group("link");
    group.bench_function("hand-written", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            baseline::link::parse_link_header(black_box(LINK), &mut out);
            out
        })
    });
    group.bench_function("push-http", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            with_push_http(black_box(LINK), &mut out);
            out
        })
    });
    group.bench_function("push-http-borrowed", |b| {
        b.iter(|| {
            links(black_box(LINK))
                .filter(|l| l.has_rel("preload") && l.param("nopush").is_none())
                .count()
        })
    });
    group.bench_function("parse-only", |b| b.iter(|| links(black_box(LINK)).count()));
    group.bench_function("walk-params", |b| {
        b.iter(|| {
            links(black_box(LINK))
                .map(|l| l.params().count())
                .sum::<usize>()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("prefer");
    group.bench_function("hand-written", |b| {
        b.iter(|| baseline::prefer::prefer_wait(black_box(&[PREFER])))
    });
    group.bench_function("push-http", |b| {
        b.iter(|| wait_with_push_http(black_box(&[PREFER])))
    });
    group.finish();
}

/// `drive MODE COUNT`: reads the header COUNT times the way MODE does, for instruction counts.
fn drive(args: &[String]) {
    let count: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let mut checksum = 0usize;
    for _ in 0..count {
        checksum += match args.first().map(String::as_str) {
            Some("link/hand-written") => {
                let mut out = Vec::new();
                baseline::link::parse_link_header(black_box(LINK), &mut out);
                out.len()
            }
            Some("link/push-http") => {
                let mut out = Vec::new();
                with_push_http(black_box(LINK), &mut out);
                out.len()
            }
            Some("prefer/hand-written") => {
                usize::from(baseline::prefer::prefer_wait(black_box(&[PREFER])).is_some())
            }
            Some("prefer/push-http") => {
                usize::from(wait_with_push_http(black_box(&[PREFER])).is_some())
            }
            other => panic!("unknown mode {other:?}"),
        };
    }
    println!("{checksum}");
}

criterion_group!(benches, bench);
push_benches::criterion_main_with_drive!(benches, drive);
