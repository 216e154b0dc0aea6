//! The `http` feature: requests from `http::Request`, replies as `http::Response`.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};

use crate::{Error, PollRequest, Reply};

/// Parses a long-poll request from an `http::Request` (its query, `Prefer` and `If-None-Match`
/// headers; the method, path and body are the caller's business).
pub fn parse_http<T>(request: &Request<T>) -> Result<PollRequest, Error> {
    let query = request.uri().query().unwrap_or_default();
    let headers = request.headers();
    let prefer: Vec<&[u8]> = headers
        .get_all(HeaderName::from_static("prefer"))
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    let if_none_match: Vec<&[u8]> = headers
        .get_all(http::header::IF_NONE_MATCH)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    PollRequest::parse(query.as_bytes(), &prefer, &if_none_match)
}

impl Reply {
    /// The reply as an `http::Response` (status, headers and body; see [`Reply::headers`]).
    pub fn into_http(self) -> Response<Bytes> {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let headers = self.headers();
        let mut response = Response::new(self.body());
        *response.status_mut() = status;
        let map = response.headers_mut();
        for (name, value) in headers {
            // Names are static lowercase tokens; values are cursors and fixed ASCII strings.
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.append(HeaderName::from_static(name), value);
            }
        }
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
}
