//! The limits every server path shares: timeouts, the listen backlog and the HTTP/2 settings.

use std::time::Duration;

/// How long a peer may take, and how much it may hold, on a server connection.
///
/// The defaults are sized for a small deployment (2 cores, 1 GiB) facing clients that may be
/// hostile; each setter's docs give the reasoning.
///
/// | setting | default | what it bounds |
/// |---|---|---|
/// | [`handshake_timeout`](Self::with_handshake_timeout) | 10 s | time to a first complete request (HTTP/1.1 head, HTTP/2 preface + first request, WebSocket upgrade); each later HTTP/1.1 head and idle keep-alive |
/// | [`body_timeout`](Self::with_body_timeout) | 30 s | time to read a publish body |
/// | [`write_stall_timeout`](Self::with_write_stall_timeout) | 30 s | time a write may make no progress (and bytes may sit unsent in the kernel) |
/// | [`unsent_low_water`](Self::with_unsent_low_water) | 128 KiB | unsent bytes in the kernel before the socket stops taking writes (Linux) |
/// | [`backlog`](Self::with_backlog) | 4096 | connections waiting to be accepted |
/// | [`Http2Limits`] | see there | streams, header lists and send buffers per HTTP/2 connection |
///
/// # Sizing: what a 2-core, 1 GiB server holds
/// A connection that has not completed a request costs about 15 KiB of process memory (2,000
/// slow-loris connections measured 28–35 MB of RSS on the example servers), plus at most the
/// 16 KiB request head limit it may fill ([`Http2Limits::max_header_list_size`], also the
/// HTTP/1.1 read buffer limit; hyper alone lets a head grow to about 400 KiB), so 1 GiB would
/// hold some 30,000 of them even when every one sends a full head: long before that the descriptor limit binds, which the accept loop
/// survives ([`Acceptor`](crate::Acceptor)). With the handshake timeout an attacker must keep
/// opening connections to hold any (2,000 held sockets need 200 new connections a second);
/// without it, it needed none. A subscriber that stops reading holds its kernel buffers and
/// the server's unsent bytes (up to hyper's 400 KiB write buffer) until they are full, then for
/// at most the write-stall timeout. An HTTP/2 stream whose client reads the socket but never
/// opens the stream's flow-control window is not bounded in time by this rule (no socket write
/// is pending), only in size by the HTTP/2 send buffer per stream. An HTTP/2 connection holds at most about 8 MiB
/// (see [`Http2Limits`]); 2 cores serve tens of thousands of idle push connections, so memory,
/// not CPU, is what these limits protect.
///
/// # No limit
/// Every time limit longer than [`ServerConfig::LONGEST`] (a year) is taken as a year, so
/// `Duration::MAX` means "no limit" without overflowing a deadline (`now + limit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub(crate) handshake_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) write_stall_timeout: Duration,
    pub(crate) backlog: u32,
    pub(crate) unsent_low_water: u32,
    pub(crate) http2: Http2Limits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_stall_timeout: Duration::from_secs(30),
            backlog: 4096,
            unsent_low_water: 128 * 1024,
            http2: Http2Limits::default(),
        }
    }
}

/// `limit`, at most [`ServerConfig::LONGEST`].
pub(crate) fn clamp_limit(limit: Duration) -> Duration {
    limit.min(ServerConfig::LONGEST)
}

impl ServerConfig {
    /// The longest time limit kept (365 days): a longer one, such as `Duration::MAX` for "no
    /// limit", is shortened to it, because a deadline `now + limit` must be representable.
    pub const LONGEST: Duration = Duration::from_secs(365 * 24 * 60 * 60);

