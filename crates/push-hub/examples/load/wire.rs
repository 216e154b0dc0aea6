//! The load client's HTTP/1.1 and SSE reading: one subscriber connection, its response head,
//! a chunked or close-delimited body, and the events in it.

use std::net::SocketAddr;

use bytes::{Buf, BytesMut};
use push_sse::{Decoded, Decoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An open event stream: the socket, the body's framing and the SSE decoder.
pub(crate) struct Stream {
    socket: TcpStream,
    buf: BytesMut,
    chunked: Option<Chunked>,
    decoder: Decoder,
}

/// One event as the client needs it.
pub(crate) struct Seen {
    /// The SSE `id`.
    pub(crate) id: String,
    /// The data's sequence number (its first 8 digits).
    pub(crate) seq: u64,
    /// The publish time in the data (ns since the epoch).
    pub(crate) sent_ns: u128,
}

impl Stream {
    /// Connects to `addr` and sends `GET target` with `extra` header lines; returns once the
    /// response head has arrived (a `200`).
    pub(crate) async fn open(addr: SocketAddr, target: &str, extra: &str) -> std::io::Result<Self> {
        let mut socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: load\r\nAccept: text/event-stream\r\n{extra}\r\n"
        );
        socket.write_all(request.as_bytes()).await?;
        let mut buf = BytesMut::with_capacity(4096);
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            if socket.read_buf(&mut buf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 200") {
            return Err(std::io::Error::other(format!("refused: {head}")));
        }
        let chunked = head
            .contains("transfer-encoding: chunked")
            .then_some(Chunked::Size);
        buf.advance(end);
        let mut stream = Self {
            socket,
            buf: BytesMut::new(),
            chunked,
            decoder: Decoder::new(),
        };
        stream.take_body(buf);
        Ok(stream)
    }

    /// Reads once; the events that completed, through `each`. `Ok(false)` at the end.
    pub(crate) async fn read(&mut self, mut each: impl FnMut(Seen)) -> std::io::Result<bool> {
        // Cancel safe: the bytes are in `self.buf` once read.
        self.buf.reserve(16 * 1024);
        let n = self.socket.read_buf(&mut self.buf).await?;
        let raw = std::mem::take(&mut self.buf);
        self.take_body(raw);
        while let Ok(Some(item)) = self.decoder.poll_ref() {
            if let Decoded::Event(event) = item {
                let data = event.data();
                let seq = data
                    .get(..8)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u64::MAX);
                let sent_ns = data.get(9..29).and_then(|s| s.parse().ok()).unwrap_or(0);
                each(Seen {
                    id: event.last_event_id().to_owned(),
                    seq,
                    sent_ns,
                });
            }
        }
        Ok(n > 0)
    }

    /// Feeds the body bytes in `raw` to the decoder, taking the chunk framing off.
    fn take_body(&mut self, mut raw: BytesMut) {
        let Some(state) = self.chunked.as_mut() else {
            self.decoder.feed(&raw);
            raw.clear();
            self.buf = raw;
            return;
        };
        loop {
            match state {
                Chunked::Size => {
                    let Some(line) = raw.windows(2).position(|w| w == b"\r\n") else {
                        break;
                    };
                    let text = String::from_utf8_lossy(&raw[..line]);
                    let size = text.split(';').next().unwrap_or("0").trim();
                    let size = usize::from_str_radix(size, 16).unwrap_or(0);
                    raw.advance(line + 2);
                    *state = Chunked::Data(size);
                }
                Chunked::Data(left) => {
                    if raw.is_empty() {
                        break;
                    }
                    let n = (*left).min(raw.len());
                    self.decoder.feed(&raw[..n]);
                    raw.advance(n);
                    *left -= n;
                    if *left == 0 {
                        *state = Chunked::End;
                    }
                }
                Chunked::End => {
                    if raw.len() < 2 {
                        break;
                    }
                    raw.advance(2);
                    *state = Chunked::Size;
                }
            }
        }
        // What is left is a partial size line or chunk end, read again with the next bytes.
        self.buf = raw;
    }
}

/// Where a chunked body's reader is.
#[derive(Debug)]
enum Chunked {
    Size,
    Data(usize),
    End,
}

/// A publisher's keep-alive connection: one Mercure publish after the other.
pub(crate) struct Publisher {
    socket: TcpStream,
    authorization: String,
    buf: BytesMut,
}

impl Publisher {
    /// Connects to `addr`; each publish carries `authorization` (an `Authorization` line or
    /// nothing).
    pub(crate) async fn connect(addr: SocketAddr, authorization: String) -> std::io::Result<Self> {
        let socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        Ok(Self {
            socket,
            authorization,
            buf: BytesMut::with_capacity(1024),
        })
    }

    /// `POST /.well-known/mercure` with the form `form`; returns once the `200` and its body
    /// (the update's id) have arrived.
    pub(crate) async fn publish(&mut self, form: &str) -> std::io::Result<()> {
        let request = format!(
            "POST /.well-known/mercure HTTP/1.1\r\nHost: load\r\n{}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            self.authorization,
            form.len()
        );
        self.socket.write_all(request.as_bytes()).await?;
        let end = loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            if self.socket.read_buf(&mut self.buf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no content-length: {head}")))?;
        while self.buf.len() < end + length {
            if self.socket.read_buf(&mut self.buf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        let answer = String::from_utf8_lossy(&self.buf[..end + length]).into_owned();
        self.buf.advance(end + length);
        if head.starts_with("http/1.1 200") {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("publish refused: {answer}")))
        }
    }
}
