//! The server's one configuration: who may upgrade (Origin, subprotocols), the limits suited to
//! untrusted peers, and how an accepted connection is run (heartbeat, close timeout and codes).

use std::sync::Arc;
use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::budget::{Budget, Limits};
use super::origin::OriginPolicy;

/// How a WebSocket server accepts upgrades and runs its connections: builder setters `with_x`,
/// getters `x()`.
///
/// The defaults refuse cross-site browser upgrades (403), accept clients that send no `Origin`
/// (non-browser clients, which cannot be protected by `Origin` anyway), limit messages to 1 MiB
/// and frames to 256 KiB, and use a 4 KiB read buffer so an idle connection costs a few KiB.
/// A silent peer is pinged after 30 s and closed 20 s later; a close handshake waits 5 s.
///
/// Limits on unfinished incoming messages: the first 8 KiB of each connection's are its own
/// ([`partial_message_share`](Self::partial_message_share)), beyond that all the connections draw
/// on one pool ([`partial_message_budget`](Self::partial_message_budget), 64 MiB), and one
/// message arrives in at most 256 frames
/// ([`max_frames_per_message`](Self::max_frames_per_message)). The pool is shared by this
/// configuration and its clones, so clone one configuration for every connection of a server
/// (a second `Config::default()` has a budget of its own).
///
/// ```
/// use push_ws::server::Config;
///
/// let config = Config::default()
///     .with_allowed_origin("https://app.example.com")
///     .with_protocols(["push.v1"])
///     .with_max_message_size(64 << 10);
/// assert_eq!(config.max_message_size(), 64 << 10);
/// assert_eq!(config.websocket_config().max_message_size, Some(64 << 10));
/// ```
#[derive(Clone, Debug)]
pub struct Config {
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
    handshake_timeout: Duration,
    write_stall_timeout: Duration,
    ping_interval: Duration,
    pong_timeout: Duration,
    close_timeout: Duration,
    overflow_close_code: u16,
}

/// 64 MiB: beyond their shares, 64 peers can each send a message of the default 1 MiB limit in
/// pieces at once. tungstenite copies a finished frame into the message it assembles, so the
/// worst case stays near 128 MiB, which a 1 GiB server can afford beside 10,000 idle connections
/// (about 7.6 KiB each).
const DEFAULT_PARTIAL_MESSAGE_BUDGET: usize = 64 << 20;

/// 8 KiB: a push command (subscribe with a few topics, a cursor) fits many times over, and
/// 10,000 connections all holding their share at once take 80 MiB.
const DEFAULT_PARTIAL_MESSAGE_SHARE: usize = 8 << 10;

impl Default for Config {
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
            handshake_timeout: push_net::ServerConfig::default().handshake_timeout(),
            write_stall_timeout: push_net::ServerConfig::default().write_stall_timeout(),
            ping_interval: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_secs(5),
            overflow_close_code: 1013,
        }
    }
}

