//! What a handshake answers: the checks of the upgrade headers, and their outcome, an accepted
//! upgrade (its response and subprotocol) or a refusal (its status and reason).

use core::fmt;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// An accepted upgrade: what to answer, and the subprotocol chosen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    pub(crate) key: Option<HeaderValue>,
    pub(crate) protocol: Option<HeaderValue>,
}

impl Accepted {
    /// The subprotocol selected, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_ref().and_then(|p| p.to_str().ok())
    }

    /// The response to send: `101 Switching Protocols` with `Sec-WebSocket-Accept` for HTTP/1.1,
    /// `200 OK` for an HTTP/2 extended CONNECT; with `Sec-WebSocket-Protocol` when one was chosen.
    pub fn response(&self) -> Response<()> {
        let mut response = Response::new(());
        if self.key.is_some() {
            *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        }
        let headers = response.headers_mut();
        if let Some(key) = &self.key {
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            let accept = derive_accept_key(key.as_bytes());
            // Base64 output is always a valid header value.
            if let Ok(v) = HeaderValue::from_str(&accept) {
                headers.insert(header::SEC_WEBSOCKET_ACCEPT, v);
            }
        }
        if let Some(p) = &self.protocol {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, p.clone());
        }
        response
    }
}

/// A refused upgrade: the status to answer with (403 for the Origin policy, 400 for a malformed
/// upgrade) and a short reason, also sent as the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    status: StatusCode,
    reason: &'static str,
}

impl Refusal {
    pub(crate) const fn new(status: StatusCode, reason: &'static str) -> Self {
        Self { status, reason }
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Why the upgrade was refused.
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The refusal as a response with the reason as a plain-text body.
    pub fn response(&self) -> Response<String> {
        let mut response = Response::new(format!("{}\n", self.reason));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.reason)
    }
}

fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn check_version(headers: &HeaderMap) -> Result<(), Refusal> {
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Version must be 13",
        ));
    }
    Ok(())
}

pub(crate) fn check_upgrade<B>(request: &Request<B>) -> Result<HeaderValue, Refusal> {
    let headers = request.headers();
    if request.method() != Method::GET || request.version() < Version::HTTP_11 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "a WebSocket upgrade is an HTTP/1.1 GET",
        ));
    }
    if !header_has_token(headers, header::CONNECTION, "upgrade")
        || !header_has_token(headers, header::UPGRADE, "websocket")
    {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "missing Connection: upgrade / Upgrade: websocket",
        ));
    }
    check_version(headers)?;
    match headers.get(header::SEC_WEBSOCKET_KEY) {
        // RFC 6455 §4.2.1: the base64 of 16 bytes, i.e. 24 characters.
        Some(key) if key.len() == 24 => Ok(key.clone()),
        _ => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "missing or malformed Sec-WebSocket-Key",
        )),
    }
}

pub(crate) fn check_extended_connect<B>(request: &Request<B>) -> Result<(), Refusal> {
    if request.method() != Method::CONNECT {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "WebSocket over HTTP/2 is an extended CONNECT",
        ));
    }
    check_version(request.headers())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_response_carries_status_and_reason() {
        let refusal = Refusal::new(StatusCode::FORBIDDEN, "origin not allowed");
        let response = refusal.response();
        assert_eq!(response.status(), 403);
        assert_eq!(response.body(), "origin not allowed\n");
        assert_eq!(refusal.to_string(), "403 origin not allowed");
    }
}
