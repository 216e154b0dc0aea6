//! What the server answers: events, a timeout, "not modified" or an error — with its status
//! code, headers and body, independent of any HTTP library.

use bytes::Bytes;
use push_core::Cursor;

use crate::Error;

/// The header carrying the cursor to continue from, on every answer that has one (200, 204,
/// 304). On 200 it equals the body's `next`.
pub const CURSOR_HEADER: &str = "push-cursor";

/// The content type of the event batches.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// The content type of error messages.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// The answer to one long poll.
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
    },
    /// `204 No Content`: the hold ended with nothing new; ask again from `next`.
    Timeout {
        /// The cursor to ask with next (also in the `Push-Cursor` header).
        next: Cursor,
    },
    /// `304 Not Modified`: nothing new, and the client's `If-None-Match` already names `next`.
    NotModified {
        /// The cursor to ask with next.
        next: Cursor,
    },
    /// `400` or `503`: the request was refused; the body is the error's message.
    Error(Error),
}

impl Reply {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::Events { .. } => 200,
            Self::Timeout { .. } => 204,
            Self::NotModified { .. } => 304,
            Self::Error(e) => e.status(),
        }
    }

    /// The cursor to continue from, if the answer has one.
    pub fn next(&self) -> Option<Cursor> {
        match self {
            Self::Events { next, .. } | Self::Timeout { next } | Self::NotModified { next } => {
                Some(*next)
            }
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

    /// The body, moved out (no reference count, no copy).
    #[cfg(feature = "http")]
    pub(crate) fn into_body(self) -> Bytes {
        match self {
            Self::Events { body, .. } => body,
            other => other.body(),
        }
    }

    /// The response headers, lowercase names: `content-type` (200 and errors), `push-cursor`
    /// and `etag` (`"CURSOR"`, for short polling with `If-None-Match`) when there is a cursor,
    /// and `cache-control: no-store` always (no cache or proxy may answer a poll).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::with_capacity(4);
        match self {
            Self::Events { .. } => headers.push(("content-type", JSON_CONTENT_TYPE.to_owned())),
            Self::Error(_) => headers.push(("content-type", TEXT_CONTENT_TYPE.to_owned())),
            Self::Timeout { .. } | Self::NotModified { .. } => {}
        }
        if let Some(next) = self.next() {
            headers.push((CURSOR_HEADER, next.to_string()));
            headers.push(("etag", format!("\"{next}\"")));
        }
        headers.push(("cache-control", "no-store".to_owned()));
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_headers_and_bodies() {
        let c = Cursor::new(1, 2);
        let r = Reply::Timeout { next: c };
        assert_eq!(r.status(), 204);
        assert!(r.body().is_empty());
        let h = r.headers();
        assert!(h.contains(&("push-cursor", "1-2".to_owned())));
        assert!(h.contains(&("etag", "\"1-2\"".to_owned())));
        assert_eq!(Reply::NotModified { next: c }.status(), 304);
        let e = Reply::Error(Error::InvalidWait);
        assert_eq!(e.status(), 400);
        assert_eq!(e.next(), None);
        assert!(
            e.headers()
                .contains(&("content-type", TEXT_CONTENT_TYPE.to_owned()))
        );
        assert_eq!(e.body(), Error::InvalidWait.to_string());
    }
}
