//! The questions every server transport asks of a request, in one trait: which topics it asks
//! for, and what it may have (and, for a login that comes after the connection opens, whether
//! its credentials are good at all).

use core::fmt;
use std::borrow::Cow;

use http::header::{HeaderMap, HeaderName, HeaderValue, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{Response, StatusCode};
use push_core::{Access, Selector};

use crate::head::text_response;
use crate::query::Query;
use crate::status::HttpStatus;

/// The request hooks of a server transport.
///
/// A transport's `Endpoint` calls [`topics`](Self::topics) with the request head and its
/// query, split once (the transport reads its own parameters from the same [`Query`]), then
/// [`authorize`](Self::authorize) with the selector it returned, and opens the subscription
/// with the [`Access`] it grants; a [`Refusal`] from either becomes the response. A WebSocket
/// connection calls `authorize` for each subscribe command, with the head of its upgrade
/// request; a STOMP session calls [`authenticate`](Self::authenticate) at `CONNECT`, with
/// the frame's credentials in that head.
///
/// Every method has a default ([`Open`] uses them all): the `topic` query parameters, public
/// access for everyone, and every login accepted.
///
/// ```
/// use http::StatusCode;
/// use http::request::Parts;
/// use push_core::{Access, Selector};
/// use push_http::query::Query;
/// use push_http::{Hooks, Refusal};
///
/// /// Lets in requests that carry the one shared key; private events stay out.
/// #[derive(Clone)]
/// struct SharedKey(&'static str);
///
/// impl Hooks for SharedKey {
///     async fn authorize(&self, request: &Parts, _: &Selector) -> Result<Access, Refusal> {
///         match request.headers.get("x-key") {
///             Some(key) if key == self.0 => Ok(Access::public()),
///             Some(_) => Err(Refusal::new(StatusCode::FORBIDDEN, "wrong key")),
///             None => Err(Refusal::unauthorized("Key", "a key is required")),
///         }
///     }
/// }
///
/// # fn main() {
/// let (parts, ()) = http::Request::get("/events?topic=news").body(()).unwrap().into_parts();
/// let hooks = SharedKey("s3cret");
/// let selector = hooks.topics(&parts, &Query::of(&parts.uri)).unwrap();
/// assert_eq!(selector.topics()[0].as_str(), "news");
/// # }
/// ```
pub trait Hooks: Clone + Send + Sync + 'static {
    /// Which topics the request asks for; `query` is the query of `request.uri`, already
    /// split. Default: the `topic` query parameters ([`Query::selector`]), a malformed or
    /// missing one refused with 400.
    fn topics(&self, request: &Parts, query: &Query<'_>) -> Result<Selector, Refusal> {
        let _ = request;
        query.selector().map_err(Refusal::from)
    }

    /// What the request may have: `Ok(Access)` or a refusal (401/403 with a message and
    /// headers). Default: [`Access::public`] for everyone.
    fn authorize(
        &self,
        request: &Parts,
        selector: &Selector,
    ) -> impl Future<Output = Result<Access, Refusal>> + Send {
        let _ = (request, selector);
        async { Ok(Access::public()) }
    }

    /// Whether the request's credentials, if any, are acceptable at all, before it asks for
    /// anything. A transport whose credentials arrive after the connection opens (STOMP's
    /// `CONNECT` frame) asks once, so a bad login fails at login rather than at the first
    /// subscription; [`authorize`](Self::authorize) still decides every subscription.
    /// Default: every request is let in.
    fn authenticate(&self, request: &Parts) -> impl Future<Output = Result<(), Refusal>> + Send {
        let _ = request;
        async { Ok(()) }
    }
}

/// The hooks of a server open to all: topics from the query, public access for everyone.
#[derive(Clone, Copy, Debug, Default)]
pub struct Open;

impl Hooks for Open {}

/// A request the hooks turned down: a status, a message for the body, and headers (such as
/// `www-authenticate`) for the response.
///
/// ```
/// use http::StatusCode;
/// use push_http::Refusal;
///
/// let response = Refusal::unauthorized("Bearer", "the token has expired").into_response();
/// assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(response.headers()["www-authenticate"], "Bearer");
/// assert_eq!(response.body(), "the token has expired\n");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(Box<RefusalParts>);

/// Boxed so that `Result<_, Refusal>` stays one pointer wide.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RefusalParts {
    status: StatusCode,
    message: Cow<'static, str>,
    headers: HeaderMap,
    /// Made from [`push_core::Error::SelectorEmpty`]: the request asked for no topic.
    no_topics: bool,
}

