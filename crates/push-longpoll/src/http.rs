//! The `http` feature: requests from `http::Request`, replies as `http::Response`.

use bytes::Bytes;
use http::header::{self, GetAll, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};

use crate::json::quoted;
use crate::{CURSOR_HEADER, Error, JSON_CONTENT_TYPE, PollRequest, Reply, TEXT_CONTENT_TYPE};

static PREFER: HeaderName = HeaderName::from_static("prefer");
static PUSH_CURSOR: HeaderName = HeaderName::from_static(CURSOR_HEADER);

/// Parses a long-poll request from an `http::Request` (its query, `Prefer` and `If-None-Match`
/// headers; the method, path and body are the caller's business).
pub fn parse_http<T>(request: &Request<T>) -> Result<PollRequest, Error> {
    let query = request.uri().query().unwrap_or_default();
    let headers = request.headers();
    let prefer = Values::of(headers.get_all(&PREFER));
    let if_none_match = Values::of(headers.get_all(header::IF_NONE_MATCH));
    PollRequest::parse(
        query.as_bytes(),
        prefer.as_slice(),
        if_none_match.as_slice(),
    )
}

/// A header's values as byte slices, without allocating for the usual zero or one.
enum Values<'a> {
    Few([&'a [u8]; 1], usize),
    Many(Vec<&'a [u8]>),
}

impl<'a> Values<'a> {
    fn of(all: GetAll<'a, HeaderValue>) -> Self {
        let mut iter = all.iter();
        let Some(first) = iter.next() else {
            return Self::Few([&[]], 0);
        };
        let Some(second) = iter.next() else {
            return Self::Few([first.as_bytes()], 1);
        };
        let mut many = vec![first.as_bytes(), second.as_bytes()];
        many.extend(iter.map(HeaderValue::as_bytes));
        Self::Many(many)
    }

    fn as_slice(&self) -> &[&'a [u8]] {
        match self {
            Self::Few(one, n) => &one[..*n],
            Self::Many(many) => many,
        }
    }
}

impl Reply {
    /// The reply as an `http::Response` (status, headers and body; see [`Reply::headers`]).
    pub fn into_http(self) -> Response<Bytes> {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let next = self.next();
        let content_type = match &self {
            Self::Events { .. } => Some(JSON_CONTENT_TYPE),
            Self::Error(_) => Some(TEXT_CONTENT_TYPE),
            Self::Timeout { .. } | Self::NotModified { .. } => None,
        };
        let mut response = Response::new(self.into_body());
        *response.status_mut() = status;
        // The same headers, in the same order, as `Reply::headers`, without the strings.
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
        map.append(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// With the `axum` feature, a [`Reply`] is an axum response as it is.
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for Reply {
    fn into_response(self) -> axum::response::Response {
        self.into_http().map(axum::body::Body::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use push_core::Cursor;

    #[test]
    fn maps_both_ways() {
        let req = Request::get("/poll?topic=a&since=1-2")
            .header("prefer", "wait=3")
            .header("if-none-match", "\"1-2\"")
            .body(())
            .unwrap();
        let r = parse_http(&req).unwrap();
        assert_eq!(r.since(), Some(Cursor::new(1, 2)));
        assert_eq!(r.wait(), Some(core::time::Duration::from_secs(3)));
        assert!(r.etag_matches(Cursor::new(1, 2)));
        let resp = Reply::Timeout {
            next: Cursor::new(1, 2),
        }
        .into_http();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(resp.headers()["push-cursor"], "1-2");
        assert_eq!(resp.headers()["etag"], "\"1-2\"");
        let resp = Reply::Error(Error::InvalidWait).into_http();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn into_http_has_the_headers_of_reply_headers() {
        let c = Cursor::new(0x5eed, 0x2a);
        let replies = [
            Reply::Events {
                body: Bytes::from_static(b"{}"),
                next: c,
                count: 0,
                gap: true,
            },
            Reply::Timeout { next: c },
            Reply::NotModified { next: c },
            Reply::Error(Error::InvalidWait),
        ];
        for reply in replies {
            let expected = reply.headers();
            let body = reply.body();
            let resp = reply.into_http();
            let got: Vec<(&str, String)> = resp
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str(), v.to_str().unwrap().to_owned()))
                .collect();
            let expected: Vec<(&str, String)> = expected.into_iter().collect();
            assert_eq!(got, expected);
            assert_eq!(resp.body(), &body);
        }
    }

    #[test]
    fn several_header_values() {
        let req = Request::get("/poll?topic=a")
            .header("prefer", "respond-async")
            .header("prefer", "wait=4")
            .header("if-none-match", "\"1-2\"")
            .header("if-none-match", "\"1-3\"")
            .header("if-none-match", "\"1-4\"")
            .body(())
            .unwrap();
        let r = parse_http(&req).unwrap();
        assert_eq!(r.wait(), Some(core::time::Duration::from_secs(4)));
        assert!(r.etag_matches(Cursor::new(1, 4)));
        assert_eq!(r.since(), None);
    }
}
