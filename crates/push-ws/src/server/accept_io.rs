//! Accepting on a byte stream (a TCP connection, a Unix socket, a TLS stream): the HTTP/1.1
//! request head read and parsed here (bounded, with `httparse`), the decision by
//! [`Config::check`], the answer written here, and the stream handed to tokio-tungstenite
//! with whatever the client sent after its request.
//!
//! Doing the handshake ourselves, rather than with tungstenite's, means every request gets an
//! HTTP answer: a plain `GET` or garbage gets a 400, an oversized head a 431, a refused upgrade
//! its 403 / 400, instead of a dropped connection.

use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use push_http::Refusal;

use super::metered::metered_after;
use super::{Accepted, Config, Error, Metered};

/// The largest request head read (request line and headers); more is a 431.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// The most header fields parsed; more is a 431.
const MAX_HEADERS: usize = 64;
/// The most lines a request head may span: its request line, [`MAX_HEADERS`] fields, the blank
/// line, and a few empty lines before the request line (which HTTP/1.1 tells servers to skip).
/// More is a 431. Since a parse happens only when a line ends, this also bounds the parses of
/// one head: without it, empty lines sent one per packet (skipped by the parser, so never
/// counted as fields) would cost a parse of the whole buffer each, thousands per connection.
const MAX_HEAD_LINES: usize = MAX_HEADERS + 6;

/// Reads the upgrade request from `stream`, applies `config` (Origin policy, subprotocols,
/// limits) and completes the handshake. Returns the WebSocket, what was accepted and the upgrade
/// request's head (its URI and headers, for [`drive`](super::drive) and the hooks). The WebSocket reads through a [`Metered`] stream, so
/// `config`'s budget for unfinished messages and its frames-per-message limit apply.
///
/// Every request is answered: a refused upgrade with its 403 / 400 and [`Error::Refused`]; a
/// request that is not a WebSocket upgrade at all (a plain `GET`, another method, HTTP/1.0, or
/// bytes that are not HTTP) with a 400, and a request head over [`MAX_REQUEST_HEAD`] bytes, 64
/// fields or 70 lines with a 431, also as [`Error::Refused`]. A stream that ends before its request is
/// complete is [`Error::Io`] with [`std::io::ErrorKind::UnexpectedEof`].
///
/// The whole handshake is bounded by [`Config::handshake_timeout`] (10 s by default): a
/// peer that sends its request a byte at a time, or not at all, is dropped after it with
/// [`Error::Io`] of kind [`std::io::ErrorKind::TimedOut`].
///
/// # Cancel safety
/// Not cancel safe: dropping the future drops the half-done handshake and the stream with it.
pub async fn accept<S>(
    stream: S,
    config: &Config,
) -> Result<(WebSocketStream<Metered<S>>, Accepted, Parts), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limit = config.handshake_timeout();
    // The handshake's state (its read buffer, tungstenite's handshake machine) lives on the
    // heap only while it runs: inline, it would size the future of every connection task that
    // awaits `accept` and then serves the connection, for the connection's whole life.
    match tokio::time::timeout(limit, Box::pin(handshake(stream, config))).await {
        Ok(done) => done,
        Err(_) => Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no complete upgrade request within {limit:?} (handshake timeout)"),
        ))),
    }
}

/// [`accept`] without its deadline.
async fn handshake<S>(
    mut stream: S,
    config: &Config,
) -> Result<(WebSocketStream<Metered<S>>, Accepted, Parts), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::with_capacity(1024);
    let mut lines = 0usize;
    let (request, head_len) = loop {
        if buf.len() == buf.capacity() {
            // Doubling, up to one byte past the limit (which tells an oversized head).
            let room = (MAX_REQUEST_HEAD + 1).saturating_sub(buf.len()).max(1);
            buf.reserve_exact(buf.len().max(1024).min(room));
        }
        let before = buf.len();
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        // Parsed on the first read (bytes that are not HTTP are refused at once) and then only
        // when a line ends in the new bytes: a head sent a byte at a time costs a parse per line,
        // and a head still incomplete after MAX_HEAD_LINES lines is refused, so that one head
        // costs at most that many parses, not one per byte or per empty line. (Counted in all the
        // bytes read, which may include what the client sent after its head: the limit is
        // applied only to a head the parse finds incomplete.)
        let new_lines = buf[before..].iter().filter(|&&b| b == b'\n').count();
        lines = lines.saturating_add(new_lines);
        if before > 0 && new_lines == 0 && buf.len() <= MAX_REQUEST_HEAD {
            continue;
        }
        match parse_head(&buf) {
            Ok(Some(parsed)) if parsed.1 <= MAX_REQUEST_HEAD => break parsed,
            Ok(Some(_)) => return refuse(&mut stream, too_large()).await,
            Ok(None) if buf.len() <= MAX_REQUEST_HEAD && lines <= MAX_HEAD_LINES => {}
            Ok(None) => return refuse(&mut stream, too_large()).await,
            Err(refusal) => return refuse(&mut stream, refusal).await,
        }
    };
    let accepted = match config.check(&request) {
        Ok(accepted) => accepted,
        Err(refusal) => return refuse(&mut stream, refusal).await,
    };
    stream
        .write_all(&head_bytes(&accepted.response(), 0))
        .await?;
    stream.flush().await?;
    // What the client sent after its head is read through the meter like the rest.
    let rest = buf.split_off(head_len);
    let ws = WebSocketStream::from_raw_socket(
        metered_after(stream, rest.into(), config),
        Role::Server,
        Some(config.websocket_config()),
    )
    .await;
    Ok((ws, accepted, request.into_parts().0))
}

