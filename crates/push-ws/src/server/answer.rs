//! What a handshake answers: the checks of the upgrade headers against a [`Config`] (a pure
//! function over an `http::Request`), and their outcome, an accepted upgrade (its response and
//! subprotocol) or a [`Refusal`] (its status and reason, as the hooks' refusals are).

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use push_http::Refusal;
use push_http::grammar::{has_token, tokens};

use super::Config;

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

/// Whether the `#token` list of header `name` (RFC 9110 §5.6.1, push-http's grammar: quoted
/// strings and malformed elements are not tokens) has `token`, ASCII case aside.
fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    has_token(headers.get_all(name), token)
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

/// The `:protocol` of an extended CONNECT (RFC 8441 §4), as hyper's HTTP/2 server or the `h2`
/// crate (behind `push_h2::drive` or `h2::accept`, feature `h2`) hands it over.
fn connect_protocol<B>(request: &Request<B>) -> Option<&str> {
    let extensions = request.extensions();
    if let Some(protocol) = extensions.get::<hyper::ext::Protocol>() {
        return Some(protocol.as_str());
    }
    #[cfg(feature = "h2")]
    if let Some(protocol) = extensions.get::<h2::ext::Protocol>() {
        return Some(protocol.as_str());
    }
    None
}

/// An HTTP/2 WebSocket request is an extended CONNECT (RFC 8441 §4) naming `websocket`: a plain
/// `CONNECT` or another method is malformed (400); another `:protocol` is one this endpoint does
/// not implement (501, as for a method a server does not implement: the client may fall back).
pub(crate) fn check_extended_connect<B>(request: &Request<B>) -> Result<(), Refusal> {
    let protocol = connect_protocol(request);
    if request.method() != Method::CONNECT || protocol.is_none() {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "WebSocket over HTTP/2 is an extended CONNECT with :protocol websocket",
        ));
    }
    if !protocol.is_some_and(|p| p.eq_ignore_ascii_case("websocket")) {
        return Err(Refusal::new(
            StatusCode::NOT_IMPLEMENTED,
            "this endpoint speaks only the websocket :protocol",
        ));
    }
    check_version(request.headers())
}

