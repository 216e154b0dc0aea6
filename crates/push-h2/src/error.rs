//! The crate's one error type.

use http::{HeaderName, Method, StatusCode};

/// Everything that can go wrong before (or while) something reaches the wire.
///
/// A push the client refused or the policy skipped is *not* an error: it is a
/// [`PushOutcome::NotPushed`](crate::PushOutcome::NotPushed). Errors here are either a request the
/// caller built wrongly (caught before any frame is queued), a call in the wrong state of the
/// parent stream (also caught before any frame is queued), hostile input that could not be decoded,
/// or a failure of the connection itself ([`Error::H2`]).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pushed request must be safe and cacheable: `GET` or `HEAD` (RFC 9113 §8.4).
    #[error("a pushed request must be GET or HEAD, not {0}")]
    UnsafeMethod(Method),
    /// A pushed request must not carry a body (nor `content-length`/`content-type`).
    #[error("a pushed request must not have a body")]
    BodyNotAllowed,
    /// The push target is not a URI reference this crate accepts (a path, a relative reference
    /// or an absolute `http`/`https` URI, no fragment, no control characters).
    #[error("the push target is not a valid URI reference")]
    InvalidTarget,
    /// An absolute push target names another scheme than the connection's.
    #[error("the push target's scheme does not match the connection's")]
    SchemeMismatch,
    /// The parent request has no `:authority` (nor `host`) and no authority is configured.
    #[error("no authority to push for: the parent request has none and none is configured")]
    MissingAuthority,
    /// The server is not configured as authoritative for this authority.
    #[error("the server is not authoritative for {0:?}")]
    ForeignAuthority(Box<str>),
    /// A header value that HTTP/2 cannot carry (control characters, CR/LF, NUL).
    #[error("header {0} has an invalid value")]
    InvalidHeaderValue(HeaderName),
    /// A header that must not appear in a pushed request (connection-specific or body-related).
    #[error("header {0} is not allowed in a pushed request")]
    ForbiddenHeader(HeaderName),
    /// The client's flow-control window stayed shut for
    /// [`PushConfig::stall_timeout`](crate::PushConfig::stall_timeout) while a body waited to be
    /// sent; the stream was reset with CANCEL.
    #[error("the client's flow-control window stayed shut; the stream was reset")]
    Stalled,
    /// The parent stream's final frame (END_STREAM or RST_STREAM) is already queued: no push,
    /// informational response or data may follow.
    #[error("the parent stream has ended")]
    StreamEnded,
    /// The final response was already sent; a second one, or a 1xx after it, is invalid.
    #[error("the final response was already sent")]
    FinalResponseSent,
    /// Data or trailers before the response headers.
    #[error("the response headers have not been sent")]
    NoResponse,
    /// `101 Switching Protocols` does not exist in HTTP/2 (RFC 9113 §8.6).
    #[error("101 Switching Protocols is not allowed in HTTP/2")]
    SwitchingProtocols,
    /// An informational response needs a 1xx status.
    #[error("status {0} is not informational (1xx)")]
    NotInformational(StatusCode),
    /// A final (or pushed) response needs a status of 200 or more.
    #[error("status {0} is not a final status")]
    NotFinal(StatusCode),
    /// A response to a `HEAD` push carries no body.
    #[error("a response to a HEAD push has no body")]
    BodyOnHead,
    /// A cache digest (cookie) that does not decode; the text says which rule it breaks.
    #[error("invalid cache digest: {0}")]
    InvalidDigest(&'static str),
    /// An SSE event that cannot be encoded (see `push_sse::Error`).
    #[error("the SSE event cannot be encoded")]
    Sse(#[source] push_sse::Error),
    /// The connection's handshake failed or did not complete in time.
    #[error("the connection's I/O failed")]
    Io(#[from] std::io::Error),
    /// The HTTP/2 connection or stream failed (I/O, GOAWAY, reset).
    #[error("the HTTP/2 connection or stream failed")]
    H2(#[source] Box<h2::Error>),
}

impl push_http::HttpStatus for Error {
    /// 400 for a cache digest that does not decode (the client's input), 408 when the client's
    /// window stayed shut past the stall timeout, 500 for the rest: a push request or a stream
    /// call the server built wrongly, an event it could not encode, or the connection failing
    /// under it.
    fn status(&self) -> StatusCode {
        match self {
            Self::InvalidDigest(_) => StatusCode::BAD_REQUEST,
            Self::Stalled => StatusCode::REQUEST_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<h2::Error> for Error {
    fn from(error: h2::Error) -> Self {
        Self::H2(Box::new(error))
    }
}

impl From<push_sse::Error> for Error {
    fn from(error: push_sse::Error) -> Self {
        Self::Sse(error)
    }
}

/// True when h2 refused a `PUSH_PROMISE` because the peer sent `SETTINGS_ENABLE_PUSH = 0`.
///
/// h2 0.4.20 keeps the peer's `SETTINGS_ENABLE_PUSH` to itself (no accessor on the server
/// connection or on `SendResponse`), and its `UserError::PeerDisabledServerPush` is private: the
/// refusal is only visible as an error that is none of the public kinds (no reason, not I/O,
/// not a reset, not a GOAWAY) with the text "sending PUSH_PROMISE to peer who disabled server
/// push". Both are checked, and `the_push_disabled_signal_of_h2_is_pinned` pins that behaviour
/// against a real h2 client, so an h2 upgrade that changes it fails the tests instead of
/// turning every refusal into an ordinary skip.
pub(crate) fn is_push_disabled(error: &h2::Error) -> bool {
    error.reason().is_none()
        && !error.is_io()
        && !error.is_reset()
        && !error.is_go_away()
        && error.to_string().contains("disabled server push")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins the dependency: with a client that sent `SETTINGS_ENABLE_PUSH = 0`, h2's
    /// `push_request` fails with the error `is_push_disabled` recognises; with push enabled it
    /// succeeds and nothing is misread as disabled.
    #[tokio::test]
    async fn the_push_disabled_signal_of_h2_is_pinned() {
        for enable_push in [false, true] {
            let (client_io, server_io) = tokio::io::duplex(64 << 10);
            let server = tokio::spawn(async move {
                let mut connection = h2::server::handshake(server_io).await.unwrap();
                let (request, mut respond) = connection.accept().await.unwrap().unwrap();
                drop(request);
                let push = http::Request::get("http://example.com/pushed")
                    .body(())
                    .unwrap();
                let outcome = respond.push_request(push).map(drop);
                respond
                    .send_response(http::Response::new(()), true)
                    .unwrap();
                tokio::spawn(async move { while connection.accept().await.is_some() {} });
                outcome
            });
            let mut builder = h2::client::Builder::new();
            builder.enable_push(enable_push);
            let (mut send, connection) = builder
                .handshake::<_, bytes::Bytes>(client_io)
                .await
                .unwrap();
            tokio::spawn(connection);
            let get = http::Request::get("http://example.com/").body(()).unwrap();
            let (response, _) = send.send_request(get, true).unwrap();
            let _ = response.await;
            match server.await.unwrap() {
                Err(error) => {
                    assert!(!enable_push, "push enabled, yet refused: {error}");
                    assert!(is_push_disabled(&error), "h2's signal changed: {error:?}");
                }
                Ok(()) => assert!(enable_push, "h2 no longer refuses a disabled push"),
            }
        }
    }

    #[test]
    fn statuses() {
        use push_http::HttpStatus;
        assert_eq!(Error::InvalidDigest("x").status(), StatusCode::BAD_REQUEST);
        assert_eq!(Error::Stalled.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(
            Error::UnsafeMethod(Method::POST).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn result_stays_small() {
        // Method and HeaderName are inline (as in http::Error); everything else is boxed.
        assert!(size_of::<Error>() <= 40, "{}", size_of::<Error>());
    }

    #[test]
    fn causes_are_sources_and_printed_once() {
        use std::error::Error as _;
        let causes: [(Error, String); 3] = [
            (
                push_sse::Error::InvalidId.into(),
                push_sse::Error::InvalidId.to_string(),
            ),
            (
                h2::Error::from(h2::Reason::CANCEL).into(),
                h2::Error::from(h2::Reason::CANCEL).to_string(),
            ),
            (
                std::io::Error::other("wire cut").into(),
                "wire cut".to_owned(),
            ),
        ];
        for (error, cause) in causes {
            let source = error.source().expect("the cause is the source");
            assert_eq!(source.to_string(), cause);
            assert!(!error.to_string().contains(&cause), "{error}");
        }
    }

    #[test]
    fn display_names_the_rule() {
        assert_eq!(
            Error::UnsafeMethod(Method::POST).to_string(),
            "a pushed request must be GET or HEAD, not POST"
        );
        assert_eq!(
            Error::ForeignAuthority("evil.example".into()).to_string(),
            "the server is not authoritative for \"evil.example\""
        );
    }
}
