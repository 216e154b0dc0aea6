//! The client's error: what ended the stream, or (for the transient ones) why it is
//! reconnecting.

use core::fmt;

use http::StatusCode;

/// A boxed error from the HTTP stack, kept as the [`source`](std::error::Error::source).
type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the client could not go on (or, for [`is_transient`](Self::is_transient) errors, why it
/// is reconnecting).
///
/// Distinct from the server's [`server::Error`](crate::server::Error) (a client's failures are
/// about its peer and its connection) and from the codec's [`crate::Error`], which
/// [`Decode`](Self::Decode) wraps. The underlying error is kept as the
/// [`source`](std::error::Error::source).
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The URL is not an `http://` (or, with the `tls` feature, `https://`) URL the client can
    /// use (configuration).
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it cannot be parsed, when it cannot.
        source: Option<http::uri::InvalidUri>,
    },
    /// A certificate given to
    /// [`EventSource::with_root_certificate`](super::EventSource::with_root_certificate) is not
    /// usable, or the TLS configuration cannot be built (`tls` feature; configuration).
    Tls(Source),
    /// The connection could not be made or the request failed (transient: it reconnects).
    Connect(Source),
    /// The connection broke while reading (transient: it reconnects).
    Read(Source),
    /// The stream broke a decoder limit (peer input; transient: it reconnects).
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

impl Error {
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

    /// The HTTP status a gateway relaying this stream would answer with (see
    /// [`push_http::HttpStatus`]): the upstream's own status when it answered one, 502 for a
    /// broken or malformed upstream, 503 once the client gave up, 500 for the client's own
    /// configuration.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidUrl { .. } | Self::Tls(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Status(status) => *status,
            Self::GaveUp => StatusCode::SERVICE_UNAVAILABLE,
            Self::Connect(_)
            | Self::Read(_)
            | Self::Decode(_)
            | Self::NotEventStream(_)
            | Self::LastEventIdNotSendable { .. } => StatusCode::BAD_GATEWAY,
        }
    }
}

impl push_http::HttpStatus for Error {
    fn status(&self) -> StatusCode {
        Self::status(self)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl {
                url,
                source: Some(e),
            } => write!(f, "invalid URL {url:?}: {e}"),
            Self::InvalidUrl { url, source: None } => write!(
                f,
                "invalid URL {url:?}: only absolute {} URLs are supported",
                super::event_source::SCHEMES
            ),
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

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidUrl { source, .. } => source.as_ref().map(|e| e as _),
            Self::Tls(e) | Self::Connect(e) | Self::Read(e) => Some(&**e),
            Self::Decode(e) => Some(e),
            Self::Status(_)
            | Self::NotEventStream(_)
            | Self::GaveUp
            | Self::LastEventIdNotSendable { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn sources_are_kept_and_statuses_are_gateway_statuses() {
        let bad = "http://[".parse::<http::Uri>().unwrap_err();
        let e = Error::InvalidUrl {
            url: "http://[".into(),
            source: Some(bad),
        };
        assert!(e.source().is_some());
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let e = Error::Decode(crate::Error::LineTooLong);
        assert_eq!(
            e.source().map(ToString::to_string),
            Some(crate::Error::LineTooLong.to_string())
        );
        assert!(e.is_transient());
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
        let io = std::io::Error::other("reset");
        let e = Error::Read(Box::new(io));
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("reset")
        );
        assert_eq!(
            Error::Status(StatusCode::NOT_FOUND).status(),
            StatusCode::NOT_FOUND
        );
        assert!(!Error::GaveUp.is_transient());
    }
}
