//! Loopback servers and raw clients shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;

use push_broker::MemoryBroker;
use push_ws::server::{Config, Ended, Error, Handler, Open, Outbox};
use push_ws::tungstenite::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A server and a client WebSocket over an in-memory pipe (no sockets, no handshake), for tests
/// under tokio's paused clock.
pub async fn pair() -> (
    push_ws::WebSocketStream<tokio::io::DuplexStream>,
    push_ws::WebSocketStream<tokio::io::DuplexStream>,
) {
    let (a, b) = tokio::io::duplex(64 << 10);
    let server = push_ws::WebSocketStream::from_raw_socket(
        a,
        push_ws::tungstenite::protocol::Role::Server,
        None,
    )
    .await;
    let client = push_ws::WebSocketStream::from_raw_socket(
        b,
        push_ws::tungstenite::protocol::Role::Client,
        None,
    )
    .await;
    (server, client)
}

/// A bound on every wait in the tests (they never assert on time).
pub const LIMIT: Duration = Duration::from_secs(10);

/// Sends every data message back.
#[derive(Debug)]
pub struct Echo;

impl Handler for Echo {
    fn on_message(&mut self, message: Message, outbox: &mut Outbox) {
        outbox.push(message);
    }

    fn poll_outgoing(&mut self, _cx: &mut Context<'_>) -> Poll<Option<Message>> {
        Poll::Ready(None)
    }
}

/// What a server connection ended with.
pub type Outcome = Result<Ended, Error>;

/// Drains `stream` until the close handshake ends it, then expects the server connection's
/// outcome to be the client's close (1005, no code, started by the peer).
pub async fn expect_client_close<S, E>(
    stream: &mut S,
    outcomes: &mut mpsc::UnboundedReceiver<Outcome>,
) where
    S: futures_util::Stream<Item = Result<Message, E>> + Unpin,
{
    use futures_util::StreamExt;
    while let Some(Ok(_)) = tokio::time::timeout(LIMIT, stream.next()).await.unwrap() {}
    let outcome = tokio::time::timeout(LIMIT, outcomes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        outcome.unwrap(),
        Ended::Closed {
            code: 1005,
            by_peer: true
        }
    );
}

/// Serves connections on loopback: echo when `broker` is `None`, the push protocol otherwise.
/// Each connection's outcome (or handshake error) is sent on the returned channel.
pub async fn server(
    config: Config,
    broker: Option<MemoryBroker>,
) -> (SocketAddr, mpsc::UnboundedReceiver<Outcome>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (config, broker, tx) = (config.clone(), broker.clone(), tx.clone());
            tokio::spawn(async move {
                let outcome = match push_ws::server::accept(stream, &config).await {
                    Ok((ws, _, request)) => match broker {
                        Some(b) => push_ws::server::drive(ws, request, b, Open, &config).await,
                        None => push_ws::server::run(ws, &config, Echo).await,
                    },
                    Err(e) => Err(e),
                };
                let _ = tx.send(outcome);
            });
        }
    });
    (addr, rx)
}

/// A raw HTTP/1.1 upgrade on a fresh TCP connection; returns the stream and the response head.
pub async fn raw_upgrade(addr: SocketAddr, extra_headers: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra_headers}\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    (stream, String::from_utf8(head).unwrap())
}

/// A masked client frame (mask key zero, so the payload goes as is).
pub fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
    out
}

/// Reads server frames until a close frame and returns its code (None: the stream ended first).
pub async fn read_close_code(stream: &mut TcpStream) -> Option<u16> {
    loop {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await.ok()?;
        let mut len = u64::from(head[1] & 0x7f);
        if len == 126 {
            let mut b = [0u8; 2];
            stream.read_exact(&mut b).await.ok()?;
            len = u64::from(u16::from_be_bytes(b));
        } else if len == 127 {
            let mut b = [0u8; 8];
            stream.read_exact(&mut b).await.ok()?;
            len = u64::from_be_bytes(b);
        }
        let mut payload = vec![0u8; len as usize];
        stream.read_exact(&mut payload).await.ok()?;
        if head[0] & 0x0f == 0x8 {
            return Some(u16::from_be_bytes([payload[0], payload[1]]));
        }
    }
}
