//! What the server answers: events, a timeout, "not modified" or an error — with its status,
//! headers and body, as plain values or as an `http::Response`.

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use push_core::Cursor;

use crate::json::quoted;
use crate::server::Error;

/// The header carrying the cursor to continue from, on every answer that has one (200, 204,
/// 304). On 200 it equals the body's `next`.
pub const CURSOR_HEADER: &str = "push-cursor";

/// The content type of the event batches.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// The content type of error messages (push-http's, as every transport sends them).
pub const TEXT_CONTENT_TYPE: &str = push_http::head::TEXT_PLAIN_UTF8;

static PUSH_CURSOR: HeaderName = HeaderName::from_static(CURSOR_HEADER);
static PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");

/// The answer to one long poll.
///
/// `wait_applied` is the hold granted in whole seconds (rounded up) when the client asked for
/// it with `Prefer: wait` (RFC 7240): the answer then says `Preference-Applied: wait=N`. The
/// [`Exchange`](crate::Exchange) sets it, so every way of answering carries it.
#[non_exhaustive]
#[derive(Debug)]
pub enum Reply {
    /// `200 OK`: a batch of events (possibly empty when only a gap is reported), as JSON.
    Events {
        /// The JSON body (see the [crate documentation](crate) for the format).
        body: Bytes,
        /// The cursor to ask with next.
        next: Cursor,
        /// How many events the body holds.
        count: usize,
        /// Whether events between the request's cursor and the first event were lost.
        gap: bool,
        /// The `Prefer: wait` applied, in seconds.
        wait_applied: Option<u64>,
    },
    /// `204 No Content`: the hold ended with nothing new; ask again from `next`.
    Timeout {
        /// The cursor to ask with next (also in the `Push-Cursor` header).
        next: Cursor,
        /// The `Prefer: wait` applied, in seconds.
        wait_applied: Option<u64>,
    },
    /// `304 Not Modified`: nothing new, and the client's `If-None-Match` already names `next`.
    NotModified {
        /// The cursor to ask with next.
        next: Cursor,
        /// The `Prefer: wait` applied, in seconds.
        wait_applied: Option<u64>,
    },
    /// `400` or `503`: the request was refused; the body is the error's message.
    Error(Error),
}

