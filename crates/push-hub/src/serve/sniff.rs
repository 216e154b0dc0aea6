//! Which protocol a new connection speaks, read from its first bytes without consuming them
//! (`TcpStream::peek`), so whatever serves it next reads the stream from its first byte.
//!
//! - `0x16` (a TLS handshake record: the ClientHello) → TLS;
//! - `PRI` (the start of the HTTP/2 connection preface, `PRI * HTTP/2.0`) → h2c with prior
//!   knowledge (no HTTP/1.1 method is spelt `PRI`; `PROPFIND` differs at the third byte);
//! - anything else → HTTP/1.1 (hyper answers what is not HTTP with 400).
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
    let peeking = async {
        let mut buf = [0_u8; DECIDING];
        let mut pause = Duration::from_millis(5);
        loop {
            let n = stream.peek(&mut buf).await?;
            if n == 0 {
                return Ok(Sniffed::Closed);
            }
            if let Some(sniffed) = decide(&buf[..n]) {
                return Ok(sniffed);
            }
            // The bytes so far are a prefix of the preface: wait for more (peek returns at once
            // while data is waiting, so pause between looks).
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
