//! Mercure 1.0's `QUERY` subscribe (mercure.md §2): the safe HTTP method with a body
//! (draft-ietf-httpbis-safe-method-w-body), whose form-urlencoded body carries the subscribe
//! parameters, so long selector lists and tokens' topics stay out of URLs (and out of proxies'
//! logs). The URL's query and the body's parameters are one list: the query's first, then the
//! body's, read by the same parser and under the same limits as a `GET`'s.
//!
//! The body is read whole, up to [`MercureConfig::max_body`](super::MercureConfig::max_body)
//! (the publish limit: 413 beyond it, before a byte is read when `Content-Length` says so),
//! and dropped once the subscription is open: a `QUERY` subscriber then costs what a `GET`
//! one does. A body of another media type is a 415 naming the one accepted (`Accept-Query`).

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};
use push_sse::server::Body;

use super::service::read_body;
use super::text_answer;

/// The method's name; `http` has no constant for it.
pub(super) const QUERY: &str = "QUERY";

/// The only body media type a `QUERY` subscribe takes.
pub(super) const FORM: &str = "application/x-www-form-urlencoded";

/// `Accept-Query` (draft-ietf-httpbis-safe-method-w-body §3): the media types a `QUERY` takes.
pub(super) const ACCEPT_QUERY: HeaderName = HeaderName::from_static("accept-query");

/// Whether `method` is `QUERY` (method names are case-sensitive, RFC 9110 §9.1).
pub(super) fn is_query(method: &Method) -> bool {
    method.as_str() == QUERY
}

/// The subscribe parameters of a `QUERY` request: the URL's query and the body's form joined
/// with `&`, or the refusal (415 for another media type, 413 past `max` bytes, 400 for a body
/// that failed).
pub(super) async fn query_params<ReqBody, S>(
    parts: &Parts,
    body: ReqBody,
    max: usize,
) -> Result<Vec<u8>, Response<Body<S>>>
where
    ReqBody: http_body::Body,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if !is_form(parts.headers.get(CONTENT_TYPE)) {
        let mut refused = text_answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format_args!("a QUERY subscribe's body is {FORM}"),
        );
        refused
            .headers_mut()
            .insert(ACCEPT_QUERY, HeaderValue::from_static(FORM));
        return Err(refused);
    }
    let body: Bytes = read_body(parts, body, max).await?;
    Ok(join(parts.uri.query().unwrap_or("").as_bytes(), &body))
}

/// Whether a `Content-Type` is the form's (its parameters, such as `charset`, aside). A
/// missing one is taken as the form (an empty body is a `QUERY` of the URL's parameters).
fn is_form(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type else {
        return true;
    };
    let essence = value.as_bytes().split(|&b| b == b';').next().unwrap_or(b"");
    essence.trim_ascii().eq_ignore_ascii_case(FORM.as_bytes())
}

/// `query` and `body` as one form: `query&body`, either side left out when empty.
fn join(query: &[u8], body: &[u8]) -> Vec<u8> {
    let mut params = Vec::with_capacity(query.len().saturating_add(body.len()).saturating_add(1));
    params.extend_from_slice(query);
    if !query.is_empty() && !body.is_empty() {
        params.push(b'&');
    }
    params.extend_from_slice(body);
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_recognized_with_parameters_and_in_any_case() {
        let form = |v: &'static str| is_form(Some(&HeaderValue::from_static(v)));
        assert!(is_form(None));
        assert!(form(FORM));
        assert!(form("Application/X-WWW-Form-Urlencoded; charset=UTF-8"));
        assert!(!form("application/json"));
        assert!(!form("multipart/form-data; boundary=x"));
        assert!(!form("application/x-www-form-urlencodedx"));
    }

    #[test]
    fn query_and_body_join_into_one_form() {
        assert_eq!(join(b"", b""), b"");
        assert_eq!(join(b"topic=a", b""), b"topic=a");
        assert_eq!(join(b"", b"match=b"), b"match=b");
        assert_eq!(join(b"topic=a", b"match=b"), b"topic=a&match=b");
    }
}
