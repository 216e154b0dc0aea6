//! The handshake policy: Origin, subprotocols and the upgrade headers, as a pure function over
//! an `http::Request`, plus the limits every accepted connection gets.

use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, StatusCode, Version};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::answer::{check_extended_connect, check_upgrade};
use crate::budget::{Budget, Limits};
use crate::origin::OriginPolicy;
use crate::{Accepted, Refusal};

/// How WebSocket upgrades are accepted: who may connect (the [`OriginPolicy`]), which
/// subprotocols are spoken, and the limits suited to untrusted peers.
///
/// The defaults refuse cross-site browser upgrades (403), accept clients that send no `Origin`
/// (non-browser clients, which cannot be protected by `Origin` anyway), limit messages to 1 MiB
/// and frames to 256 KiB, and use a 4 KiB read buffer so an idle connection costs a few KiB.
///
/// Limits on unfinished incoming messages: the first 8 KiB of each connection's are its own
/// ([`partial_message_share`](Self::partial_message_share)), beyond that all the connections draw
/// on one pool ([`partial_message_budget`](Self::partial_message_budget), 64 MiB), and one
/// message arrives in at most 256 frames
/// ([`max_frames_per_message`](Self::max_frames_per_message)). The pool is
/// shared by this configuration and its clones, so clone one configuration for every connection
/// of a server (a second `AcceptConfig::default()` has a budget of its own).
///
/// ```
/// use push_ws::AcceptConfig;
///
/// let config = AcceptConfig::default()
///     .allow_origin("https://app.example.com")
///     .protocols(["push.v1"])
///     .max_message_size(64 << 10);
/// let ws = config.websocket_config();
/// assert_eq!(ws.max_message_size, Some(64 << 10));
/// ```
#[derive(Clone, Debug)]
pub struct AcceptConfig {
    origin: OriginPolicy,
    protocols: Vec<String>,
    require_protocol: bool,
    max_message_size: usize,
    max_frame_size: usize,
    read_buffer_size: usize,
    write_buffer_size: usize,
    budget: Arc<Budget>,
    partial_message_share: usize,
    max_frames_per_message: u32,
    handshake_timeout: core::time::Duration,
}

/// 64 MiB: beyond their shares, 64 peers can each send a message of the default 1 MiB limit in
/// pieces at once. tungstenite copies a finished frame into the message it assembles, so the
/// worst case stays near 128 MiB, which a 1 GiB server can afford beside 10,000 idle connections
/// (about 7.6 KiB each).
const DEFAULT_PARTIAL_MESSAGE_BUDGET: usize = 64 << 20;

/// 8 KiB: a push command (subscribe with a few topics, a cursor) fits many times over, and
/// 10,000 connections all holding their share at once take 80 MiB.
const DEFAULT_PARTIAL_MESSAGE_SHARE: usize = 8 << 10;

impl Default for AcceptConfig {
    fn default() -> Self {
        Self {
            origin: OriginPolicy::default(),
            protocols: Vec::new(),
            require_protocol: false,
            max_message_size: 1 << 20,
            max_frame_size: 256 << 10,
            read_buffer_size: 4 << 10,
            write_buffer_size: 32 << 10,
            budget: Budget::new(DEFAULT_PARTIAL_MESSAGE_BUDGET),
            partial_message_share: DEFAULT_PARTIAL_MESSAGE_SHARE,
            max_frames_per_message: 256,
            handshake_timeout: push_net::ServerConfig::default().get_handshake_timeout(),
        }
    }
}