    /// The time a new connection has to deliver its first complete request (default 10 s): the
    /// HTTP/1.1 request head, the HTTP/2 preface and first request, or the WebSocket upgrade
    /// request. Over HTTP/1.1 the same limit applies to every later request head, so an idle
    /// keep-alive connection is closed after it too.
    ///
    /// Why 10 s: a real client sends its request head in one round trip, so 10 s is generous
    /// even on a bad mobile link; a slow-loris peer (one byte every few seconds) must then open
    /// a new connection every 10 s to keep one, and 2,000 of them, which held about 16 KiB each
    /// without a limit, are gone 10 s after they stop completing requests.
    #[must_use]
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = clamp_limit(timeout);
        self
    }

    /// The time a publish body may take to arrive in full (default 30 s). A request whose body
    /// is late is answered `408 Request Timeout`.
    ///
    /// Why 30 s: the largest publish the examples take is 1 MiB, which at 30 s needs 35 KB/s; a
    /// peer that trickles a body cannot keep its request (and the buffered part of its body,
    /// up to the size limit) for longer.
    #[must_use]
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = clamp_limit(timeout);
        self
    }

    /// The time a write may make no progress before the connection is closed (default 30 s).
    ///
    /// Two rules use it, see [`StallGuard`](crate::StallGuard) and [`configure_stream`](crate::configure_stream): a write to the socket that stays
    /// pending (the kernel's send buffer is full because the peer does not read) fails after
    /// this long, and bytes the kernel holds that the peer does not take (`TCP_USER_TIMEOUT`, on
    /// Linux) abort the connection after this long. Keep-alive comments and pings therefore
    /// never count as progress of a peer that reads nothing: they only add to what it does not
    /// take.
    ///
    /// Why 30 s: a reading client drains a full socket buffer in well under a second; 30 s is
    /// longer than any pause a live client makes (a mobile hand-over, a tab in the background
    /// still reads), while a client with a zero window is closed instead of holding its socket,
    /// its kernel buffers (up to a few MiB) and its unsent events forever.
    ///
    /// The clock starts only once the peer's receive window and the send buffer are full: a
    /// client that never reads a quiet stream (small keep-alives only) is held until they
    /// are. An HTTP/2 client that reads the socket but never opens a stream's flow-control
    /// window is not covered (no socket write is pending).
    #[must_use]
    pub fn with_write_stall_timeout(mut self, timeout: Duration) -> Self {
        self.write_stall_timeout = clamp_limit(timeout);
        self
    }

    /// The listen backlog: connections the kernel completes and queues before they are
    /// accepted (default 4096, which Linux clamps to `net.core.somaxconn`, itself 4096 since
    /// Linux 5.4).
    ///
    /// Why 4096: after a restart or a network blip every client reconnects at once; a short
    /// queue drops those connects (the clients retry after a second or more) even though the
    /// server accepts thousands per second. Queued connections cost the kernel about a socket
    /// each, nothing in the process.
    #[must_use]
    pub fn with_backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog.max(1);
        self
    }

    /// `TCP_NOTSENT_LOWAT` on Linux and Android (default 128 KiB, at least 16 KiB): the
    /// unsent bytes the kernel holds for a connection before the socket stops taking writes
    /// (see [`configure_stream`](crate::configure_stream)).
    ///
    /// Why: without it the kernel autotunes a fast link's send buffer to several MiB and
    /// reports the socket writable only when a good part of it has drained, so a healthy but
    /// slow reader can leave a write pending for longer than the
    /// [write-stall timeout](Self::with_write_stall_timeout) while it reads steadily. With 128 KiB
    /// the socket takes bytes again as soon as the peer drains a little, which is progress, and
    /// a peer that never reads makes the kernel hold at most about this much unsent data (plus
    /// what is in flight). 128 KiB keeps a fast link busy for a round trip of a few ms.
    #[must_use]
    pub fn with_unsent_low_water(mut self, bytes: u32) -> Self {
        self.unsent_low_water = bytes.max(16 * 1024);
        self
    }

    /// See [`with_unsent_low_water`](Self::with_unsent_low_water).
    pub fn unsent_low_water(&self) -> u32 {
        self.unsent_low_water
    }

    /// The HTTP/2 settings (see [`Http2Limits`]).
    #[must_use]
    pub fn with_http2(mut self, limits: Http2Limits) -> Self {
        self.http2 = limits;
        self
    }

    /// See [`with_handshake_timeout`](Self::with_handshake_timeout).
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// See [`with_body_timeout`](Self::with_body_timeout).
    pub fn body_timeout(&self) -> Duration {
        self.body_timeout
    }

    /// See [`with_write_stall_timeout`](Self::with_write_stall_timeout).
    pub fn write_stall_timeout(&self) -> Duration {
        self.write_stall_timeout
    }

    /// See [`with_backlog`](Self::with_backlog).
    pub fn backlog(&self) -> u32 {
        self.backlog
    }

    /// See [`with_http2`](Self::with_http2).
    pub fn http2(&self) -> &Http2Limits {
        &self.http2
    }
}

/// What one HTTP/2 connection may hold: the settings the server advertises and the limits it
/// enforces. One set for every HTTP/2 server path (hyper's and h2's builders).
///
/// The worst case of one connection under the defaults is 100 streams × 64 KiB of unsent
/// response data plus a 64 KiB connection receive window and 16 KiB of headers per stream,
/// about 8 MiB; 100 such connections fit in the 1 GiB of a small deployment with room for the
/// broker. Without them (h2's defaults) one client opened 50,000 streams and held 336 MB.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Http2Limits {
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` (default 100, RFC 9113's recommended minimum, and
    /// what h2o and nghttpx ship): the streams a client may have open at once; more are
    /// refused with `REFUSED_STREAM`. A browser opens a handful per page; 100 long polls or
    /// event streams on one connection are plenty.
    pub max_concurrent_streams: u32,
    /// `SETTINGS_MAX_HEADER_LIST_SIZE` (default 16 KiB): the decoded header list of one
    /// request. [`http_builder`](crate::http_builder) also uses it (at least 8 KiB, hyper's
    /// minimum) as the HTTP/1.1 read buffer limit, so an HTTP/1.1 request head (with at most 64
    /// fields) larger than this is answered `431`.
    pub max_header_list_size: u32,
    /// Streams a client may open and reset before the server accepts them (default 20, h2's own
    /// default, which answers the rapid-reset attack, CVE-2023-44487) before the connection
    /// is closed with `ENHANCE_YOUR_CALM`.
    pub max_pending_accept_reset_streams: usize,
    /// Streams the server may reset because of a client's protocol errors (default 256) before
    /// the connection is closed: a client that keeps provoking resets is not worth serving.
    pub max_local_error_reset_streams: usize,
    /// Response bytes buffered per stream beyond what the client's window takes (default 64
    /// KiB, against h2's 400 KiB): what a client that stops reading can make the server hold.
    pub max_send_buffer_size: usize,
    /// Interval of keep-alive PINGs on an idle connection where the server runtime sends them
    /// (hyper: default 30 s); a PING not answered within `keep_alive_timeout` (default 20 s)
    /// closes the connection, so a peer that completed its handshake and went silent does not
    /// keep its socket.
    pub keep_alive_interval: Duration,
    /// See `keep_alive_interval`. Both are used at most [`ServerConfig::LONGEST`].
    pub keep_alive_timeout: Duration,
}

impl Default for Http2Limits {
    fn default() -> Self {
        Self {
            max_concurrent_streams: 100,
            max_header_list_size: 16 * 1024,
            max_pending_accept_reset_streams: 20,
            max_local_error_reset_streams: 256,
            max_send_buffer_size: 64 * 1024,
            keep_alive_interval: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(20),
        }
    }
}
