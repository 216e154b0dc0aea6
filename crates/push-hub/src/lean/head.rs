//! One HTTP/1.1 request head, read with httparse under the limits of push-net's hyper path:
//! its size, its number of fields and the time it may take.

use std::io;

use bytes::{BufMut, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, Version};
use push_http::grammar::has_token;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

/// The path the lean path serves: Mercure's hub URL. Any query goes with it.
pub const MERCURE_PATH: &str = "/.well-known/mercure";

/// The most header fields a request head may have: push-net's HTTP/1.1 limit (hyper's default
/// is 100; a browser sends about 20).
pub const MAX_HEADERS: usize = 64;

/// The first read's size: an `EventSource` request with a cookie fits.
const FIRST_READ: usize = 1024;

/// A complete request head read from the connection.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "returned once per request and taken apart at once; never stored"
)]
pub(crate) enum Head {
    /// A `GET` or `HEAD` of [`MERCURE_PATH`].
    Subscribe(Subscribe),
    /// Any other request: every byte read so far, its head included, for hyper to read again.
    Other(BytesMut),
}

/// A subscribe request, parsed.
#[derive(Debug)]
pub(crate) struct Subscribe {
    pub(crate) parts: Parts,
    /// The bytes after the head (a pipelined request), in an allocation of their own: the
    /// head's buffer is freed with the head.
    pub(crate) rest: BytesMut,
    /// Whether the connection may carry another request after a complete answer: HTTP/1.1,
    /// no `Connection: close`, and no request body (which would have to be skipped first).
    pub(crate) reusable: bool,
}

/// Why no head was read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The peer closed the connection before a complete head: nothing to answer.
    Closed,
    /// The head did not arrive within the handshake timeout: closed without an answer, as
    /// hyper's header-read timeout does.
    TimedOut,
    /// The head is larger than the limit, or has more than [`MAX_HEADERS`] fields: `431`.
    TooLarge,
    /// Not an HTTP/1.x request head: `400`.
    Malformed,
    /// The socket failed.
    Io(io::Error),
}

/// Reads the next request head from `io`, after the bytes `buf` already holds, until
/// `deadline`; at most `max` bytes.
pub(crate) async fn read_head<T: AsyncRead + Unpin>(
    io: &mut T,
    mut buf: BytesMut,
    max: usize,
    deadline: Instant,
) -> Result<Head, HeadError> {
    loop {
        if !buf.is_empty()
            && let Some(head) = parse(&mut buf, max)?
        {
            return Ok(head);
        }
        let room = max.saturating_sub(buf.len());
        if room == 0 {
            return Err(HeadError::TooLarge);
        }
        // Grows by doubling, so a 16 KiB head takes five reads and a usual one a single one.
        buf.reserve(room.min(FIRST_READ.max(buf.len())));
        let mut limited = (&mut buf).limit(room);
        match tokio::time::timeout_at(deadline, io.read_buf(&mut limited)).await {
            Err(_) => return Err(HeadError::TimedOut),
            Ok(Ok(0)) => return Err(HeadError::Closed),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(HeadError::Io(e)),
        }
    }
}

/// The head at the start of `buf`, if it is complete.
fn parse(buf: &mut BytesMut, max: usize) -> Result<Option<Head>, HeadError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= max => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(_) => return Err(HeadError::Malformed),
    };
    let method = match request.method {
        Some("GET") => Method::GET,
        Some("HEAD") => Method::HEAD,
        _ => return Ok(Some(Head::Other(std::mem::take(buf)))),
    };
    let target = request.path.unwrap_or_default();
    // Origin form (`/path?query`) is what clients send; the absolute form is read by `Uri`.
    let uri: Uri = target.parse().map_err(|_| HeadError::Malformed)?;
    if uri.path() != MERCURE_PATH {
        return Ok(Some(Head::Other(std::mem::take(buf))));
    }
    let mut headers = HeaderMap::with_capacity(request.headers.len());
    for field in request.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes());
        let value = HeaderValue::from_bytes(field.value);
        match (name, value) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => return Err(HeadError::Malformed),
        }
    }
    let version = match request.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let body = headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get_all(CONTENT_LENGTH)
            .iter()
            .any(|length| length.as_bytes().trim_ascii() != b"0");
    let reusable = version == Version::HTTP_11
        && !body
        && !has_token(headers.get_all(CONNECTION).iter(), "close");
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.method = method;
    parts.uri = uri;
    parts.version = version;
    parts.headers = headers;
    let rest = BytesMut::from(&buf[len..]);
    Ok(Some(Head::Subscribe(Subscribe {
        parts,
        rest,
        reusable,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Option<Head>, HeadError> {
        parse(&mut BytesMut::from(text), 16 * 1024)
    }

    #[test]
    fn a_subscribe_head_is_parsed_with_its_query_and_fields() {
        let head = parsed(
            "GET /.well-known/mercure?topic=a%2Fb HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1-2\r\n\r\nGET /next",
        );
        let Ok(Some(Head::Subscribe(subscribe))) = head else {
            panic!("not a subscribe: {head:?}");
        };
        assert_eq!(subscribe.parts.method, Method::GET);
        assert_eq!(subscribe.parts.uri.query(), Some("topic=a%2Fb"));
        assert_eq!(subscribe.parts.headers["last-event-id"], "1-2");
        assert_eq!(&subscribe.rest[..], b"GET /next");
        assert!(subscribe.reusable);
    }

    #[test]
    fn other_paths_and_methods_go_to_hyper_whole() {
        for text in [
            "GET /.well-known/mercure/subscriptions HTTP/1.1\r\n\r\n",
            "POST /.well-known/mercure HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            "GET /healthz HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        ] {
            let Ok(Some(Head::Other(bytes))) = parsed(text) else {
                panic!("{text:?} is not handed on");
            };
            assert_eq!(&bytes[..], text.as_bytes());
        }
    }

    #[test]
    fn a_body_a_close_or_http_1_0_ends_the_connection_after_the_answer() {
        for text in [
            "GET /.well-known/mercure HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            "GET /.well-known/mercure HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET /.well-known/mercure HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n",
            "GET /.well-known/mercure HTTP/1.0\r\n\r\n",
        ] {
            let Ok(Some(Head::Subscribe(subscribe))) = parsed(text) else {
                panic!("{text:?} is not a subscribe");
            };
            assert!(!subscribe.reusable, "{text:?}");
        }
    }

    #[test]
    fn limits_and_bad_heads_are_errors() {
        let many: String = (0..=MAX_HEADERS).map(|i| format!("x{i}: y\r\n")).collect();
        let text = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(parsed(&text), Err(HeadError::TooLarge)));
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(100));
        assert!(matches!(
            parse(&mut BytesMut::from(&long[..]), 64),
            Err(HeadError::TooLarge)
        ));
        assert!(matches!(
            parsed("GET /.well-known/mercure HTTP/1.1\r\n"),
            Ok(None)
        ));
        assert!(matches!(
            parsed("GET\0 / HTTP/1.1\r\n\r\n"),
            Err(HeadError::Malformed)
        ));
    }
}
