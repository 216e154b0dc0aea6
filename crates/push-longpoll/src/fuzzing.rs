//! The fuzz targets' bodies (`__fuzz` feature): the request parser on raw parts, and its header
//! paths through an `http::Request`, with arbitrary header values. Not part of the API.

use core::time::Duration;

use http::{HeaderValue, Request};
use push_core::Selector;
use push_http::query::Query;

use crate::PollRequest;
use crate::server::Config;

/// Parses arbitrary bytes as a request: the query, the `Prefer` value and the `If-None-Match`
/// value, separated by `\n`. Never panics; checks a few invariants.
pub fn longpoll_request(data: &[u8]) {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let query = parts.next().unwrap_or_default();
    let prefer = parts.next().unwrap_or_default();
    let inm = parts.next().unwrap_or_default();
    let query = Query::new(query);
    let Ok(selector) = topics(&query) else {
        return;
    };
    let Ok(request) = PollRequest::parse(selector, &query, &[prefer], &[inm]) else {
        return;
    };
    assert!(!request.selector().topics().is_empty());
    let config = Config::default();
    let wait = config.effective_wait(request.wait());
    assert!(wait <= config.wait_cap());
    if let Some(since) = request.since() {
        let text = since.to_string();
        assert_eq!(text.parse::<push_core::Cursor>(), Ok(since));
    }
}

/// The topics of a query, by the rule the server's default hooks follow.
fn topics(query: &Query<'_>) -> Result<Selector, push_core::Error> {
    query.selector()
}

/// Input: two bytes of configuration (the wait cap and the default wait, in seconds), then
/// lines: the first is the query, each later one a header, `P` + value for `Prefer`, `I` +
/// value for `If-None-Match`, anything else an unrelated header. Values that are not valid
/// header values are skipped, as an HTTP library would refuse them first.
///
/// Invariants: nothing panics; a parsed wait is within the configured cap (and its rounded
/// `Preference-Applied` seconds too); `Prefer` never turns a request into an error nor changes
/// what it selects (RFC 7240: a preference the server cannot parse is ignored); a parsed
/// `since` round-trips through its text; a request whose wait was preferred has a `Prefer`.
pub fn longpoll_headers(data: &[u8]) {
    let [cap, default, rest @ ..] = data else {
        return;
    };
    let config = Config::default()
        .with_wait_cap(Duration::from_secs(u64::from(*cap)))
        .with_default_wait(Duration::from_secs(u64::from(*default)));
    let mut lines = rest.split(|&b| b == b'\n');
    let query = lines.next().unwrap_or_default();
    let mut request = Request::builder();
    let (mut prefer, mut inm) = (Vec::new(), Vec::new());
    for line in lines.take(64) {
        let Some((&kind, value)) = line.split_first() else {
            continue;
        };
        let Ok(value) = HeaderValue::from_bytes(value) else {
            continue;
        };
        let name = match kind {
            b'P' => "prefer",
            b'I' => "if-none-match",
            _ => "x-other",
        };
        match kind {
            b'P' => prefer.push(value.clone()),
            b'I' => inm.push(value.clone()),
            _ => {}
        }
        request = request.header(name, value);
    }
    let uri = [&b"/poll?"[..], query].concat();
    // A query that is no valid URI still goes through the parser, with the same headers. The
    // URI keeps the query up to a `#` (the fragment is no part of it): compare with that.
    let (parsed, query) = match request.uri(uri.as_slice()).body(()) {
        Ok(request) => {
            let (head, ()) = request.into_parts();
            let split = Query::of(&head.uri);
            let parsed = topics(&split)
                .map_err(|_| crate::server::Error::InvalidQuery)
                .and_then(|selector| PollRequest::from_parts(selector, &head, &split));
            let query = head.uri.query().unwrap_or_default().as_bytes().to_vec();
            let direct = parse_direct(&query, &prefer, &inm);
            assert_eq!(
                outcome(&parsed),
                outcome(&direct),
                "the http mapping adds nothing"
            );
            (parsed, query)
        }
        Err(_) => (parse_direct(query, &prefer, &inm), query.to_vec()),
    };
    let without_prefer = parse_direct(&query, &[], &inm);
    match (&parsed, &without_prefer) {
        (Ok(with), Ok(without)) => {
            assert_eq!(with.selector(), without.selector());
            assert_eq!(with.since(), without.since());
        }
        (Err(_), Err(_)) => {}
        _ => panic!("Prefer changed the outcome: {parsed:?} vs {without_prefer:?}"),
    }
    let Ok(request) = parsed else {
        return;
    };
    let hold = config.effective_wait(request.wait());
    assert!(hold <= config.wait_cap());
    // The answer says what was applied, within the cap, exactly when Prefer asked.
    let mut exchange = crate::Exchange::new(request.clone(), &config, origin(), 0);
    exchange.handle_idle(push_core::Cursor::new(0, 0));
    exchange.handle_timeout(exchange.deadline());
    let reply = exchange.poll_reply().expect("answered at the deadline");
    assert_eq!(reply.wait_applied().is_some(), request.wait_preferred());
    assert!(
        reply.wait_applied().unwrap_or(0) <= u64::from(*cap),
        "Preference-Applied beyond the cap"
    );
    assert!(!request.wait_preferred() || !prefer.is_empty());
    if let Some(since) = request.since() {
        assert_eq!(since.to_string().parse::<push_core::Cursor>(), Ok(since));
    }
}

/// A result compared by value: the request, or the error's text.
fn outcome(result: &Result<PollRequest, crate::server::Error>) -> Result<&PollRequest, String> {
    result.as_ref().map_err(ToString::to_string)
}

fn parse_direct(
    query: &[u8],
    prefer: &[HeaderValue],
    inm: &[HeaderValue],
) -> Result<PollRequest, crate::server::Error> {
    let prefer: Vec<&[u8]> = prefer.iter().map(HeaderValue::as_bytes).collect();
    let inm: Vec<&[u8]> = inm.iter().map(HeaderValue::as_bytes).collect();
    let query = Query::new(query);
    let selector = topics(&query).map_err(|_| crate::server::Error::InvalidQuery)?;
    PollRequest::parse(selector, &query, &prefer, &inm)
}

/// A starting instant for the exchange (the core never reads a clock; the harness does).
#[allow(clippy::disallowed_methods)]
fn origin() -> std::time::Instant {
    std::time::Instant::now()
}