impl Config {
    /// Replaces the Origin policy (default: same-origin browsers and clients without `Origin`;
    /// [`OriginPolicy::Any`] for public echo servers and conformance runs only).
    #[must_use]
    pub fn with_origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin = policy;
        self
    }

    /// Also accepts browser upgrades from `origin` (for example `https://app.example.com`).
    #[must_use]
    pub fn with_allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = self.origin.allow(origin);
        self
    }

    /// The Origin policy.
    pub fn origin_policy(&self) -> &OriginPolicy {
        &self.origin
    }

    /// The subprotocols this server speaks, most preferred first. The first one the client
    /// offers (in our order) is selected and echoed in `Sec-WebSocket-Protocol`.
    #[must_use]
    pub fn with_protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The subprotocols this server speaks.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// Refuses (400) clients that offer none of our [`protocols`](Self::protocols). By default
    /// such clients are accepted without a subprotocol, as RFC 6455 allows.
    #[must_use]
    pub fn with_require_protocol(mut self, require: bool) -> Self {
        self.require_protocol = require;
        self
    }

    /// Whether a client must offer one of our subprotocols.
    pub fn require_protocol(&self) -> bool {
        self.require_protocol
    }

    /// The largest message accepted from the peer (default 1 MiB); larger ones close with 1009.
    #[must_use]
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// The largest message accepted from the peer.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The largest frame accepted from the peer (default 256 KiB); larger ones close with 1009.
    #[must_use]
    pub fn with_max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// The largest frame accepted from the peer.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// The read buffer allocated per connection (default 4 KiB, at least 64 bytes;
    /// tungstenite's default is 128 KiB).
    #[must_use]
    pub fn with_read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes.max(64);
        self
    }

    /// The read buffer allocated per connection.
    pub fn read_buffer_size(&self) -> usize {
        self.read_buffer_size
    }

    /// How many bytes of outgoing frames are gathered before a write (default 32 KiB;
    /// tungstenite's default is 128 KiB). It grows only while sending, so an idle connection does
    /// not pay for it; a burst of events costs one write per this many bytes (the runner also
    /// writes at the end of every burst), and a connection whose peer stops reading holds at most
    /// this plus one message before the runner stops pulling events for it.
    #[must_use]
    pub fn with_write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// How many bytes of outgoing frames are gathered before a write.
    pub fn write_buffer_size(&self) -> usize {
        self.write_buffer_size
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
    pub fn with_partial_message_budget(mut self, bytes: usize) -> Self {
        self.budget = Budget::new(bytes);
        self
    }

    /// The shared pool's limit.
    pub fn partial_message_budget(&self) -> usize {
        self.budget.limit()
    }

    /// The bytes of every connection's unfinished message that never draw on the shared pool
    /// (default 8 KiB): exhausting the pool closes only connections holding more than this, so
    /// a flood of large messages cannot get a client's small command, or its pong, refused.
    /// Memory for unfinished messages is bounded by connections × share + the pool.
    #[must_use]
    pub fn with_partial_message_share(mut self, bytes: usize) -> Self {
        self.partial_message_share = bytes;
        self
    }

    /// The bytes of every connection's unfinished message that never draw on the shared pool.
    pub fn partial_message_share(&self) -> usize {
        self.partial_message_share
    }

    /// The most frames one incoming message may arrive in (default 256, at least 1); more
    /// closes the connection with 1008. Browsers send a message as one frame; a peer that sends
    /// endless empty continuation frames costs CPU but no memory, and only this stops it.
    #[must_use]
    pub fn with_max_frames_per_message(mut self, frames: u32) -> Self {
        self.max_frames_per_message = frames.max(1);
        self
    }

    /// The most frames one incoming message may arrive in.
    pub fn max_frames_per_message(&self) -> u32 {
        self.max_frames_per_message
    }

    /// The bytes the unfinished messages of this configuration's connections hold now beyond
    /// their shares (at most [`partial_message_budget`](Self::partial_message_budget)).
    pub fn partial_message_bytes(&self) -> usize {
        self.budget.in_use()
    }

    /// The time a connection has to send its complete upgrade request and take the answer
    /// (default 10 s, `push_net::ServerConfig`'s handshake timeout, which every push server path
    /// shares); [`accept`](super::accept) fails with [`std::io::ErrorKind::TimedOut`] after it.
    /// Set it from your server's `ServerConfig` so all its protocols agree. (Behind hyper, the
    /// server's own header-read timeout bounds the request instead.)
    #[must_use]
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The time a connection has to complete its upgrade on a plain stream.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// How long a write to an upgraded connection may make no progress before the connection
    /// is dropped (default 30 s, `push_net::ServerConfig`'s write-stall timeout); applied by the
    /// [`Endpoint`](super::Endpoint) with a `push_net::StallGuard`. A peer that stops reading
    /// stops answering pings too, but this bounds the bytes queued for it sooner.
    #[must_use]
    pub fn with_write_stall_timeout(mut self, timeout: Duration) -> Self {
        self.write_stall_timeout = timeout;
        self
    }

    /// How long a write to an upgraded connection may make no progress.
    pub fn write_stall_timeout(&self) -> Duration {
        self.write_stall_timeout
    }

    /// How long the connection may be silent before we ping (default 30 s: below the 60 s idle
    /// timeout of common proxies and load balancers).
    #[must_use]
    pub fn with_ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long the connection may be silent before we ping.
    pub fn ping_interval(&self) -> Duration {
        self.ping_interval
    }

    /// How long the peer has to answer a ping before it is closed as dead (default 20 s).
    #[must_use]
    pub fn with_pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// How long the peer has to answer a ping.
    pub fn pong_timeout(&self) -> Duration {
        self.pong_timeout
    }

    /// How long the peer has to answer our close frame (default 5 s).
    #[must_use]
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// How long the peer has to answer our close frame.
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// The close code sent when a subscriber falls behind and the broker's overflow policy is
    /// to close: 1013 "try again later" (default) or 1008 "policy violation".
    #[must_use]
    pub fn with_overflow_close_code(mut self, code: u16) -> Self {
        self.overflow_close_code = code;
        self
    }

    /// The close code sent when a subscriber falls behind.
    pub fn overflow_close_code(&self) -> u16 {
        self.overflow_close_code
    }

    /// The tungstenite configuration these limits translate to.
    pub fn websocket_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(self.write_buffer_size)
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_frame_size.min(self.max_message_size)))
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

    pub(crate) fn origin(&self) -> &OriginPolicy {
        &self.origin
    }
}