impl Refusal {
    /// A refusal with `status` and `message`, no extra header.
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self(Box::new(RefusalParts {
            status,
            message: message.into(),
            headers: HeaderMap::new(),
            no_topics: false,
        }))
    }

    /// `401 Unauthorized` with the challenge RFC 9110 §11.6.1 requires of it
    /// (`www-authenticate: CHALLENGE`, e.g. `Bearer realm="push"`). A challenge that is not a
    /// valid header value is left out rather than failing the refusal.
    pub fn unauthorized(challenge: &str, message: impl Into<Cow<'static, str>>) -> Self {
        let refusal = Self::new(StatusCode::UNAUTHORIZED, message);
        match HeaderValue::from_str(challenge) {
            Ok(value) => refusal.with_header(WWW_AUTHENTICATE, value),
            Err(_) => refusal,
        }
    }

    /// `403 Forbidden`: the request is known and may not have what it asks for.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// Adds a header to the response (appended: a name may carry several values).
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.append(name, value);
        self
    }

    /// The status of the response.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The message of the body (without its final newline).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The headers added to the response.
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// Whether this refusal says only that the request asked for no topic: true for a refusal
    /// made from [`push_core::Error::SelectorEmpty`] (as the default [`Hooks::topics`] answers
    /// a query without `topic=`), false for every other one. A transport that can subscribe
    /// later (a WebSocket, by command) treats this refusal as "no initial subscription" and
    /// answers every other refusal of `topics` as the hook built it.
    pub fn is_no_topics(&self) -> bool {
        self.0.no_topics
    }

    /// The response: the status, a [`text_response`] body, the headers of the refusal.
    pub fn into_response(self) -> Response<String> {
        let RefusalParts {
            status,
            message,
            headers,
            no_topics: _,
        } = *self.0;
        let mut response = text_response(status, message);
        let mut name = None;
        for (next, value) in headers {
            // `HeaderMap::into_iter` names a header once, before the first of its values.
            name = next.or(name);
            if let Some(name) = &name {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

impl From<push_core::Error> for Refusal {
    /// The error's [`HttpStatus`] with its message.
    fn from(error: push_core::Error) -> Self {
        let mut refusal = Self::new(error.status(), error.to_string());
        refusal.0.no_topics = error == push_core::Error::SelectorEmpty;
        refusal
    }
}

impl From<Refusal> for Response<String> {
    fn from(refusal: Refusal) -> Self {
        refusal.into_response()
    }
}

impl HttpStatus for Refusal {
    fn status(&self) -> StatusCode {
        self.0.status
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0.status.as_u16(), self.0.message)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str) -> Parts {
        http::Request::get(uri).body(()).unwrap().into_parts().0
    }

    fn topics(request: &Parts) -> Result<Selector, Refusal> {
        Open.topics(request, &Query::of(&request.uri))
    }

    fn ready<T>(future: impl Future<Output = T>) -> T {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(value) => value,
            std::task::Poll::Pending => panic!("the default hook never waits"),
        }
    }

    #[test]
    fn open_reads_the_query_and_lets_everyone_in() {
        let request = parts("/events?topic=a&topic=b%2Fc&since=1-2");
        let selector = topics(&request).unwrap();
        let names: Vec<_> = selector.topics().iter().map(|t| t.as_str()).collect();
        assert_eq!(names, ["a", "b/c"]);
        let access = ready(Open.authorize(&request, &selector)).unwrap();
        assert_eq!(access, Access::public());
    }

    #[test]
    fn a_bad_query_is_refused_with_the_errors_status_and_message() {
        for (uri, message) in [
            ("/events", "the selector names no topic"),
            ("/events?x=1", "the selector names no topic"),
            (
                "/events?topic=%zz",
                "a query parameter has an invalid %-escape",
            ),
            ("/events?topic=", "the topic is empty"),
        ] {
            let refusal = topics(&parts(uri)).unwrap_err();
            assert_eq!(refusal.status(), StatusCode::BAD_REQUEST, "{uri}");
            assert!(refusal.message().starts_with(message), "{uri}: {refusal}");
            assert!(refusal.headers().is_empty());
        }
    }

    #[test]
    fn only_a_query_without_topics_is_refused_as_no_topics() {
        for uri in ["/events", "/events?x=1", "/events?since=1-2"] {
            assert!(topics(&parts(uri)).unwrap_err().is_no_topics(), "{uri}");
        }
        for uri in ["/events?topic=%zz", "/events?topic="] {
            assert!(!topics(&parts(uri)).unwrap_err().is_no_topics(), "{uri}");
        }
        assert!(Refusal::from(push_core::Error::SelectorEmpty).is_no_topics());
        let same_words = Refusal::new(StatusCode::BAD_REQUEST, "the selector names no topic");
        assert!(
            !same_words.is_no_topics(),
            "a hook's own refusal is never no-topics"
        );
        assert!(!Refusal::forbidden("no ?room=").is_no_topics());
    }

    #[test]
    fn a_refusal_becomes_a_text_response_with_its_headers() {
        let refusal = Refusal::unauthorized(r#"Bearer realm="push""#, "no token")
            .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        assert_eq!(refusal.to_string(), "401 no token");
        let response: Response<String> = refusal.into();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenges: Vec<_> = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(challenges, [r#"Bearer realm="push""#, "Basic"]);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert_eq!(response.body(), "no token\n");
        let forbidden = Refusal::forbidden("private topic");
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            Refusal::unauthorized("bad\nchallenge", "x").headers().len(),
            0,
            "an invalid challenge is left out"
        );
    }
}