fn too_large() -> Refusal {
    Refusal::new(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "request head too large",
    )
}

/// Writes `refusal`'s response (closing the connection) and returns it as the error.
async fn refuse<S, T>(stream: &mut S, refusal: Refusal) -> Result<T, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let response = refusal.clone().into_response();
    let mut bytes = head_bytes(&response, response.body().len());
    bytes.extend_from_slice(response.body().as_bytes());
    // The refusal is what matters; a peer gone already changes nothing.
    if stream.write_all(&bytes).await.is_ok() {
        let _ = stream.flush().await;
        let _ = stream.shutdown().await;
        // A lingering close: read (and drop) what the client still sends, briefly, so that the
        // socket is not closed with unread data, which resets the connection and can destroy
        // the refusal before the client reads it.
        // (On the heap: an array here would grow every connection task that awaits `accept`,
        // refused or not, by its size, for the task's whole life.)
        let mut sink = vec![0u8; 4096];
        let linger = async {
            let mut drained = 0;
            while drained < LINGER_BYTES {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        };
        let _ = tokio::time::timeout(LINGER, linger).await;
    }
    Err(Error::Refused(refusal))
}

/// How long, and for how many bytes, a refused connection is drained before it is dropped.
const LINGER: std::time::Duration = std::time::Duration::from_millis(500);
const LINGER_BYTES: usize = 64 * 1024;

/// The request head at the start of `buf` and its length; `Ok(None)` while incomplete.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<(Request<()>, usize)>, Refusal> {
    let malformed = || Refusal::new(StatusCode::BAD_REQUEST, "malformed HTTP request");
    #[cfg(test)]
    tests::PARSES.with(|n| n.set(n.get() + 1));
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(too_large()),
        Err(_) => return Err(malformed()),
    };
    let method = Method::from_bytes(parsed.method.unwrap_or_default().as_bytes());
    let mut request = Request::builder()
        .method(method.map_err(|_| malformed())?)
        .uri(parsed.path.unwrap_or_default())
        .version(match parsed.version {
            Some(1) => Version::HTTP_11,
            _ => Version::HTTP_10,
        })
        .body(())
        .map_err(|_| malformed())?;
    let headers = request.headers_mut();
    for field in parsed.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| malformed())?;
        let value = HeaderValue::from_bytes(field.value).map_err(|_| malformed())?;
        headers.append(name, value);
    }
    Ok(Some((request, len)))
}

