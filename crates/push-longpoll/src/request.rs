//! Request parsing: the query string (`topic`, `since`, `wait`), `Prefer: wait=N` (RFC 7240) and
//! `If-None-Match`.
//!
//! The topics are not read here: the server's hooks read them (`push_http::Hooks::topics`).
//!
//! ```text
//! query         = param *( "&" param )            ; application/x-www-form-urlencoded
//! param         = name [ "=" value ]              ; since, wait; others (topic…) skipped
//! wait          = 1*DIGIT                         ; seconds; above the cap is capped, not refused
//! Prefer        = 1#preference                    ; RFC 7240 §2
//! preference    = token [ BWS "=" BWS word ] *( OWS ";" [ OWS parameter ] )
//! word          = token / quoted-string           ; the first "wait" preference counts
//! If-None-Match = "*" / #entity-tag               ; RFC 9110 §13.1.2
//! entity-tag    = [ "W/" ] DQUOTE *etagc DQUOTE   ; our tags are "CURSOR"
//! ```

use core::time::Duration;
use std::borrow::Cow;

use http::HeaderName;
use push_core::{Cursor, Resume, Selector};
use push_http::query::Query;

use crate::headers::{HeaderValues, parse_if_none_match, prefer_wait};
use crate::server::Error;

static PREFER: HeaderName = HeaderName::from_static("prefer");

/// The most entity tags of `If-None-Match` that are remembered (the rest are ignored).
pub(crate) const MAX_ETAGS: usize = 8;

/// A parsed long-poll request: what to watch, from where, and how long the client will wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollRequest {
    selector: Selector,
    /// Where to resume: `since` as the client wrote it (a cursor, or an id until the server
    /// places it: [`resume`](Self::resume)).
    since: Option<Resume>,
    wait: Option<Duration>,
    /// The wait came from `Prefer: wait` (so the answer says `Preference-Applied`).
    wait_preferred: bool,
    etags: Vec<Cursor>,
    any_etag: bool,
}

impl PollRequest {
    /// A request for `selector`, from now, with the server's default wait.
    pub fn new(selector: Selector) -> Self {
        Self {
            selector,
            since: None,
            wait: None,
            wait_preferred: false,
            etags: Vec::new(),
            any_etag: false,
        }
    }

    /// Resumes after `since`.
    #[must_use]
    pub fn with_since(mut self, since: Cursor) -> Self {
        self.since = Some(Resume::Cursor(since));
        self
    }

    /// Asks for a hold of `wait` (zero: short polling).
    #[must_use]
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = Some(wait);
        self.wait_preferred = false;
        self
    }

    /// Answers 304 instead of 204 when nothing changed since `etag` (as `If-None-Match` does).
    #[must_use]
    pub fn with_if_none_match(mut self, etag: Cursor) -> Self {
        self.etags.push(etag);
        self
    }

    /// Parses the poll's parameters for `selector` (the topics, read by the caller: the
    /// server's [`Hooks::topics`](push_http::Hooks::topics), from the same split query) from
    /// the query (`topic`, unknown parameters and names that do not decode are skipped), the
    /// `Prefer` header values and the `If-None-Match` header values.
    ///
    /// When `since` is absent and `If-None-Match` holds exactly one tag that is a cursor, that
    /// cursor is the `since` (so a plain HTTP cache-validating client can short-poll). An empty
    /// `since=` means "from now". The `wait` query parameter wins over `Prefer: wait`.
    pub fn parse(
        selector: Selector,
        query: &Query<'_>,
        prefer: &[&[u8]],
        if_none_match: &[&[u8]],
    ) -> Result<Self, Error> {
        let mut since = None;
        let mut wait = None;
        for pair in query.iter() {
            match pair.name.as_deref() {
                Some("since") => {
                    if since.is_some() {
                        return Err(Error::DuplicateParameter("since"));
                    }
                    let text = percent_decode(pair.value)?;
                    since = Some(if text.is_empty() {
                        None
                    } else {
                        Some(Resume::parse(&text))
                    });
                }
                Some("wait") => {
                    if wait.is_some() {
                        return Err(Error::DuplicateParameter("wait"));
                    }
                    let text = decode(pair.value)?;
                    wait = Some(parse_seconds(&text).ok_or(Error::InvalidWait)?);
                }
                _ => {}
            }
        }
        let mut request = Self::new(selector);
        request.wait = match wait {
            Some(w) => Some(w),
            None => {
                let preferred = prefer_wait(prefer);
                request.wait_preferred = preferred.is_some();
                preferred
            }
        };
        for value in if_none_match {
            parse_if_none_match(value, &mut request.etags, &mut request.any_etag);
        }
        request.since = match since {
            Some(s) => s,
            None if request.etags.len() == 1 && !request.any_etag => {
                request.etags.first().copied().map(Resume::Cursor)
            }
            None => None,
        };
        Ok(request)
    }

    /// [`parse`](Self::parse) on an HTTP request's head: `query` (the query of `parts.uri`,
    /// split once for the hooks and this parse: [`Query::of`]), the `Prefer` and
    /// `If-None-Match` headers (the method, path and body are the caller's business).
    pub fn from_parts(
        selector: Selector,
        parts: &http::request::Parts,
        query: &Query<'_>,
    ) -> Result<Self, Error> {
        let prefer = HeaderValues::of(parts.headers.get_all(&PREFER));
        let if_none_match = HeaderValues::of(parts.headers.get_all(http::header::IF_NONE_MATCH));
        Self::parse(selector, query, prefer.as_slice(), if_none_match.as_slice())
    }

    /// The topics to watch.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// The cursor to resume after (`None`: from now, or an id not placed yet).
    pub fn since(&self) -> Option<Cursor> {
        match self.since {
            Some(Resume::Cursor(cursor)) => Some(cursor),
            _ => None,
        }
    }

    /// Where the client asked to resume, as it wrote it: `since`'s cursor, or its text when
    /// that is not a cursor (an id, such as the Mercure update id a client saw over SSE).
    /// The server turns it into the cursor it subscribes from with
    /// [`Broker::place`](push_core::Broker::place), then [`with_since`](Self::with_since).
    pub fn resume(&self) -> Option<Resume> {
        self.since.clone()
    }

    /// The hold the client asked for, uncapped (`None`: it asked for none).
    pub fn wait(&self) -> Option<Duration> {
        self.wait
    }

    /// Whether the hold was asked for with `Prefer: wait` (RFC 7240) rather than the `wait`
    /// query parameter: the answer then carries `Preference-Applied: wait=N`.
    pub fn wait_preferred(&self) -> bool {
        self.wait_preferred
    }

    /// Whether `If-None-Match` matches the entity tag of `cursor`.
    pub fn etag_matches(&self, cursor: Cursor) -> bool {
        self.any_etag || self.etags.contains(&cursor)
    }
}