impl AcceptConfig {
    /// Replaces the Origin policy.
    #[must_use]
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin = policy;
        self
    }

    /// Also accepts browser upgrades from `origin` (for example `https://app.example.com`).
    #[must_use]
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = self.origin.allow(origin);
        self
    }

    /// Accepts upgrades from any Origin (for public echo servers and conformance runs only).
    #[must_use]
    pub fn any_origin(mut self) -> Self {
        self.origin = OriginPolicy::Any;
        self
    }

    /// The subprotocols this server speaks, most preferred first. The first one the client
    /// offers (in our order) is selected and echoed in `Sec-WebSocket-Protocol`.
    #[must_use]
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Refuses (400) clients that offer none of our [`protocols`](Self::protocols). By default
    /// such clients are accepted without a subprotocol, as RFC 6455 allows.
    #[must_use]
    pub fn require_protocol(mut self, require: bool) -> Self {
        self.require_protocol = require;
        self
    }

    /// The largest message accepted from the peer (default 1 MiB); larger ones close with 1009.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// The largest frame accepted from the peer (default 256 KiB); larger ones close with 1009.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// The read buffer allocated per connection (default 4 KiB; tungstenite's default is 128 KiB).
    #[must_use]
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes.max(64);
        self
    }

    /// How many bytes of outgoing frames are gathered before a write (default 32 KiB;
    /// tungstenite's default is 128 KiB). It grows only while sending, so an idle connection does
    /// not pay for it; a burst of events costs one write per this many bytes (the runner also
    /// writes at the end of every burst), and a connection whose peer stops reading holds at most
    /// this plus one message before the runner stops pulling events for it.
    #[must_use]
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// The most bytes that the unfinished incoming messages of the connections sharing this
    /// configuration (and its clones) may hold together beyond their shares (default 64 MiB; see
    /// [`partial_message_share`](Self::partial_message_share)). A message counts with the
    /// payload bytes received of it so far (what tungstenite really holds: a frame header alone
    /// costs nothing, though tungstenite reserves address space for the declared length) until
    /// its final frame has passed; control frames never count. A connection whose message needs
    /// more than the pool has left is closed with 1009; the others are untouched.
    ///
    /// Setting it starts a new pool, shared by the clones made after this call.
    #[must_use]
    pub fn partial_message_budget(mut self, bytes: usize) -> Self {
        self.budget = Budget::new(bytes);
        self
    }

    /// The bytes of every connection's unfinished message that never draw on the shared pool
    /// (default 8 KiB): exhausting the pool closes only connections holding more than this, so
    /// a flood of large messages cannot get a client's small command, or its pong, refused.
    /// Memory for unfinished messages is bounded by connections × share + the pool.
    #[must_use]
    pub fn partial_message_share(mut self, bytes: usize) -> Self {
        self.partial_message_share = bytes;
        self
    }

    /// The most frames one incoming message may arrive in (default 256, at least 1); more
    /// closes the connection with 1008. Browsers send a message as one frame; a peer that sends
    /// endless empty continuation frames costs CPU but no memory, and only this stops it.
    #[must_use]
    pub fn max_frames_per_message(mut self, frames: u32) -> Self {
        self.max_frames_per_message = frames.max(1);
        self
    }

    /// The bytes the unfinished messages of this configuration's connections hold now beyond
    /// their shares, and the shared pool's limit.
    pub fn partial_message_bytes(&self) -> (usize, usize) {
        (self.budget.in_use(), self.budget.limit())
    }

    pub(crate) fn budget(&self) -> Arc<Budget> {
        Arc::clone(&self.budget)
    }

    pub(crate) fn meter_limits(&self) -> Limits {
        let max_message = self.max_message_size;
        Limits {
            max_frame: self.max_frame_size.min(max_message) as u64,
            max_message: max_message as u64,
            max_frames: self.max_frames_per_message,
            share: self.partial_message_share,
        }
    }

    /// The time a connection has to send its complete upgrade request and take the answer
    /// (default 10 s, `push_net::ServerConfig`'s handshake timeout, which every push server path
    /// shares); [`accept`](crate::accept) fails with [`std::io::ErrorKind::TimedOut`] after it.
    /// Set it from your server's `ServerConfig` so all its protocols agree.
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: core::time::Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// See [`handshake_timeout`](Self::handshake_timeout).
    pub(crate) fn get_handshake_timeout(&self) -> core::time::Duration {
        self.handshake_timeout
    }

    /// The tungstenite configuration these limits translate to.
    pub fn websocket_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(self.write_buffer_size)
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_frame_size.min(self.max_message_size)))
    }

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
        if !self.origin.permits_for(headers, host) {
            return Err(Refusal::new(StatusCode::FORBIDDEN, "origin not allowed"));
        }
        let protocol = self.select_protocol(headers)?;
        Ok(Accepted { key, protocol })
    }

    fn select_protocol(&self, headers: &HeaderMap) -> Result<Option<HeaderValue>, Refusal> {
        let offered = headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let mut best: Option<usize> = None;
        for p in offered {
            if let Some(i) = self.protocols.iter().position(|ours| ours == p) {
                best = Some(best.map_or(i, |b| b.min(i)));
            }
        }
        match best {
            // Our own configured names; a name that is not a valid header value is never chosen.
            Some(i) => Ok(HeaderValue::from_str(&self.protocols[i]).ok()),
            None if self.require_protocol => Err(Refusal::new(
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
    use http::Method;

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
    }

    #[test]
    fn http1_upgrade_rules() {
        let config = AcceptConfig::default();
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
    fn http2_extended_connect_uses_the_authority_for_same_origin() {
        let config = AcceptConfig::default();
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
}
