//! One client's connection and its polls: the request, the answer, the cursor moved on.

use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use push_core::Cursor;
use tokio::net::TcpStream;

#[cfg(feature = "tls")]
use super::tls::Tls;
use super::{Error, Item};
use crate::CURSOR_HEADER;

/// The largest response body the client accepts.
const MAX_BODY: usize = 64 << 20;

/// Where a client polls and what it has: the URL's parts, the cursor, the connection.
#[derive(Debug)]
pub(crate) struct Poller {
    authority: String,
    path: String,
    /// The URL's query without `since`.
    query: String,
    pub(crate) since: Option<Cursor>,
    /// The URL's `since` as written when it is not a cursor (an id, such as a Mercure id seen
    /// over SSE, which the server places): sent until the first answer gives a cursor.
    first: Option<String>,
    connection: Option<SendRequest<Empty<Bytes>>>,
    /// For `https://`: the TLS set-up (`tls` feature).
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<Tls>,
}

impl Poller {
    /// For a poll URL such as `http://127.0.0.1:8080/poll?topic=news`.
    pub(crate) fn new(url: &str) -> Result<Self, Error> {
        let uri: Uri = url.parse().map_err(|e| Error::InvalidUrl(Box::new(e)))?;
        let https = uri.scheme_str() == Some("https");
        if uri.scheme_str() != Some("http") && !(https && cfg!(feature = "tls")) {
            return Err(Error::InvalidUrl(
                "only http:// URLs are supported (https:// needs the `tls` feature)".into(),
            ));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| Error::InvalidUrl("the URL has no host".into()))?;
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        #[cfg(feature = "tls")]
        let tls = if https {
            Some(Tls::for_host(authority.host())?)
        } else {
            None
        };
        // `since` is the client's own parameter, found by its decoded name (the server's
        // rule, so `%73ince` is `since` too); every other parameter is kept as written.
        let mut since = None;
        let mut first = None;
        let mut kept: Vec<&[u8]> = Vec::new();
        for pair in push_http::query::pairs(uri.query().unwrap_or_default().as_bytes()) {
            if pair.name.as_deref() != Some("since") {
                kept.push(pair.raw);
                continue;
            }
            let text = push_http::query::form_decode(pair.value)
                .ok_or(Error::InvalidSince(push_core::Error::QueryInvalid))?;
            if !text.is_empty() {
                match Cursor::parse(&text) {
                    Ok(cursor) => since = Some(cursor),
                    // An id: the server resolves it (one it cannot place is a gap).
                    Err(_) => first = Some(String::from_utf8_lossy(pair.raw).into_owned()),
                }
            }
        }
        // Parts of a `&str` split at ASCII `&`: still UTF-8.
        let query = String::from_utf8_lossy(&kept.join(&b'&')).into_owned();
        Ok(Self {
            authority: format!("{}:{port}", authority.host()),
            path: uri.path().to_owned(),
            query,
            since,
            first,
            connection: None,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// One poll: sends the request, waits for the answer, moves the cursor, returns its items
    /// (none on `204`/`304`). On error the connection is dropped (the next poll opens another).
    pub(crate) async fn poll(&mut self) -> Result<Vec<Item>, Error> {
        let result = self.poll_inner().await;
        if result.is_err() {
            self.connection = None;
        }
        result
    }

    /// The next poll's path and query: the URL's, and where to resume (the cursor, else the
    /// URL's own `since` as written).
    fn target(&self) -> String {
        let mut target = format!("{}?{}", self.path, self.query);
        let since = match (self.since, &self.first) {
            (Some(since), _) => format!("since={since}"),
            (None, Some(first)) => first.clone(),
            (None, None) => return target,
        };
        if !self.query.is_empty() {
            target.push('&');
        }
        target.push_str(&since);
        target
    }

    async fn poll_inner(&mut self) -> Result<Vec<Item>, Error> {
        let request = Request::get(self.target())
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
            other => Err(Error::Status(other)),
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
        items.push(Item::Event {
            id: cursor(&e["id"], "an event has no valid id")?,
            event: text("event", "an event has no type")?,
            data: text("data", "an event has no data")?,
        });
    }
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let p = Poller::new("http://127.0.0.1:9/poll?topic=a&since=1-2&wait=5").unwrap();
        assert_eq!(p.since, Some(Cursor::new(1, 2)));
        assert_eq!(p.query, "topic=a&wait=5");
        assert_eq!(Poller::new("https://x/poll").is_ok(), cfg!(feature = "tls"));
        assert!(matches!(
            Poller::new("ftp://x/poll"),
            Err(Error::InvalidUrl(_))
        ));
        // A since that is no cursor is an id for the server to place: sent as written
        // until an answer gives the cursor.
        let mut p = Poller::new("http://x/poll?topic=a&since=urn%3Auuid%3A1").unwrap();
        assert_eq!(p.since, None);
        assert_eq!(p.target(), "/poll?topic=a&since=urn%3Auuid%3A1");
        p.since = Some(Cursor::new(1, 2));
        assert_eq!(p.target(), "/poll?topic=a&since=1-2");
        let p = Poller::new("http://x/poll?since=1-2").unwrap();
        assert_eq!(p.target(), "/poll?since=1-2");
    }

    #[test]
    fn since_is_found_however_its_name_is_spelled() {
        // `%73ince` is `since` to the server: kept in the query, the server would see two
        // `since` parameters once the client adds its own, and refuse every poll.
        let p = Poller::new("http://x/poll?topic=a&%73ince=1-2&&s%69nce=&w%61it=5").unwrap();
        assert_eq!(p.since, Some(Cursor::new(1, 2)));
        assert_eq!(p.query, "topic=a&w%61it=5");
        let p = Poller::new("http://x/poll?since=1%2D3").unwrap();
        assert_eq!(p.since, Some(Cursor::new(1, 3)), "the value is decoded too");
        assert!(matches!(
            Poller::new("http://x/poll?since=1-%zz"),
            Err(Error::InvalidSince(push_core::Error::QueryInvalid))
        ));
    }
}
