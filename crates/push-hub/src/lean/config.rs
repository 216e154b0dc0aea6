//! The lean path's limits.

use push_net::ServerConfig;

/// hyper's smallest read buffer, and so the smallest head limit of push-net's hyper path.
const HYPER_MIN_HEAD: usize = 8 * 1024;

/// The limits of [`serve_connection`](super::serve_connection): push-net's [`ServerConfig`]
/// (the handshake timeout bounds each request head, the write-stall timeout each write, the
/// HTTP/2 header list size the head) and what the lean path alone decides. Setters `with_x`,
/// getters `x()`.
///
/// | setting | default | what it bounds |
/// |---|---|---|
/// | [`server`](Self::server) | `ServerConfig::default()` | head time (10 s), write stalls (30 s), hyper's side |
/// | [`max_head_bytes`](Self::with_max_head_bytes) | hyper path's: 16 KiB | one request head (`431` beyond) |
/// | [`max_answer_bytes`](Self::with_max_answer_bytes) | 64 KiB | an error answer's body |
/// | [`max_discard_bytes`](Self::with_max_discard_bytes) | 16 KiB | bytes a subscriber may send after its request |
///
/// ```
/// use push_hub::lean::Config;
/// use push_net::ServerConfig;
///
/// let config = Config::new(ServerConfig::default());
/// assert_eq!(config.max_head_bytes(), 16 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    server: ServerConfig,
    max_head_bytes: usize,
    max_answer_bytes: usize,
    max_discard_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self::new(ServerConfig::default())
    }
}

impl Config {
    /// The lean path's limits around `server`'s: the head limit is the one push-net gives
    /// hyper (the HTTP/2 header list size, at least 8 KiB), so a head is refused alike on
    /// both paths.
    pub fn new(server: ServerConfig) -> Self {
        let max_head_bytes = usize::try_from(server.http2().max_header_list_size)
            .unwrap_or(usize::MAX)
            .max(HYPER_MIN_HEAD);
        Self {
            server,
            max_head_bytes,
            max_answer_bytes: 64 * 1024,
            max_discard_bytes: 16 * 1024,
        }
    }

    /// push-net's settings: its handshake timeout bounds the time to each complete request
    /// head (a slow-loris peer is closed), its write-stall timeout each write of a stream,
    /// and hyper serves every other request with them.
    pub fn server(&self) -> &ServerConfig {
        &self.server
    }

    /// The largest request head read (default: push-net's HTTP/1.1 limit, 16 KiB); a larger
    /// one is answered `431` and the connection closed. At least 1 KiB.
    ///
    /// Why 16 KiB: a browser's `EventSource` request with a token cookie is 1–2 KiB; the
    /// buffer lives only until the head is parsed, so the limit costs only the peers that
    /// fill it, for at most the handshake timeout.
    #[must_use]
    pub fn with_max_head_bytes(mut self, bytes: usize) -> Self {
        self.max_head_bytes = bytes.max(1024);
        self
    }

    /// See [`with_max_head_bytes`](Self::with_max_head_bytes).
    pub fn max_head_bytes(&self) -> usize {
        self.max_head_bytes
    }

    /// The largest body of an answer the subscribe function refuses with (default 64 KiB):
    /// a longer one is replaced by an empty `500`. Refusals are a line of text.
    #[must_use]
    pub fn with_max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer_bytes = bytes;
        self
    }

    /// See [`with_max_answer_bytes`](Self::with_max_answer_bytes).
    pub fn max_answer_bytes(&self) -> usize {
        self.max_answer_bytes
    }

    /// The bytes a subscriber may send after its request before its connection is closed
    /// (default 16 KiB). They are read and dropped as they come, a few hundred at a time on
    /// the stack: a request pipelined behind an event stream is never answered (the stream's
    /// head says `connection: close`), and a peer that keeps sending costs bounded work.
    #[must_use]
    pub fn with_max_discard_bytes(mut self, bytes: usize) -> Self {
        self.max_discard_bytes = bytes;
        self
    }

    /// See [`with_max_discard_bytes`](Self::with_max_discard_bytes).
    pub fn max_discard_bytes(&self) -> usize {
        self.max_discard_bytes
    }
}