/// [`percent_decode`] as bytes (valid UTF-8 all the same), without even the UTF-8 check when
/// `input` is plain ASCII: names, cursors and numbers usually are.
fn decode(input: &[u8]) -> Result<Cow<'_, [u8]>, Error> {
    if input
        .iter()
        .all(|&b| b.is_ascii() && b != b'%' && b != b'+')
    {
        return Ok(Cow::Borrowed(input));
    }
    Ok(match percent_decode(input)? {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    })
}

/// Decodes `application/x-www-form-urlencoded` text strictly (`push_http::query::form_decode`): an
/// escape that is not `%` and two hex digits, or bytes that are not UTF-8, are
/// [`Error::InvalidQuery`], never decoded lossily or taken literally.
pub(crate) fn percent_decode(input: &[u8]) -> Result<Cow<'_, str>, Error> {
    push_http::query::form_decode(input).ok_or(Error::InvalidQuery)
}

/// `1*DIGIT` seconds; a value too large for a `u64` saturates (it is capped later anyway).
pub(crate) fn parse_seconds(text: &[u8]) -> Option<Duration> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs = text.iter().fold(0u64, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str, prefer: &[&str], inm: &[&str]) -> Result<PollRequest, Error> {
        let prefer: Vec<&[u8]> = prefer.iter().map(|s| s.as_bytes()).collect();
        let inm: Vec<&[u8]> = inm.iter().map(|s| s.as_bytes()).collect();
        let selector = Selector::one(push_core::Topic::new("a").unwrap());
        PollRequest::parse(selector, &Query::new(q.as_bytes()), &prefer, &inm)
    }

    #[test]
    fn query_parameters() {
        let r = parse("topic=x%2Fb&since=5eed-2a&wait=10&x=y", &[], &[]).unwrap();
        assert_eq!(
            r.selector().topics()[0].as_str(),
            "a",
            "topics are the caller's"
        );
        assert_eq!(r.since(), Some(Cursor::new(0x5eed, 42)));
        assert_eq!(r.wait(), Some(Duration::from_secs(10)));
        let r = parse("since=", &[], &[]).unwrap();
        assert_eq!(r.since(), None);
        assert_eq!(r.wait(), None);
        let r = parse("wait=99999999999999999999999", &[], &[]).unwrap();
        assert_eq!(r.wait(), Some(Duration::from_secs(u64::MAX)));
        // Names are decoded before they are matched.
        let r = parse("%73ince=1-2&w%61it=3", &[], &[]).unwrap();
        assert_eq!(r.since(), Some(Cursor::new(1, 2)));
        assert_eq!(r.wait(), Some(Duration::from_secs(3)));
        // A name that does not decode is no parameter of ours (push-http's one rule).
        let r = parse("s%ffince=%zz&since=1-3", &[], &[]).unwrap();
        assert_eq!(r.since(), Some(Cursor::new(1, 3)));
    }

    #[test]
    fn a_since_that_is_no_cursor_is_an_id_for_the_broker_to_place() {
        for text in ["01-2", "urn%3Auuid%3A1", "book-2"] {
            let r = parse(&format!("since={text}"), &[], &[]).unwrap();
            assert_eq!(r.since(), None, "{text}");
            let id = percent_decode(text.as_bytes()).unwrap();
            assert_eq!(r.resume(), Some(Resume::Id(id.as_ref().into())), "{text}");
            // Placed by the server: a cursor from then on.
            let placed = r.with_since(Cursor::new(1, 2));
            assert_eq!(placed.resume(), Some(Resume::Cursor(Cursor::new(1, 2))));
        }
        assert_eq!(parse("since=", &[], &[]).unwrap().resume(), None);
    }

    #[test]
    fn malformed_parts_say_which() {
        assert!(matches!(
            parse("wait=-1", &[], &[]),
            Err(Error::InvalidWait)
        ));
        assert!(matches!(parse("wait=", &[], &[]), Err(Error::InvalidWait)));
        assert!(matches!(
            parse("wait=1&wait=2", &[], &[]),
            Err(Error::DuplicateParameter("wait"))
        ));
        assert!(matches!(
            parse("since=1-1&since=1-2", &[], &[]),
            Err(Error::DuplicateParameter("since"))
        ));
        assert!(matches!(
            parse("since=%zz", &[], &[]),
            Err(Error::InvalidQuery)
        ));
        assert!(matches!(
            parse("wait=%ff", &[], &[]),
            Err(Error::InvalidQuery)
        ));
    }

    #[test]
    fn prefer_wait_per_rfc_7240() {
        let w = |p: &[&str]| parse("", p, &[]).map(|r| r.wait());
        assert_eq!(w(&["wait=5"]).unwrap(), Some(Duration::from_secs(5)));
        assert_eq!(
            w(&["respond-async, WAIT = \"7\"; x=1"]).unwrap(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            w(&["handling=lenient;a=\"x,wait=1\"", "wait=3, wait=4"]).unwrap(),
            Some(Duration::from_secs(3))
        );
        assert_eq!(w(&["return=minimal"]).unwrap(), None);
        // RFC 7240 §2: a preference the server cannot parse is ignored, not refused; only the
        // first `wait` counts, so a later one does not stand in for it.
        assert_eq!(w(&["wait=soon"]).unwrap(), None);
        assert_eq!(w(&["wait"]).unwrap(), None);
        assert_eq!(w(&["wait=-1, wait=5"]).unwrap(), None);
        assert!(!parse("", &["wait=1.5"], &[]).unwrap().wait_preferred());
        // The query parameter wins, and a bad Prefer is not even looked at then.
        let r = parse("wait=0", &["wait=soon"], &[]).unwrap();
        assert_eq!(r.wait(), Some(Duration::ZERO));
    }

    #[test]
    fn if_none_match_tags() {
        let r = parse("", &[], &["W/\"1-2\", \"x,y\" , \"1-3\""]).unwrap();
        assert!(r.etag_matches(Cursor::new(1, 2)));
        assert!(r.etag_matches(Cursor::new(1, 3)));
        assert!(!r.etag_matches(Cursor::new(1, 4)));
        assert_eq!(r.since(), None, "two tags: no implied since");
        let r = parse("", &[], &["\"1-2\""]).unwrap();
        assert_eq!(r.since(), Some(Cursor::new(1, 2)), "one tag implies since");
        let r = parse("since=1-1", &[], &["*"]).unwrap();
        assert!(r.etag_matches(Cursor::new(9, 9)));
        assert_eq!(r.since(), Some(Cursor::new(1, 1)));
        let r = parse("", &[], &["garbage \"1-2\""]).unwrap();
        assert!(!r.etag_matches(Cursor::new(1, 2)));
        let r = parse("", &[], &["\"1-2"]).unwrap();
        assert!(!r.etag_matches(Cursor::new(1, 2)));
    }

    #[test]
    fn from_an_http_head_with_several_header_values() {
        let (parts, ()) = http::Request::get("/poll?topic=b&since=1-2")
            .header("prefer", "respond-async")
            .header("prefer", "wait=4")
            .header("if-none-match", "\"1-3\"")
            .header("if-none-match", "\"1-4\"")
            .body(())
            .unwrap()
            .into_parts();
        let selector = Selector::one(push_core::Topic::new("a").unwrap());
        let r = PollRequest::from_parts(selector, &parts, &Query::of(&parts.uri)).unwrap();
        assert_eq!(r.wait(), Some(Duration::from_secs(4)));
        assert!(r.wait_preferred());
        assert!(r.etag_matches(Cursor::new(1, 4)));
        assert_eq!(r.since(), Some(Cursor::new(1, 2)));
    }
}
