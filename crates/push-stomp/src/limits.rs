//! The decoder's bounds on what a peer can make it buffer.

/// Bounds on one incoming frame: its total size, its number of headers and the length of one
/// header line. A frame past any of them is refused with the [`Error`](crate::Error) naming
/// the limit, as soon as the bytes received prove it (the decoder never buffers more than
/// `max_frame_size` bytes of a frame to find out).
///
/// The defaults suit a server holding many connections on little memory: a 64 KiB frame takes
/// a message the size the hub's publishers send with room to spare, and 10,000 connections each
/// holding a half-received frame of that size need about 640 MiB in the very worst case (in
/// practice a STOMP-over-WebSocket frame arrives whole in one message, which the WebSocket
/// layer already bounds); 32 headers are three times what any client library sends on a
/// `CONNECT`; 4 KiB per header holds a long JWT in an `Authorization` or `passcode` header.
///
/// ```
/// use push_stomp::Limits;
///
/// let limits = Limits::default().with_max_frame_size(16 << 10);
/// assert_eq!(limits.max_frame_size(), 16 << 10);
/// assert_eq!(limits.max_headers(), 32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_frame_size: usize,
    max_headers: usize,
    max_header_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_size: 64 << 10,
            max_headers: 32,
            max_header_len: 4 << 10,
        }
    }
}

impl Limits {
    /// The largest frame (command line, headers, body and its NUL), in bytes (default 64 KiB).
    #[must_use]
    pub fn with_max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// The largest frame.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// The most headers in one frame (default 32).
    #[must_use]
    pub fn with_max_headers(mut self, count: usize) -> Self {
        self.max_headers = count;
        self
    }

    /// The most headers in one frame.
    pub fn max_headers(&self) -> usize {
        self.max_headers
    }

    /// The longest header line (`name:value` as received, escapes included, without its end of
    /// line), in bytes (default 4 KiB).
    #[must_use]
    pub fn with_max_header_len(mut self, bytes: usize) -> Self {
        self.max_header_len = bytes;
        self
    }

    /// The longest header line.
    pub fn max_header_len(&self) -> usize {
        self.max_header_len
    }
}
