//! The client's error: what ended the stream, or (for the transient ones) why it is
//! reconnecting.

use core::fmt;

use http::StatusCode;

/// Why the client could not go on (or, for [`is_transient`](Self::is_transient) errors, why it
/// is reconnecting).
#[non_exhaustive]
#[derive(Debug)]
pub enum ClientError {
    /// The URL is not an `http://` (or, with the `tls` feature, `https://`) URL the client can
    /// use.
    InvalidUrl(String),
    /// A certificate given to [`EventSource::add_root_certificate`](crate::EventSource::add_root_certificate) is not usable (`tls`
    /// feature).
    Tls(String),
    /// The connection could not be made or the request failed (transient: it reconnects).
    Connect(String),
    /// The connection broke while reading (transient: it reconnects).
    Read(String),
    /// The stream broke a decoder limit (transient: it reconnects).
    Decode(crate::Error),
    /// The server answered with a status other than 200 or 204 (final).
    Status(StatusCode),
    /// The server answered 200 with a content type other than `text/event-stream` (final).
    NotEventStream(String),
    /// The reconnection policy's maximum number of retries was reached (final).
    GaveUp,
    /// The server set a last event id that no HTTP header can carry (a control character
    /// other than tab, e.g. `id: a\x01b`): the reconnection sends `resumed_from` instead, the
    /// most recent id seen that can be sent (`None`: no `Last-Event-ID`), so the server may
    /// resend events (transient: it reconnects, after the usual delay).
    LastEventIdNotSendable {
        /// The event source's last event id, as the server set it.
        id: String,
        /// The `Last-Event-ID` the reconnection sends instead.
        resumed_from: Option<String>,
    },
}

impl ClientError {
    /// Whether the client will reconnect after this error.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Connect(_)
                | Self::Read(_)
                | Self::Decode(_)
                | Self::LastEventIdNotSendable { .. }
        )
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(e) => write!(f, "invalid URL: {e}"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Connect(e) => write!(f, "connection failed: {e}"),
            Self::Read(e) => write!(f, "connection lost: {e}"),
            Self::Decode(e) => write!(f, "bad event stream: {e}"),
            Self::Status(s) => write!(f, "the server answered {s}"),
            Self::NotEventStream(t) => {
                write!(f, "the server answered {t:?}, not text/event-stream")
            }
            Self::GaveUp => f.write_str("gave up after the maximum number of retries"),
            Self::LastEventIdNotSendable { id, resumed_from } => {
                write!(
                    f,
                    "the server's last event id {id:?} cannot be sent as a Last-Event-ID header \
                     (it holds a control character); "
                )?;
                match resumed_from {
                    Some(from) => write!(f, "resuming from {from:?}, events may come again"),
                    None => f.write_str("reconnecting without Last-Event-ID"),
                }
            }
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            _ => None,
        }
    }
}