impl Config {
    /// Decides an upgrade request without any I/O: checks the upgrade headers (HTTP/1.1
    /// `Upgrade: websocket` or an HTTP/2 extended CONNECT with `:protocol websocket`, RFC 8441),
    /// the Origin policy and the subprotocols.
    ///
    /// On success the [`Accepted`] value builds the response to send; on refusal the
    /// [`Refusal`] says which status and why.
    pub fn check<B>(&self, request: &Request<B>) -> Result<Accepted, Refusal> {
        let headers = request.headers();
        let key = if request.version() == Version::HTTP_2 {
            check_extended_connect(request)?;
            None
        } else {
            Some(check_upgrade(request)?)
        };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| request.uri().authority().map(http::uri::Authority::as_str));
        if !self.origin().permits_for(headers, host) {
            return Err(Refusal::new(StatusCode::FORBIDDEN, "origin not allowed"));
        }
        let protocol = self.select_protocol(headers)?;
        Ok(Accepted { key, protocol })
    }

    fn select_protocol(&self, headers: &HeaderMap) -> Result<Option<HeaderValue>, Refusal> {
        // `Sec-WebSocket-Protocol` is a `#token` list (RFC 6455 §11.3.4).
        let offered = headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .flat_map(|v| tokens(v.as_bytes()));
        let mut best: Option<usize> = None;
        for p in offered {
            if let Some(i) = self.protocols().iter().position(|ours| ours == p) {
                best = Some(best.map_or(i, |b| b.min(i)));
            }
        }
        match best {
            // Our own configured names; a name that is not a valid header value is never chosen.
            Some(i) => Ok(HeaderValue::from_str(&self.protocols()[i]).ok()),
            None if self.require_protocol() => Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "no supported subprotocol offered",
            )),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h1() -> http::request::Builder {
        Request::get("/ws")
            .header("host", "example.com")
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "WebSocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    fn h2(uri: &str) -> http::request::Builder {
        Request::builder()
            .method(Method::CONNECT)
            .version(Version::HTTP_2)
            .uri(uri)
            .header("sec-websocket-version", "13")
            .extension(hyper::ext::Protocol::from_static("websocket"))
    }

    #[test]
    fn http1_upgrade_rules() {
        let config = Config::default();
        let accepted = config.check(&h1().body(()).unwrap()).unwrap();
        let response = accepted.response();
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            response.headers()[header::SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let bad = [h1().method(Method::POST), h1().version(Version::HTTP_10)];
        for request in bad {
            let request = request.body(()).unwrap();
            assert_eq!(config.check(&request).unwrap_err().status(), 400);
        }
        let no_upgrade = Request::get("/").header("host", "x").body(()).unwrap();
        assert_eq!(config.check(&no_upgrade).unwrap_err().status(), 400);
        for (name, value) in [
            (header::SEC_WEBSOCKET_KEY, "short"),
            (header::SEC_WEBSOCKET_VERSION, "8"),
        ] {
            let mut request = h1().body(()).unwrap();
            request
                .headers_mut()
                .insert(name, HeaderValue::from_static(value));
            assert_eq!(config.check(&request).unwrap_err().status(), 400);
        }
    }

    #[test]
    fn header_lists_are_read_with_the_rfc_9110_grammar() {
        let config = Config::default().with_protocols(["push.v1", "chat"]);
        let with = |name, value| {
            let mut request = h1().body(()).unwrap();
            let value = HeaderValue::from_str(value).unwrap();
            request.headers_mut().insert(name, value);
            config.check(&request)
        };
        // A quoted string is one (malformed) element, not a list to split at its commas.
        let quoted = with(header::CONNECTION, r#""keep-alive, upgrade, x""#);
        assert_eq!(quoted.unwrap_err().status(), 400);
        let quoted = with(header::SEC_WEBSOCKET_PROTOCOL, r#""x, push.v1""#).unwrap();
        assert_eq!(quoted.protocol(), None);
        // Empty elements and odd spacing around real tokens are fine.
        assert!(with(header::CONNECTION, " ,keep-alive ,\tUpgrade,").is_ok());
        let offered = with(header::SEC_WEBSOCKET_PROTOCOL, "x , chat,push.v1").unwrap();
        assert_eq!(offered.protocol(), Some("push.v1"));
    }

    #[test]
    fn http2_extended_connect_uses_the_authority_for_same_origin() {
        let config = Config::default();
        let same = h2("https://example.com/ws").header("origin", "https://example.com");
        let accepted = config.check(&same.body(()).unwrap()).unwrap();
        assert_eq!(accepted.response().status(), StatusCode::OK);
        assert!(accepted.response().headers().is_empty());
        let cross = h2("https://example.com/ws").header("origin", "https://evil.example");
        assert_eq!(
            config.check(&cross.body(()).unwrap()).unwrap_err().status(),
            403
        );
        let get = h2("https://example.com/ws").method(Method::GET);
        assert_eq!(
            config.check(&get.body(()).unwrap()).unwrap_err().status(),
            400
        );
    }

    #[test]
    fn http2_extended_connect_must_name_websocket() {
        let config = Config::default();
        let check = |request: Request<()>| config.check(&request).map(|_| ());
        // A plain CONNECT (no `:protocol`) is no WebSocket request.
        let mut plain = h2("https://example.com/ws").body(()).unwrap();
        plain.extensions_mut().clear();
        assert_eq!(check(plain).unwrap_err().status(), 400);
        // Another protocol, as hyper or h2 hands it over, is not implemented here.
        let other = h2("https://example.com/ws")
            .extension(hyper::ext::Protocol::from_static("connect-udp"))
            .body(())
            .unwrap();
        assert_eq!(check(other).unwrap_err().status(), 501);
        let mut raw = h2("https://example.com/ws").body(()).unwrap();
        raw.extensions_mut().clear();
        raw.extensions_mut()
            .insert(h2::ext::Protocol::from_static("webtransport"));
        assert_eq!(check(raw).unwrap_err().status(), 501);
        let mut raw = h2("https://example.com/ws").body(()).unwrap();
        raw.extensions_mut().clear();
        raw.extensions_mut()
            .insert(h2::ext::Protocol::from_static("websocket"));
        assert!(check(raw).is_ok());
    }
}
