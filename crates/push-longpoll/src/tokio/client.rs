//! The client loop: poll, yield the events, re-poll from `next`; back off on errors.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use push_core::Cursor;
use tokio::net::TcpStream;

use crate::config::splitmix64;
#[cfg(feature = "tls")]
use crate::tokio::tls::Tls;
use crate::{CURSOR_HEADER, Error};

/// The largest response body the client accepts.
const MAX_BODY: usize = 64 << 20;

/// One item of the event stream a [`Client`] reads.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// An event.
    Event(ClientEvent),
    /// Events were lost before the events that follow (the server restarted, or history was
    /// evicted); `next` is the batch's continue cursor.
    Gap {
        /// The cursor the client continues from.
        next: Cursor,
    },
}

/// An event as the client receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientEvent {
    /// The event's cursor.
    pub id: Cursor,
    /// The event type (`"message"` when the publisher gave none).
    pub event: String,
    /// The payload.
    pub data: String,
}

/// Exponential backoff with jitter: attempt `n` (1-based) waits a random time in
/// `[d/2, d]`, where `d = min(initial * 2^(n-1), max)`.
///
/// ```
/// use std::time::Duration;
/// use push_longpoll::Backoff;
///
/// let b = Backoff::default();
/// let d = b.delay(3, 42);
/// assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(400));
/// assert!(b.delay(100, 7) <= Duration::from_secs(30));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// The first delay. Default 100 ms.
    pub initial: Duration,
    /// The cap. Default 30 s.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (1-based), jittered deterministically by `seed`.
    pub fn delay(&self, attempt: u32, seed: u64) -> Duration {
        let exp = attempt.saturating_sub(1).min(31);
        let full = self.initial.saturating_mul(1 << exp).min(self.max);
        let half = full / 2;
        let span = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let extra = if span == 0 {
            0
        } else {
            splitmix64(seed) % span
        };
        half + Duration::from_nanos(extra)
    }
}

/// A long-poll client: [`next`](Self::next) yields the events after its cursor, one at a time,
/// re-polling from each answer's `next` (or `Push-Cursor` on `204`/`304`).
///
/// Errors are returned to the caller one by one; the following call first waits the
/// [`Backoff`] delay, so a loop that logs transient errors and goes on never hammers a
/// failing server. Dropping a `next` future is safe: the cursor moves only when a whole answer
/// has been parsed.
#[derive(Debug)]
pub struct Client {
    authority: String,
    path: String,
    query: String,
    since: Option<Cursor>,
    backoff: Backoff,
    failures: u32,
    seed: u64,
    pending: VecDeque<Item>,
    connection: Option<SendRequest<Empty<Bytes>>>,
    /// For `https://`: the TLS set-up (`tls` feature).
    #[cfg(feature = "tls")]
    tls: Option<Tls>,
}

impl Client {
    /// A client for a poll URL such as `http://127.0.0.1:8080/poll?topic=news`; `https://` with
    /// the `tls` feature (the server's certificate checked against the Mozilla roots of
    /// `webpki-roots` and any [added](Self::add_root_certificate)). A `since` parameter in the
    /// URL is the starting cursor.
    pub fn new(url: &str) -> Result<Self, Error> {
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| Error::Transport(Box::new(e)))?;
        let https = uri.scheme_str() == Some("https");
        if uri.scheme_str() != Some("http") && !(https && cfg!(feature = "tls")) {
            return Err(Error::Transport(
                "only http:// URLs are supported (https:// needs the `tls` feature)".into(),
            ));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| Error::Transport("the URL has no host".into()))?;
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        #[cfg(feature = "tls")]
        let tls = if https {
            Some(Tls::for_host(authority.host())?)
        } else {
            None
        };
        let mut since = None;
        let mut kept = Vec::new();
        for pair in uri.query().unwrap_or_default().split('&') {
            match pair.strip_prefix("since=") {
                Some(c) if !c.is_empty() => {
                    since = Some(Cursor::parse(c).map_err(Error::InvalidSince)?);
                }
                Some(_) => {}
                None if pair.is_empty() => {}
                None => kept.push(pair),
            }
        }
        Ok(Self {
            authority: format!("{}:{port}", authority.host()),
            path: uri.path().to_owned(),
            query: kept.join("&"),
            since,
            backoff: Backoff::default(),
            failures: 0,
            seed: u64::from(port) ^ 0x2545_f491_4f6c_dd1d,
            pending: VecDeque::new(),
            connection: None,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// Also trusts this certificate authority (a DER certificate) for `https://`: a private PKI,
    /// or a self-signed certificate in a test. Without effect on an `http://` client.
    ///
    /// # Errors
    /// [`Error::Transport`] when the certificate cannot be used as a trust anchor.
    #[cfg(feature = "tls")]
    pub fn add_root_certificate(mut self, der: &[u8]) -> Result<Self, Error> {
        self.tls = self.tls.take().map(|tls| tls.with_root(der)).transpose()?;
        Ok(self)
    }

    /// Starts after `cursor`.
    #[must_use]
    pub fn since(mut self, cursor: Cursor) -> Self {
        self.since = Some(cursor);
        self
    }

    /// Sets the backoff policy.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The cursor the next poll asks with (`None`: from now, before the first answer).
    pub fn cursor(&self) -> Option<Cursor> {
        self.since
    }

    /// The next item, polling as often as needed. After an error, the next call first waits.
    pub async fn next(&mut self) -> Result<Item, Error> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(item);
            }
            if self.failures > 0 {
                self.seed = self.seed.wrapping_add(1);
                tokio::time::sleep(self.backoff.delay(self.failures, self.seed)).await;
            }
            match self.poll_once().await {
                Ok(items) => {
                    self.failures = 0;
                    self.pending.extend(items);
                }
                Err(e) => {
                    self.failures = self.failures.saturating_add(1);
                    self.connection = None;
                    return Err(e);
                }
            }
        }
    }

    /// One poll: sends the request, waits for the answer, moves the cursor, returns its items
    /// (none on `204`/`304`).
    pub async fn poll_once(&mut self) -> Result<Vec<Item>, Error> {
        let mut target = format!("{}?{}", self.path, self.query);
        if let Some(since) = self.since {
            if !self.query.is_empty() {
                target.push('&');
            }
            target.push_str(&format!("since={since}"));
        }
        let request = Request::get(target)
            .header(http::header::HOST, &self.authority)
            .body(Empty::<Bytes>::new())
            .map_err(|e| Error::Transport(Box::new(e)))?;
        let sender = self.connect().await?;
        let response = sender.send_request(request).await.map_err(transport)?;
        let status = response.status();
        let header_cursor = response
            .headers()
            .get(CURSOR_HEADER)
            .and_then(|v| Cursor::parse_bytes(v.as_bytes()).ok());
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(Error::Transport)?
            .to_bytes();
        match status {
            StatusCode::OK => {
                let (items, next) = parse_batch(&body)?;
                self.since = Some(next);
                Ok(items)
            }
            StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED => {
                let next = header_cursor.ok_or(Error::InvalidResponse("no Push-Cursor header"))?;
                self.since = Some(next);
                Ok(Vec::new())
            }
            other => Err(Error::Status(other.as_u16())),
        }
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Empty<Bytes>>, Error> {
        if self.connection.as_ref().is_some_and(SendRequest::is_closed) {
            self.connection = None;
        }
        if self.connection.is_none() {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(|e| Error::Transport(Box::new(e)))?;
            let _ = stream.set_nodelay(true);
            #[cfg(feature = "tls")]
            let sender = match &self.tls {
                Some(tls) => handshake(tls.connect(stream).await?).await?,
                None => handshake(stream).await?,
            };
            #[cfg(not(feature = "tls"))]
            let sender = handshake(stream).await?;
            self.connection = Some(sender);
        }
        let sender = self
            .connection
            .as_mut()
            .ok_or(Error::InvalidResponse("no connection"))?;
        sender.ready().await.map_err(transport)?;
        Ok(sender)
    }
}

