//! The subscribe response head (mercure.md §2) and the response cursor header (§3).

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, PRAGMA};
use http::response::Parts;
use http::{Response, StatusCode};
use push_http::head::{EVENT_STREAM, X_ACCEL_BUFFERING};

use super::Revision;

/// `Last-Event-ID`: the response cursor header of 0.x (sent to 1.0 requests too).
pub const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// `Mercure-Last-Event-ID`: the response cursor header of 1.0.
pub const MERCURE_LAST_EVENT_ID: HeaderName = HeaderName::from_static("mercure-last-event-id");

/// `Expire` (sic): the reference hub's spelling, kept for clients that compare heads.
const EXPIRE: HeaderName = HeaderName::from_static("expire");

/// The head of a subscribe response, as the reference hub writes it (`sendHeaders`):
/// `200`, `Content-Type: text/event-stream`, `Cache-Control: private, no-cache, no-store,
/// must-revalidate, max-age=0`, `Pragma: no-cache`, `Expire: 0`, `X-Accel-Buffering: no`, and
/// the response cursor header when the request carried a cursor (`answer`): `Last-Event-ID`,
/// and for a 1.0 request `Mercure-Last-Event-ID` beside it (sent even when empty).
///
/// No `Connection: keep-alive`: a connection-specific header is forbidden in HTTP/2 (h2 resets
/// a stream that sends one), the head is shared by every protocol, and HTTP/1.1 keeps the
/// connection alive without it.
///
/// An answer that is not a valid header value (an id with a control character, which 0.x
/// allows) is left out: the client then treats the resume as unconfirmed, never as confirmed.
pub fn stream_head(revision: Revision, answer: Option<&str>) -> Parts {
    let (mut parts, ()) = Response::new(()).into_parts();
    parts.status = StatusCode::OK;
    let headers = &mut parts.headers;
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(EVENT_STREAM));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache, no-store, must-revalidate, max-age=0"),
    );
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(EXPIRE, HeaderValue::from_static("0"));
    headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    if let Some(value) = answer.and_then(|a| HeaderValue::from_str(a).ok()) {
        if revision == Revision::V1 {
            headers.insert(MERCURE_LAST_EVENT_ID, value.clone());
        }
        headers.insert(LAST_EVENT_ID, value);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_is_the_reference_hubs() {
        let parts = stream_head(Revision::V0, None);
        assert_eq!(parts.status, StatusCode::OK);
        let h = &parts.headers;
        assert_eq!(h[CONTENT_TYPE], "text/event-stream");
        assert_eq!(
            h[CACHE_CONTROL],
            "private, no-cache, no-store, must-revalidate, max-age=0"
        );
        assert_eq!(h[PRAGMA], "no-cache");
        assert_eq!(h["expire"], "0");
        assert_eq!(h["x-accel-buffering"], "no");
        assert!(h.get("connection").is_none());
        assert!(h.get(LAST_EVENT_ID).is_none() && h.get(MERCURE_LAST_EVENT_ID).is_none());
    }

    #[test]
    fn the_cursor_header_follows_the_revision() {
        let v0 = stream_head(Revision::V0, Some("urn:uuid:1")).headers;
        assert_eq!(v0[LAST_EVENT_ID], "urn:uuid:1");
        assert!(v0.get(MERCURE_LAST_EVENT_ID).is_none());
        let v1 = stream_head(Revision::V1, Some("earliest")).headers;
        assert_eq!(v1[MERCURE_LAST_EVENT_ID], "earliest");
        assert_eq!(v1[LAST_EVENT_ID], "earliest");
        let empty = stream_head(Revision::V1, Some("")).headers;
        assert_eq!(empty[MERCURE_LAST_EVENT_ID], "");
        let bad = stream_head(Revision::V0, Some("a\u{1}b")).headers;
        assert!(bad.get(LAST_EVENT_ID).is_none());
    }
}
