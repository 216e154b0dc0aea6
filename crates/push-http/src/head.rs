//! Response heads every transport writes the same way: the `text/event-stream` head and plain
//! text answers.

use core::fmt;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};

/// `text/event-stream`, the media type of an SSE body.
pub const EVENT_STREAM: &str = "text/event-stream";

/// `text/plain; charset=utf-8`, the media type of [`text_response`]'s body.
pub const TEXT_PLAIN_UTF8: &str = "text/plain; charset=utf-8";

/// `x-accel-buffering`: nginx (and proxies that copy it) pass the body on as it arrives when
/// it is `no`, instead of holding events back in a buffer.
pub const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

/// Sets the headers of an event stream in `headers`, replacing any earlier value of each:
///
/// - `content-type: text/event-stream`;
/// - `cache-control: no-cache` (an event stream is never served from a cache);
/// - `x-accel-buffering: no` (proxies pass each event on at once).
///
/// No connection-specific header (`connection`, `keep-alive`) is set: they are forbidden in
/// HTTP/2 and HTTP/3, and the same head serves all versions.
pub fn set_event_stream_headers(headers: &mut HeaderMap) {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(EVENT_STREAM));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
}

/// A `200 OK` event-stream response around `body` with the headers of
/// [`set_event_stream_headers`]. An HTTP/2 driver that sends the head first passes `()`.
///
/// ```
/// use push_http::head::event_stream_response;
///
/// let response = event_stream_response(());
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// assert_eq!(response.headers()["cache-control"], "no-cache");
/// assert_eq!(response.headers()["x-accel-buffering"], "no");
/// ```
pub fn event_stream_response<B>(body: B) -> Response<B> {
    let mut response = Response::new(body);
    set_event_stream_headers(response.headers_mut());
    response
}

/// A plain-text response: `status`, `content-type: text/plain; charset=utf-8`, and `message`
/// followed by a newline as the body (so `curl` prints it on a line of its own).
///
/// ```
/// use http::StatusCode;
/// use push_http::head::text_response;
///
/// let response = text_response(StatusCode::BAD_REQUEST, "the cursor is empty");
/// assert_eq!(response.status(), StatusCode::BAD_REQUEST);
/// assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
/// assert_eq!(response.body(), "the cursor is empty\n");
/// ```
pub fn text_response(status: StatusCode, message: impl fmt::Display) -> Response<String> {
    let mut response = Response::new(format!("{message}\n"));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN_UTF8));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_stream_head_replaces_what_was_there() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        headers.append(CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
        headers.append(CACHE_CONTROL, HeaderValue::from_static("public"));
        set_event_stream_headers(&mut headers);
        assert_eq!(headers.get_all(CONTENT_TYPE).iter().count(), 1);
        assert_eq!(headers.get_all(CACHE_CONTROL).iter().count(), 1);
        assert_eq!(headers[CACHE_CONTROL], "no-cache");
        assert_eq!(headers[X_ACCEL_BUFFERING], "no");
        assert_eq!(headers.len(), 3);
    }

    #[test]
    fn a_text_response_carries_any_display() {
        let response = text_response(
            StatusCode::SERVICE_UNAVAILABLE,
            push_core::Error::BrokerClosed,
        );
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.body(), "the broker has shut down\n");
    }
}
