//! The loopback HTTP/1.1 of the server tests: a hyper server for any service on a port of its
//! own, and a raw client that reads a response as it streams (an event stream never ends by
//! itself, so a test reads up to what it waits for).

use std::net::SocketAddr;
use std::time::Duration;

use push_net::HttpService;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Bounds every wait of [`RawClient`]: a hang fails instead of blocking CI.
pub const LIMIT: Duration = Duration::from_secs(10);

/// Serves `service` (a clone for each connection) over hyper's HTTP/1.1 on a loopback port
/// chosen by the system, until the runtime ends; the address.
///
/// # Panics
/// When no loopback port can be bound.
pub async fn serve_http1<S: HttpService + Clone>(service: S) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A raw HTTP/1.1 exchange: the request sent as given, then the response read as it streams.
#[derive(Debug)]
pub struct RawClient {
    stream: TcpStream,
    received: Vec<u8>,
}

impl RawClient {
    /// Connects to `addr` and sends `request` (the whole request, as bytes on the wire).
    ///
    /// # Panics
    /// When the connection or the write fails.
    pub async fn send(addr: SocketAddr, request: &str) -> Self {
        let mut stream = TcpStream::connect(addr).await.expect("connected");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("request sent");
        Self {
            stream,
            received: Vec::new(),
        }
    }

    /// Sends `GET target` with `headers` (each line ending with CRLF).
    pub async fn get(addr: SocketAddr, target: &str, headers: &str) -> Self {
        let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n");
        Self::send(addr, &request).await
    }

    /// Reads until `needle` has arrived; everything received so far, as text.
    ///
    /// # Panics
    /// When the peer closes first, or `needle` does not come within [`LIMIT`].
    pub async fn until(&mut self, needle: &str) -> String {
        let closed = self.read_while(|received| !received.contains(needle)).await;
        assert!(
            !closed,
            "connection closed before {needle:?}: {}",
            self.text()
        );
        self.text()
    }

    /// Reads until the peer closes; everything received, as text.
    ///
    /// # Panics
    /// When the peer does not close within [`LIMIT`].
    pub async fn to_end(&mut self) -> String {
        self.read_while(|_| true).await;
        self.text()
    }

    /// Everything received so far.
    pub fn received(&self) -> &[u8] {
        &self.received
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.received).into_owned()
    }

    /// Reads while `more` says so of the text received; whether the peer closed.
    async fn read_while(&mut self, more: impl Fn(&str) -> bool) -> bool {
        let reading = async {
            let mut buf = [0u8; 4096];
            while more(&String::from_utf8_lossy(&self.received)) {
                let n = self.stream.read(&mut buf).await.expect("read");
                if n == 0 {
                    return true;
                }
                self.received.extend_from_slice(&buf[..n]);
            }
            false
        };
        match tokio::time::timeout(LIMIT, reading).await {
            Ok(closed) => closed,
            Err(_) => panic!("nothing more within {LIMIT:?}: {}", self.text()),
        }
    }
}
