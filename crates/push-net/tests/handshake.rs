//! The handshake deadline on every server path, against slow-loris peers on loopback, under
//! tokio's paused clock (no test waits for real time).

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use push_net::{Acceptor, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A hyper server on push-net: `200 ok` for every request.
async fn http_server(config: ServerConfig) -> SocketAddr {
    let acceptor = Acceptor::bind("127.0.0.1:0".parse().unwrap(), &config).unwrap();
    let addr = acceptor.local_addr().unwrap();
    tokio::spawn(support::serve_ok(acceptor, config));
    addr
}

/// An h2 server on push-net: accepts requests and answers none (they stay open).
async fn h2_server(config: ServerConfig) -> SocketAddr {
    let mut acceptor = Acceptor::bind("127.0.0.1:0".parse().unwrap(), &config).unwrap();
    let addr = acceptor.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = acceptor.accept().await.unwrap();
            let config = config.clone();
            tokio::spawn(async move {
                let Ok((mut connection, mut next)) = push_net::h2_handshake(stream, &config).await
                else {
                    return;
                };
                let mut held = Vec::new();
                while let Some(request) = next.take() {
                    held.push(request);
                    next = connection.accept().await.and_then(Result::ok);
                }
            });
        }
    });
    addr
}

/// Sends `head` on `stream` one byte every 5 s (after `sent` bytes already went); returns how
/// many bytes in all went out before the server closed the connection, or `None` if it was
/// still open when `head` ran out.
async fn trickle(stream: &mut TcpStream, head: &[u8], mut sent: usize) -> Option<usize> {
    let mut buf = [0u8; 256];
    for byte in head {
        stream.write_all(&[*byte]).await.ok()?;
        sent += 1;
        let wait = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {} // an answer (a 408, SETTINGS): read on until the close
                }
            }
        });
        if wait.await.is_ok() {
            return Some(sent);
        }
    }
    None
}

fn http_head() -> Vec<u8> {
    let mut head = b"GET /events?topic=news HTTP/1.1\r\nHost: a\r\n".to_vec();
    head.extend_from_slice(b"X-Pad: ");
    head.extend_from_slice(&[b'a'; 64]);
    head.extend_from_slice(b"\r\n\r\n");
    head
}

#[tokio::test(start_paused = true)]
async fn a_request_head_sent_a_byte_at_a_time_is_cut_off() {
    let addr = http_server(ServerConfig::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = http_head();
    let sent = trickle(&mut stream, &head, 0).await;
    // 10 s at a byte per 5 s: the connection ends around the second or third byte.
    assert!(
        sent.is_some_and(|n| n <= 3),
        "still open after {} of {} bytes: {sent:?}",
        head.len(),
        head.len()
    );
}

#[tokio::test(start_paused = true)]
async fn an_http2_preface_sent_a_byte_at_a_time_is_cut_off_on_both_paths() {
    for addr in [
        http_server(ServerConfig::default()).await,
        h2_server(ServerConfig::default()).await,
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut preface = PREFACE.to_vec();
        preface.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // an empty SETTINGS
        let sent = trickle(&mut stream, &preface, 0).await;
        assert!(sent.is_some_and(|n| n <= 3), "{addr}: {sent:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_http2_connection_without_a_first_request_is_cut_off() {
    // The preface and SETTINGS come at once, then nothing: the deadline covers the first
    // request too, not only the preface.
    for addr in [
        http_server(ServerConfig::default()).await,
        h2_server(ServerConfig::default()).await,
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(PREFACE).await.unwrap();
        stream
            .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0])
            .await
            .unwrap();
        let sent = trickle(&mut stream, &[0; 8], PREFACE.len() + 9).await;
        assert!(sent.is_some(), "{addr}: still open");
    }
}

#[tokio::test(start_paused = true)]
async fn a_second_request_head_on_a_kept_alive_connection_is_bounded_too() {
    let addr = http_server(ServerConfig::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut response = [0u8; 17];
    stream.read_exact(&mut response).await.unwrap();
    assert_eq!(
        &response, b"HTTP/1.1 200 OK\r\n",
        "the first request is served"
    );
    let mut rest = [0u8; 256];
    let _ = stream.read(&mut rest).await.unwrap();
    let sent = trickle(&mut stream, &http_head(), 0).await;
    assert!(sent.is_some_and(|n| n <= 3), "{sent:?}");
}

#[tokio::test(start_paused = true)]
async fn the_deadline_is_configuration() {
    let config = ServerConfig::default().with_handshake_timeout(Duration::from_secs(60));
    let addr = http_server(config).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let sent = trickle(&mut stream, &http_head(), 0).await;
    assert!(sent.is_some_and(|n| (11..=14).contains(&n)), "{sent:?}");
}

/// Writes `head` and returns the status line of the answer (empty if the server closed first).
async fn status_of(addr: SocketAddr, head: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before the whole head went out.
    let _ = stream.write_all(head).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.lines().next().unwrap_or_default().to_owned()
}

/// `431`, or closed before an answer.
fn refused(status: &str) -> bool {
    status.is_empty() || status.starts_with("HTTP/1.1 431")
}

#[tokio::test(start_paused = true)]
async fn an_http1_request_head_over_the_limit_is_refused() {
    let addr = http_server(ServerConfig::default()).await;
    let small = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    assert_eq!(status_of(addr, small).await, "HTTP/1.1 200 OK");
    // 20 KiB of header values: over the 16 KiB head limit (hyper alone takes ~400 KiB).
    let mut big = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Pad: ".to_vec();
    big.extend_from_slice(&[b'a'; 20 * 1024]);
    big.extend_from_slice(b"\r\n\r\n");
    let status = status_of(addr, &big).await;
    assert!(refused(&status), "served: {status}");
    // 65 small fields: over the 64-field limit.
    let mut many = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n".to_vec();
    for i in 0..65 {
        many.extend_from_slice(format!("X-F{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let status = status_of(addr, &many).await;
    assert!(refused(&status), "served: {status}");
}

#[tokio::test(start_paused = true)]
async fn no_limit_is_a_year_on_both_paths() {
    let config = ServerConfig::default()
        .with_handshake_timeout(Duration::MAX)
        .with_body_timeout(Duration::MAX)
        .with_write_stall_timeout(Duration::MAX);
    assert_eq!(config.handshake_timeout(), ServerConfig::LONGEST);
    let addr = http_server(config.clone()).await;
    let simple = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    assert_eq!(status_of(addr, simple).await, "HTTP/1.1 200 OK");
    // h2: a client that closes at once ends the handshake with an error, not a panic.
    let (server, client) = tokio::io::duplex(64);
    drop(client);
    assert!(push_net::h2_handshake(server, &config).await.is_err());
}
