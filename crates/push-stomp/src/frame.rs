//! The vocabulary of the wire: a [`Frame`] (command, headers, body), its [`Command`], the
//! protocol [`Version`] that decides how header text is escaped, and what the decoder yields
//! ([`Item`]).

use bytes::Bytes;

/// A STOMP protocol version, as negotiated by `accept-version` / `version` or by the WebSocket
/// subprotocol (`v10.stomp`, `v11.stomp`, `v12.stomp`).
///
/// It decides how header names and values are escaped (see [`encode`](crate::encode)):
/// 1.0 has no escaping, 1.1 escapes `\n`, `\c` and `\\`, 1.2 adds `\r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// STOMP 1.0.
    V1_0,
    /// STOMP 1.1.
    V1_1,
    /// STOMP 1.2.
    V1_2,
}

impl Version {
    /// Every version, newest first (the order a server prefers them in).
    pub const ALL: [Self; 3] = [Self::V1_2, Self::V1_1, Self::V1_0];

    /// The version's text in `accept-version` and `version` headers (`"1.2"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_0 => "1.0",
            Self::V1_1 => "1.1",
            Self::V1_2 => "1.2",
        }
    }

    /// The version a header's text names (`"1.2"`), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// The WebSocket subprotocol that selects this version (`"v12.stomp"`).
    pub fn subprotocol(self) -> &'static str {
        match self {
            Self::V1_0 => "v10.stomp",
            Self::V1_1 => "v11.stomp",
            Self::V1_2 => "v12.stomp",
        }
    }

    /// The version a WebSocket subprotocol selects (`"v12.stomp"`), if any.
    pub fn from_subprotocol(protocol: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.subprotocol() == protocol)
    }
}

/// A frame's command: the client's and the server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Client: opens a session (headers never escaped).
    Connect,
    /// Client: opens a session, the 1.1+ name that tells a STOMP server from an HTTP one.
    Stomp,
    /// Client: sends a message to a destination.
    Send,
    /// Client: subscribes to a destination.
    Subscribe,
    /// Client: ends a subscription.
    Unsubscribe,
    /// Client: acknowledges a message.
    Ack,
    /// Client: refuses a message.
    Nack,
    /// Client: begins a transaction.
    Begin,
    /// Client: commits a transaction.
    Commit,
    /// Client: aborts a transaction.
    Abort,
    /// Client: ends the session.
    Disconnect,
    /// Server: the session is open (headers never escaped).
    Connected,
    /// Server: a message of a subscription.
    Message,
    /// Server: a frame that asked for a receipt was processed.
    Receipt,
    /// Server: something went wrong; the server closes the connection after it.
    Error,
}

impl Command {
    /// Every command.
    pub const ALL: [Self; 15] = [
        Self::Connect,
        Self::Stomp,
        Self::Send,
        Self::Subscribe,
        Self::Unsubscribe,
        Self::Ack,
        Self::Nack,
        Self::Begin,
        Self::Commit,
        Self::Abort,
        Self::Disconnect,
        Self::Connected,
        Self::Message,
        Self::Receipt,
        Self::Error,
    ];

    /// The longest command's length (`UNSUBSCRIBE`, `DISCONNECT`…): a command line longer than
    /// this (plus an optional CR) names no command.
    pub(crate) const MAX_LEN: usize = 11;

    /// The command's name on the wire (`"SEND"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Stomp => "STOMP",
            Self::Send => "SEND",
            Self::Subscribe => "SUBSCRIBE",
            Self::Unsubscribe => "UNSUBSCRIBE",
            Self::Ack => "ACK",
            Self::Nack => "NACK",
            Self::Begin => "BEGIN",
            Self::Commit => "COMMIT",
            Self::Abort => "ABORT",
            Self::Disconnect => "DISCONNECT",
            Self::Connected => "CONNECTED",
            Self::Message => "MESSAGE",
            Self::Receipt => "RECEIPT",
            Self::Error => "ERROR",
        }
    }

    /// The command a line names (case-sensitive, as the specification's grammar), if any.
    pub fn parse(name: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().as_bytes() == name)
    }

    /// Whether the frame's headers are written without escaping in every version: `CONNECT`,
    /// `STOMP` and `CONNECTED`, which must stay readable by a 1.0 peer before a version is
    /// agreed.
    pub fn is_unescaped(self) -> bool {
        matches!(self, Self::Connect | Self::Stomp | Self::Connected)
    }
}

/// One STOMP frame: a command, headers in wire order (a repeated header is kept; the first one
/// is the one that counts, see [`Frame::header`]) and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    command: Command,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Frame {
    /// A frame with no header and an empty body.
    pub fn new(command: Command) -> Self {
        Self {
            command,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Appends a header (after any of the same name, which keep precedence).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push_header(name, value);
        self
    }

    /// Appends a header (after any of the same name, which keep precedence).
    pub fn push_header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.headers.push((name.into(), value.into()));
    }

    /// Sets the body without touching the headers: the encoder refuses a body holding a NUL
    /// unless a `content-length` header gives its length ([`with_body_and_length`](Self::with_body_and_length)).
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the body and appends its `content-length` header (any body, NUL bytes included).
    #[must_use]
    pub fn with_body_and_length(self, body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let length = body.len().to_string();
        self.with_header("content-length", length).with_body(body)
    }

    /// The command.
    pub fn command(&self) -> Command {
        self.command
    }

    /// The value of the first header named `name` (header names are case-sensitive); a repeated
    /// header's later values are kept on the frame but do not count, as the specification says.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every header in wire order, repeated ones included.
    pub fn headers(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Splits the frame into its parts.
    pub fn into_parts(self) -> (Command, Vec<(String, String)>, Bytes) {
        (self.command, self.headers, self.body)
    }
}

/// What the [`Decoder`](crate::Decoder) yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A frame.
    Frame(Frame),
    /// An end of line between frames: a heart-beat.
    Heartbeat,
}
