//! The client role (feature `client`): [`Client`], a stream of the server's push-protocol
//! messages over one WebSocket at a time, reconnecting as a
//! [`push_http::client::ReconnectPolicy`] says and resuming after the last
//! cursor it saw.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use futures_util::StreamExt;
//! use push_core::Topic;
//! use push_ws::client::{Client, Item};
//!
//! let mut client = Client::new("ws://127.0.0.1:8080/", [Topic::new("news")?]);
//! while let Some(item) = client.next().await {
//!     match item {
//!         Ok(Item::Event { id, data, .. }) => println!("{id}: {data:?}"),
//!         Ok(other) => println!("{other:?}"),
//!         // A lost connection: the client reconnects (unless the error is fatal).
//!         Err(error) => eprintln!("{error}"),
//!     }
//! }
//! # Ok(())
//! # }
//! # fn main() { let _ = demo; }
//! ```

mod error;
mod item;

use core::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderName, HeaderValue};
use push_core::{Cursor, Topic};
use push_http::client::{Backoff, ReconnectPolicy};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use error::Error;
pub use item::Item;

use item::Parsed;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Items = Pin<Box<dyn Stream<Item = Result<Item, Error>> + Send>>;

/// A push-protocol client: subscribes to its topics on connect, yields every server message as
/// an [`Item`], and on a lost connection reconnects (after the [`ReconnectPolicy`]'s delay) and
/// subscribes again from the cursor of the last item that carried one (event, gap or
/// subscription), so nothing is missed that the server still has (and a `gap` says what it has
/// not).
///
/// Errors are yielded as they happen: after a [fatal](Error::is_fatal) one (a refused upgrade,
/// a bad URL), or when the policy gives up, the stream ends. An event with binary data is
/// yielded once its binary frame has arrived.
///
/// The connection opens on the first poll; the setters apply to the connections opened after
/// them.
pub struct Client {
    config: Session,
    items: Option<Items>,
}

/// What every connection of a client is opened with.
#[derive(Clone)]
struct Session {
    url: String,
    topics: Vec<Topic>,
    from: Option<Cursor>,
    headers: Vec<(HeaderName, HeaderValue)>,
    policy: ReconnectPolicy,
    #[cfg(feature = "tls")]
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Client {
    /// A client of the server at `url` (`ws://`, or `wss://` with the `tls` feature) that
    /// subscribes to `topics`, live (see [`with_from`](Self::with_from)), with the default
    /// [`ReconnectPolicy`].
    pub fn new(url: impl Into<String>, topics: impl IntoIterator<Item = Topic>) -> Self {
        Self {
            config: Session {
                url: url.into(),
                topics: topics.into_iter().collect(),
                from: None,
                headers: Vec::new(),
                policy: ReconnectPolicy::default(),
                #[cfg(feature = "tls")]
                tls: None,
            },
            items: None,
        }
    }

    /// Resumes after `cursor` (an event `id` seen before) on the first connection.
    #[must_use]
    pub fn with_from(mut self, cursor: Cursor) -> Self {
        self.config.from = Some(cursor);
        self
    }

    /// The delays between reconnections, and when to give up.
    #[must_use]
    pub fn with_reconnect_policy(mut self, policy: ReconnectPolicy) -> Self {
        self.config.policy = policy;
        self
    }

    /// Adds a header to every upgrade request (a bearer token for the server's hooks, an
    /// `Origin`).
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.config.headers.push((name, value));
        self
    }

    /// The rustls configuration for `wss://` (default: `push_http::client::tls_config` with
    /// the webpki roots; build one with added roots for a private CA).
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn with_tls_config(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.config.tls = Some(config);
        self
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// The topics subscribed to on every connection.
    pub fn topics(&self) -> &[Topic] {
        &self.config.topics
    }

    /// The reconnection policy.
    pub fn reconnect_policy(&self) -> &ReconnectPolicy {
        &self.config.policy
    }

    /// The cursor the first connection resumes after ([`with_from`](Self::with_from)); `None`
    /// for a live start. Reconnections resume after the last cursor seen instead.
    pub fn from(&self) -> Option<Cursor> {
        self.config.from
    }

    /// The rustls configuration set with [`with_tls_config`](Self::with_tls_config); `None`
    /// when `wss://` uses the default (`push_http::client::tls_config` with the webpki roots).
    #[cfg(feature = "tls")]
    pub fn tls_config(&self) -> Option<&std::sync::Arc<rustls::ClientConfig>> {
        self.config.tls.as_ref()
    }
}

impl Stream for Client {
    type Item = Result<Item, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let items = this.items.get_or_insert_with(|| {
            let run = Run::new(this.config.clone());
            Box::pin(futures_util::stream::unfold(run, |mut run| async move {
                let item = run.next().await?;
                Some((item, run))
            }))
        });
        items.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.config.url)
            .field("topics", &self.config.topics)
            .field("from", &self.config.from)
            .finish_non_exhaustive()
    }
}