impl Reply {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Events { .. } => StatusCode::OK,
            Self::Timeout { .. } => StatusCode::NO_CONTENT,
            Self::NotModified { .. } => StatusCode::NOT_MODIFIED,
            Self::Error(e) => e.status(),
        }
    }

    /// The cursor to continue from, if the answer has one.
    pub fn next(&self) -> Option<Cursor> {
        match self {
            Self::Events { next, .. }
            | Self::Timeout { next, .. }
            | Self::NotModified { next, .. } => Some(*next),
            Self::Error(_) => None,
        }
    }

    /// The hold granted for a `Prefer: wait`, in whole seconds (`None`: none was asked for that
    /// way, or the answer is an error).
    pub fn wait_applied(&self) -> Option<u64> {
        match self {
            Self::Events { wait_applied, .. }
            | Self::Timeout { wait_applied, .. }
            | Self::NotModified { wait_applied, .. } => *wait_applied,
            Self::Error(_) => None,
        }
    }

    /// The body: the JSON batch, the error message, or nothing.
    pub fn body(&self) -> Bytes {
        match self {
            Self::Events { body, .. } => body.clone(),
            Self::Timeout { .. } | Self::NotModified { .. } => Bytes::new(),
            Self::Error(e) => Bytes::from(e.to_string()),
        }
    }

    fn content_type(&self) -> Option<&'static str> {
        match self {
            Self::Events { .. } => Some(JSON_CONTENT_TYPE),
            Self::Error(_) => Some(TEXT_CONTENT_TYPE),
            Self::Timeout { .. } | Self::NotModified { .. } => None,
        }
    }

    /// The response headers, lowercase names: `content-type` (200 and errors), `push-cursor`
    /// and `etag` (`"CURSOR"`, for short polling with `If-None-Match`) when there is a cursor,
    /// `preference-applied` when a `Prefer: wait` was applied, and `cache-control: no-store`
    /// always (no cache or proxy may answer a poll).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::with_capacity(5);
        if let Some(content_type) = self.content_type() {
            headers.push(("content-type", content_type.to_owned()));
        }
        if let Some(next) = self.next() {
            headers.push((CURSOR_HEADER, next.to_string()));
            headers.push(("etag", format!("\"{next}\"")));
        }
        if let Some(secs) = self.wait_applied() {
            headers.push(("preference-applied", format!("wait={secs}")));
        }
        headers.push(("cache-control", "no-store".to_owned()));
        headers
    }

    /// The reply as an `http::Response`: the same status, headers (in the same order) and body
    /// as [`status`](Self::status), [`headers`](Self::headers) and [`body`](Self::body).
    pub fn into_http(self) -> Response<Bytes> {
        let status = self.status();
        let next = self.next();
        let applied = self.wait_applied();
        let content_type = self.content_type();
        let body = match self {
            Self::Events { body, .. } => body,
            other => other.body(),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let map = response.headers_mut();
        if let Some(content_type) = content_type {
            map.append(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        if let Some(next) = next {
            // One buffer, `"CURSOR"`, shared by both headers (one allocation, no copy).
            let etag = Bytes::from_owner(quoted(next));
            let cursor = etag.slice(1..etag.len() - 1);
            // Cursors are `[0-9a-f-]`: always valid header values.
            if let (Ok(cursor), Ok(etag)) = (
                HeaderValue::from_maybe_shared(cursor),
                HeaderValue::from_maybe_shared(etag),
            ) {
                map.append(PUSH_CURSOR.clone(), cursor);
                map.append(header::ETAG, etag);
            }
        }
        if let Some(secs) = applied
            && let Ok(value) = HeaderValue::try_from(format!("wait={secs}"))
        {
            map.append(PREFERENCE_APPLIED.clone(), value);
        }
        map.append(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_headers_and_bodies() {
        let c = Cursor::new(1, 2);
        let r = Reply::Timeout {
            next: c,
            wait_applied: None,
        };
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert!(r.body().is_empty());
        let h = r.headers();
        assert!(h.contains(&("push-cursor", "1-2".to_owned())));
        assert!(h.contains(&("etag", "\"1-2\"".to_owned())));
        assert!(!h.iter().any(|(n, _)| *n == "preference-applied"));
        let r = Reply::NotModified {
            next: c,
            wait_applied: Some(5),
        };
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert!(
            r.headers()
                .contains(&("preference-applied", "wait=5".to_owned()))
        );
        let e = Reply::Error(Error::InvalidWait);
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.next(), None);
        assert!(
            e.headers()
                .contains(&("content-type", TEXT_CONTENT_TYPE.to_owned()))
        );
        assert_eq!(e.body(), Error::InvalidWait.to_string());
    }

    #[test]
    fn into_http_has_the_status_headers_and_body_of_the_reply() {
        let c = Cursor::new(0x5eed, 0x2a);
        let replies = [
            Reply::Events {
                body: Bytes::from_static(b"{}"),
                next: c,
                count: 0,
                gap: true,
                wait_applied: Some(25),
            },
            Reply::Timeout {
                next: c,
                wait_applied: Some(1),
            },
            Reply::NotModified {
                next: c,
                wait_applied: None,
            },
            Reply::Error(Error::InvalidWait),
        ];
        for reply in replies {
            let (status, expected, body) = (reply.status(), reply.headers(), reply.body());
            let resp = reply.into_http();
            let got: Vec<(&str, String)> = resp
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str(), v.to_str().unwrap().to_owned()))
                .collect();
            assert_eq!(got, expected);
            assert_eq!(resp.status(), status);
            assert_eq!(resp.body(), &body);
        }
    }
}