/// The status line and header fields of `response`, with `Content-Length` and
/// `Connection: close` for a response with a body (a refusal).
fn head_bytes<T>(response: &Response<T>, body_len: usize) -> Vec<u8> {
    let status = response.status();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in response.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if status != StatusCode::SWITCHING_PROTOCOLS {
        out.extend_from_slice(format!("content-length: {body_len}\r\n").as_bytes());
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    thread_local! {
        /// How many times [`parse_head`] ran on this thread.
        pub(super) static PARSES: Cell<usize> = const { Cell::new(0) };
    }

    /// A client that sends `\r\n` one per read, `left` times, then ends; what the server writes
    /// is kept, with how many lines it had read when it first wrote.
    struct Drip {
        left: usize,
        sent: usize,
        sent_at_answer: Option<usize>,
        answer: Vec<u8>,
    }

    impl AsyncRead for Drip {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            if self.left > 0 && self.sent_at_answer.is_none() {
                self.left -= 1;
                self.sent += 1;
                // (A bare `\n` where the server's buffer has room for one byte only.)
                let line: &[u8] = if buf.remaining() >= 2 { b"\r\n" } else { b"\n" };
                buf.put_slice(line);
            }
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Drip {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bytes: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            let sent = self.sent;
            self.sent_at_answer.get_or_insert(sent);
            self.answer.extend_from_slice(bytes);
            Poll::Ready(Ok(bytes.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Empty lines sent one per packet are skipped by the parser (they are not fields), so
    /// only the line count bounds them: the head is refused after a bounded number of lines
    /// and parses, not parsed once per line up to the 16 KiB limit.
    #[tokio::test(start_paused = true)]
    async fn empty_lines_one_per_packet_are_refused_after_a_bounded_number() {
        let mut client = Drip {
            left: 10_000,
            sent: 0,
            sent_at_answer: None,
            answer: Vec::new(),
        };
        PARSES.with(|n| n.set(0));
        let result = accept(&mut client, &Config::default()).await;
        let parses = PARSES.with(Cell::get);
        assert!(
            matches!(&result, Err(Error::Refused(refusal)) if refusal.status() == 431),
            "{:?}",
            result.as_ref().err()
        );
        assert!(
            client.answer.starts_with(b"HTTP/1.1 431 "),
            "{:?}",
            String::from_utf8_lossy(&client.answer)
        );
        let lines = client.sent_at_answer.unwrap();
        assert!(lines <= MAX_HEAD_LINES + 1, "refused after {lines} lines");
        assert!(parses <= MAX_HEAD_LINES + 1, "{parses} parses of one head");
    }

    /// Bytes the client sends right after its head (a first frame), newlines included, do not
    /// count against the head's lines.
    #[tokio::test]
    async fn bytes_after_a_complete_head_do_not_count_as_its_lines() {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let head = "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                    Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        let bytes = [head.as_bytes(), &b"\n".repeat(MAX_HEAD_LINES * 2)].concat();
        client.write_all(&bytes).await.unwrap();
        let result = accept(server, &Config::default()).await;
        assert!(result.is_ok(), "{:?}", result.err());
    }

    #[test]
    fn heads_parse_or_refuse() {
        let upgrade =
            b"GET /ws?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nX: 1\r\nX: 2\r\n\r\nrest";
        for cut in 0..upgrade.len() - 4 {
            assert!(
                matches!(parse_head(&upgrade[..cut]), Ok(None)),
                "cut at {cut}"
            );
        }
        let (request, len) = parse_head(upgrade).unwrap().unwrap();
        assert_eq!(&upgrade[len..], b"rest");
        assert_eq!(request.uri(), "/ws?x=1");
        assert_eq!(request.version(), Version::HTTP_11);
        assert_eq!(request.headers().get_all("x").iter().count(), 2);
        for bad in [
            &b"\x16\x03\x01\x02\x00"[..],
            b"GET / HTTP/9.9\r\n\r\n",
            b"GET / HTTP/1.1\r\nA B: c\r\n\r\n",
        ] {
            assert_eq!(parse_head(bad).unwrap_err().status(), 400, "{bad:?}");
        }
        let many: Vec<u8> = [
            &b"GET / HTTP/1.1\r\n"[..],
            &b"A: b\r\n".repeat(MAX_HEADERS + 1),
            b"\r\n",
        ]
        .concat();
        assert_eq!(parse_head(&many).unwrap_err().status(), 431);
    }

    /// The accept future lives inside every connection task for the task's whole life (a task
    /// is as large as its largest state), so it must stay small: idle memory per connection
    /// depends on it.
    #[test]
    fn the_accept_future_is_small() {
        let (stream, _peer) = tokio::io::duplex(64);
        let config = Config::default();
        let size = size_of_val(&accept(stream, &config));
        assert!(size <= 2048, "the accept future takes {size} bytes");
    }

    #[test]
    fn responses_are_written_as_http1() {
        let refusal = Refusal::new(StatusCode::FORBIDDEN, "origin not allowed").into_response();
        let head = String::from_utf8(head_bytes(&refusal, refusal.body().len())).unwrap();
        assert!(head.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{head}");
        assert!(
            head.contains("content-length: 19\r\n") && head.ends_with("\r\n\r\n"),
            "{head}"
        );
        let head = String::from_utf8(head_bytes(&Accepted::default().response(), 0)).unwrap();
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
    }
}