/// The running state of a client.
struct Run {
    session: Session,
    backoff: Backoff,
    socket: Option<Socket>,
    /// Wait this long before the next attempt.
    delay: Option<Duration>,
    /// An event whose binary data is the next frame, and its length.
    awaiting: Option<(Item, u64)>,
    done: bool,
}

impl Run {
    fn new(session: Session) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos().into());
        Self {
            backoff: Backoff::new(session.policy.clone(), seed),
            session,
            socket: None,
            delay: None,
            awaiting: None,
            done: false,
        }
    }

    /// The next item or error; `None` once the client has given up.
    async fn next(&mut self) -> Option<Result<Item, Error>> {
        loop {
            if self.done {
                return None;
            }
            let Some(socket) = self.socket.as_mut() else {
                if let Some(delay) = self.delay.take() {
                    tokio::time::sleep(delay).await;
                }
                if let Err(error) = self.connect().await {
                    return Some(Err(self.lost(error)));
                }
                continue;
            };
            let message = match socket.next().await {
                Some(Ok(message)) => message,
                Some(Err(error)) => return Some(Err(self.lost(error.into()))),
                None => {
                    let closed = Error::Closed {
                        code: 1006,
                        reason: String::new(),
                    };
                    return Some(Err(self.lost(closed)));
                }
            };
            let item = match message {
                Message::Text(text) => match item::parse(&text) {
                    Ok(Parsed::Item(item)) => item,
                    Ok(Parsed::Binary(item, len)) => {
                        self.awaiting = Some((item, len));
                        continue;
                    }
                    Ok(Parsed::Unknown) => continue,
                    Err(message) => return Some(Err(Error::Protocol(message))),
                },
                Message::Binary(data) => match self.awaiting.take() {
                    Some((item, len)) if data.len() as u64 == len => with_data(item, data),
                    Some(_) => {
                        return Some(Err(Error::Protocol(
                            "a binary frame of another length than announced".to_owned(),
                        )));
                    }
                    None => {
                        let message = "a binary frame without its announcement".to_owned();
                        return Some(Err(Error::Protocol(message)));
                    }
                },
                Message::Close(frame) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.as_str().to_owned())
                    });
                    return Some(Err(self.lost(Error::Closed { code, reason })));
                }
                _ => continue,
            };
            if let Some(cursor) = item.cursor() {
                self.session.from = Some(cursor);
            }
            return Some(Ok(item));
        }
    }

    /// Opens a connection and sends the subscribe command.
    async fn connect(&mut self) -> Result<(), Error> {
        let mut request = self.session.url.as_str().into_client_request()?;
        for (name, value) in &self.session.headers {
            request.headers_mut().append(name, value.clone());
        }
        // The default configuration (webpki roots) is built on the first connection and kept
        // for the reconnections: building a root store is not a per-attempt cost.
        #[cfg(feature = "tls")]
        let connector = Some(tokio_tungstenite::Connector::Rustls(
            match &self.session.tls {
                Some(config) => std::sync::Arc::clone(config),
                None => std::sync::Arc::clone(
                    self.session.tls.insert(std::sync::Arc::new(
                        push_http::client::tls_config([])
                            .map_err(|e| Error::WebSocket(Box::new(tls_error(e))))?,
                    )),
                ),
            },
        ));
        #[cfg(feature = "tls")]
        let connecting =
            tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector);
        // (No TLS: a `wss://` URL is refused by tokio-tungstenite as an URL error.)
        #[cfg(not(feature = "tls"))]
        let connecting = tokio_tungstenite::connect_async_with_config(request, None, true);
        let (mut socket, _) = connecting.await?;
        self.backoff
            .connected(tokio::time::Instant::now().into_std());
        self.awaiting = None;
        let mut subscribe = serde_json::json!({"type": "subscribe", "topics": self.session.topics
            .iter().map(Topic::as_str).collect::<Vec<_>>()});
        if let Some(from) = self.session.from {
            subscribe["from"] = from.to_string().into();
        }
        socket.send(Message::text(subscribe.to_string())).await?;
        self.socket = Some(socket);
        Ok(())
    }

    /// The connection is gone (or never came): schedules the next attempt, or gives up.
    fn lost(&mut self, error: Error) -> Error {
        self.socket = None;
        if error.is_fatal() {
            self.done = true;
            return error;
        }
        match self
            .backoff
            .disconnected(tokio::time::Instant::now().into_std())
        {
            Some(delay) => self.delay = Some(delay),
            None => self.done = true,
        }
        error
    }
}

fn with_data(item: Item, bytes: Bytes) -> Item {
    match item {
        Item::Event {
            topic, id, event, ..
        } => Item::Event {
            topic,
            id,
            event,
            data: bytes,
        },
        other => other,
    }
}

#[cfg(feature = "tls")]
fn tls_error(error: push_http::client::TlsError) -> tokio_tungstenite::tungstenite::Error {
    tokio_tungstenite::tungstenite::Error::Io(std::io::Error::other(error))
}