/// An HTTP/1.1 connection over `io`, its task spawned: the request sender.
async fn handshake<T>(io: T) -> Result<SendRequest<Empty<Bytes>>, Error>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(transport)?;
    tokio::spawn(connection);
    Ok(sender)
}

fn transport(e: hyper::Error) -> Error {
    Error::Transport(Box::new(e))
}

/// Parses a `200` body into items and its `next` cursor.
fn parse_batch(body: &[u8]) -> Result<(Vec<Item>, Cursor), Error> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| Error::InvalidResponse("the body is not JSON"))?;
    let cursor = |v: &serde_json::Value, what| {
        v.as_str()
            .and_then(|s| Cursor::parse(s).ok())
            .ok_or(Error::InvalidResponse(what))
    };
    let next = cursor(&v["next"], "no valid next cursor")?;
    let events = v["events"]
        .as_array()
        .ok_or(Error::InvalidResponse("no events array"))?;
    let mut items = Vec::with_capacity(events.len() + 1);
    if v["gap"].as_bool() == Some(true) {
        items.push(Item::Gap { next });
    }
    for e in events {
        let text = |key, what| {
            e[key]
                .as_str()
                .map(str::to_owned)
                .ok_or(Error::InvalidResponse(what))
        };
        items.push(Item::Event(ClientEvent {
            id: cursor(&e["id"], "an event has no valid id")?,
            event: text("event", "an event has no type")?,
            data: text("data", "an event has no data")?,
        }));
    }
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff::default();
        for attempt in 1..40 {
            let d = b.delay(attempt, u64::from(attempt));
            assert!(d <= b.max, "{attempt}: {d:?}");
            let full = b
                .initial
                .saturating_mul(1 << (attempt - 1).min(31))
                .min(b.max);
            assert!(d >= full / 2);
        }
    }

    #[test]
    fn batches_parse_and_bad_ones_are_errors() {
        let (items, next) = parse_batch(
            br#"{"events":[{"id":"1-2","event":"m","data":"x"}],"next":"1-2","gap":true}"#,
        )
        .unwrap();
        assert_eq!(next, Cursor::new(1, 2));
        assert_eq!(items.len(), 2);
        assert!(matches!(items[0], Item::Gap { .. }));
        for bad in [
            &b"nope"[..],
            br#"{"events":[],"next":"x"}"#,
            br#"{"next":"1-1"}"#,
        ] {
            assert!(matches!(parse_batch(bad), Err(Error::InvalidResponse(_))));
        }
    }

    #[test]
    fn urls() {
        let c = Client::new("http://127.0.0.1:9/poll?topic=a&since=1-2&wait=5").unwrap();
        assert_eq!(c.cursor(), Some(Cursor::new(1, 2)));
        assert_eq!(c.query, "topic=a&wait=5");
        assert_eq!(Client::new("https://x/poll").is_ok(), cfg!(feature = "tls"));
        assert!(Client::new("ftp://x/poll").is_err());
        assert!(Client::new("http://x/poll?since=zz").is_err());
    }
}
