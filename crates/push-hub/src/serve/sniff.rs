//! Which protocol a new connection speaks, read from its first bytes without consuming them
//! (`TcpStream::peek`), so whatever serves it next reads the stream from its first byte.
//!
//! - `0x16` (a TLS handshake record: the ClientHello) → TLS;
//! - `PRI` (the start of the HTTP/2 connection preface, `PRI * HTTP/2.0`) → h2c with prior
//!   knowledge (no HTTP/1.1 method is spelt `PRI`; `PROPFIND` differs at the third byte);
//! - anything else → HTTP/1.1 (hyper answers what is not HTTP with 400).
//!
//! On a plain HTTP/1.1 connection the first request line also says whether it opens a Mercure
//! subscription ([`is_subscribe`]): those go to the lean path, everything else to hyper.
//!
//! A peer sends its first bytes in one segment, so one peek decides; a peer that trickles them
//! is peeked again after short pauses (5 ms doubling to 200 ms), all within the request-head
//! timeout.

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A TLS ClientHello.
    Tls,
    /// The HTTP/2 preface (h2c, prior knowledge).
    H2c,
    /// Anything else: HTTP/1.1.
    Http1,
    /// The peer closed before sending anything.
    Closed,
}

/// The longest prefix needed to decide.
const DECIDING: usize = 3;

/// Decides from `bytes` (at least one), or `None` when more are needed.
pub fn decide(bytes: &[u8]) -> Option<Sniffed> {
    const PREFACE: &[u8] = b"PRI";
    match bytes {
        [] => None,
        [0x16, ..] => Some(Sniffed::Tls),
        _ if bytes.len() >= DECIDING => Some(if bytes.starts_with(PREFACE) {
            Sniffed::H2c
        } else {
            Sniffed::Http1
        }),
        _ if PREFACE.starts_with(bytes) => None,
        _ => Some(Sniffed::Http1),
    }
}

/// Peeks at `stream` until its protocol is known, at most `timeout`.
///
/// # Errors
/// The socket's error, or [`io::ErrorKind::TimedOut`] when the peer sent too little in time.
pub async fn sniff(stream: &TcpStream, timeout: Duration) -> io::Result<Sniffed> {
    let sniffed = peek_until::<DECIDING, _>(stream, timeout, decide).await?;
    Ok(sniffed.unwrap_or(Sniffed::Closed))
}

/// The request line that opens a Mercure subscription (`GET` or `HEAD` of the hub's path, with
/// or without a query): what the lean path is for.
const SUBSCRIBE_LINES: [&[u8]; 2] = [b"GET /.well-known/mercure", b"HEAD /.well-known/mercure"];

/// The longest prefix [`decide_subscribe`] reads: the longer request line and the byte after.
const SUBSCRIBE_DECIDING: usize = 26;

/// Whether an HTTP/1.1 connection's first request is a Mercure subscribe, from its first
/// bytes; `None` when more are needed.
pub fn decide_subscribe(bytes: &[u8]) -> Option<bool> {
    for line in SUBSCRIBE_LINES {
        if bytes.len() <= line.len() {
            if line.starts_with(bytes) {
                return None;
            }
        } else if bytes.starts_with(line) {
            // The path ends there: a query or the space before the version.
            return Some(matches!(bytes[line.len()], b'?' | b' '));
        }
    }
    Some(false)
}

/// Peeks at an HTTP/1.1 connection until it is known whether its first request is a Mercure
/// subscribe (`false` when the peer closed or sent too little in `timeout`: hyper then
/// answers whatever it is).
pub async fn is_subscribe(stream: &TcpStream, timeout: Duration) -> bool {
    peek_until::<SUBSCRIBE_DECIDING, _>(stream, timeout, decide_subscribe)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Peeks at up to `N` bytes until `decide` says something (`None` when the peer closed first).
async fn peek_until<const N: usize, T>(
    stream: &TcpStream,
    timeout: Duration,
    decide: impl Fn(&[u8]) -> Option<T>,
) -> io::Result<Option<T>> {
    let peeking = async {
        let mut buf = [0_u8; N];
        let mut pause = Duration::from_millis(5);
        loop {
            let n = stream.peek(&mut buf).await?;
            if n == 0 {
                return Ok(None);
            }
            if let Some(decided) = decide(&buf[..n]) {
                return Ok(Some(decided));
            }
            // The bytes so far do not decide: wait for more (peek returns at once while data
            // is waiting, so pause between looks).
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    };
    tokio::time::timeout(timeout, peeking)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request within the timeout"))?
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn first_bytes_decide() {
        assert_eq!(decide(&[0x16, 0x03, 0x01]), Some(Sniffed::Tls));
        assert_eq!(decide(&[0x16]), Some(Sniffed::Tls));
        assert_eq!(decide(b"PRI * HTTP/2.0"), Some(Sniffed::H2c));
        assert_eq!(decide(b"POST /"), Some(Sniffed::Http1));
        assert_eq!(decide(b"PROPFIND"), Some(Sniffed::Http1));
        assert_eq!(decide(b"GET / HTTP/1.1"), Some(Sniffed::Http1));
        assert_eq!(decide(b"P"), None);
        assert_eq!(decide(b"PR"), None);
        assert_eq!(decide(b"G"), Some(Sniffed::Http1));
        assert_eq!(decide(b""), None);
    }

    #[test]
    fn subscribes_are_told_from_other_requests() {
        assert_eq!(
            decide_subscribe(b"GET /.well-known/mercure?topic=a HTTP/1.1"),
            Some(true)
        );
        assert_eq!(
            decide_subscribe(b"GET /.well-known/mercure HTTP/1.1"),
            Some(true)
        );
        assert_eq!(decide_subscribe(b"HEAD /.well-known/mercure?x"), Some(true));
        assert_eq!(
            decide_subscribe(b"GET /.well-known/mercure/subscriptions"),
            Some(false)
        );
        assert_eq!(
            decide_subscribe(b"POST /.well-known/mercure HTTP/1.1"),
            Some(false)
        );
        assert_eq!(decide_subscribe(b"GET /ws?topic=a HTTP/1.1"), Some(false));
        assert_eq!(decide_subscribe(b"GET /.well-kn"), None);
        assert_eq!(decide_subscribe(b"GET /.well-known/mercure"), None);
        assert_eq!(decide_subscribe(b"HE"), None);
        assert!(SUBSCRIBE_LINES.iter().all(|l| l.len() < SUBSCRIBE_DECIDING));
    }

    #[tokio::test]
    async fn a_trickled_preface_is_waited_for_and_a_silent_peer_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(b"P").await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            c.write_all(b"RI * HTTP/2.0\r\n").await.unwrap();
            c
        });
        let (server, _) = listener.accept().await.unwrap();
        let sniffed = sniff(&server, Duration::from_secs(5)).await.unwrap();
        assert_eq!(sniffed, Sniffed::H2c);
        let _client = client.await.unwrap();

        let _silent = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let error = sniff(&server, Duration::from_millis(50)).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);

        drop(TcpStream::connect(addr).await.unwrap());
        let (server, _) = listener.accept().await.unwrap();
        assert_eq!(
            sniff(&server, Duration::from_secs(5)).await.unwrap(),
            Sniffed::Closed
        );
    }
}
