//! A reconnecting `EventSource`-like client over hyper (HTTP/1.1; `http://` URLs, and `https://`
//! with the `tls` feature), as a [`futures_core::Stream`].

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use http::{Request, Response, StatusCode, Uri};
use http_body::Body as _;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::TokioExecutor;
use tokio::time::Sleep;

use super::{Config, Error, EventSourceState, Item};

/// What the client connects with: plain TCP, or TCP and rustls with the `tls` feature.
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;

/// The URL schemes the client takes.
#[cfg(feature = "tls")]
pub(super) const SCHEMES: &str = "http:// or https://";
#[cfg(not(feature = "tls"))]
pub(super) const SCHEMES: &str = "http:// (https:// needs the `tls` feature)";

/// A reconnecting Server-Sent Events client, like the browser's `EventSource`: a
/// [`Stream`] of `Result<`[`Item`]`, `[`Error`]`>`.
///
/// - Sends `Last-Event-ID` on reconnection, only when the last event id is not empty. The id is
///   the one at the last blank line, as in browsers: a block with an `id` and no data sets it too.
///   An id no HTTP header can carry (a control character) is not sent: the reconnection resumes
///   from the most recent id that can be, and the stream yields
///   [`Error::LastEventIdNotSendable`] (transient) first.
/// - Honours the server's `retry`, clamped into the policy's `[min, max]` (a `retry: 0` does not
///   make it reconnect in a loop), backs off exponentially with jitter, resets the backoff after
///   a healthy connection, and stops after
///   [`ReconnectPolicy::with_max_retries`](super::ReconnectPolicy::with_max_retries) failures in a row.
///   Transient errors ([`Error::is_transient`]) are yielded and the stream goes on; after a
///   final one it ends.
/// - Stops on `204 No Content` (the stream simply ends); any other status than 200, or a content
///   type other than `text/event-stream`, is a final error.
///
/// The decisions are [`EventSourceState`]'s, a sans-IO state machine; this type only moves the
/// bytes and sleeps (tokio's timer: poll it inside a tokio runtime).
///
/// ```no_run
/// use push_sse::client::{Error, EventSource, Item};
///
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), Error> {
/// let mut source = EventSource::new("http://127.0.0.1:8080/events?topic=news")?;
/// // `next` is `StreamExt::next`'s twin; any `Stream` combinator works as well.
/// while let Some(item) = source.next().await {
///     match item {
///         Ok(Item::Event(e)) => println!("{:?}", e.data),
///         Ok(_) => {}
///         Err(e) if e.is_transient() => eprintln!("reconnecting: {e}"),
///         Err(e) => return Err(e),
///     }
/// }
/// # Ok(()) }
/// ```
///
/// # Cancel safety
/// Dropping a `next()` future loses no item: a partially read event stays buffered in the
/// state, and a connection attempt in flight is resumed by the next poll.
pub struct EventSource {
    client: Client<Connector, Empty<Bytes>>,
    /// The certificate authorities trusted for `https://` besides the webpki roots.
    #[cfg(feature = "tls")]
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    uri: Uri,
    /// What [`with_config`](Self::with_config) was given (read back by [`config`](Self::config)).
    config: Config,
    state: EventSourceState,
    phase: Phase,
    /// A transient error to report before going on (an id that cannot be sent).
    notice: Option<Error>,
}

/// Where the client is between two items.
enum Phase {
    /// Waiting before the next attempt (none: connect at once).
    Waiting(Option<Pin<Box<Sleep>>>),
    /// A request is in flight.
    Connecting(ResponseFuture),
    /// A stream is open: its body (the state has its decoder).
    Reading(Incoming),
    /// Over: 204, or after a final error.
    Done,
}

impl fmt::Debug for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSource")
            .field("uri", &self.uri)
            .field("last_event_id", &self.state.last_event_id())
            .field("connected", &matches!(self.phase, Phase::Reading(_)))
            .finish_non_exhaustive()
    }
}

impl EventSource {
    /// A client for `url` with the default [`Config`]. Nothing happens until it is polled.
    ///
    /// `https://` URLs need the `tls` feature: the server's certificate is then checked against
    /// the Mozilla roots (`webpki-roots`) and any [added](Self::with_root_certificate).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when `url` is not an absolute `http://` (or `https://`) URL.
    pub fn new(url: &str) -> Result<Self, Error> {
        Self::with_config(url, Config::default())
    }

    /// A client for `url` with this reconnection policy and these decoder limits.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when `url` is not an absolute `http://` (or `https://`) URL.
    pub fn with_config(url: &str, config: Config) -> Result<Self, Error> {
        let invalid = |source| Error::InvalidUrl {
            url: url.to_owned(),
            source,
        };
        let uri: Uri = url.parse().map_err(|e| invalid(Some(e)))?;
        let scheme_ok = uri.scheme_str() == Some("http")
            || (cfg!(feature = "tls") && uri.scheme_str() == Some("https"));
        if !scheme_ok || uri.authority().is_none() {
            return Err(invalid(None));
        }
        let seed =
            core::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), url);
        let policy = config.reconnect_policy().clone();
        Ok(Self {
            #[cfg(feature = "tls")]
            client: https_client(&[])?,
            #[cfg(not(feature = "tls"))]
            client: Client::builder(TokioExecutor::new()).build_http(),
            #[cfg(feature = "tls")]
            extra_roots: Vec::new(),
            uri,
            state: EventSourceState::new(policy, config.decoder(), seed),
            config,
            phase: Phase::Waiting(None),
            notice: None,
        })
    }

    /// Starts from this last event id (sent as `Last-Event-ID` when not empty).
    #[must_use]
    pub fn with_last_event_id(mut self, id: impl Into<String>) -> Self {
        self.state = self.state.with_last_event_id(id);
        self
    }

    /// Also trusts this certificate authority (a DER certificate) for `https://`: a private PKI,
    /// or a self-signed certificate in a test.
    ///
    /// # Errors
    /// [`Error::Tls`] when the certificate cannot be used as a trust anchor.
    #[cfg(feature = "tls")]
    pub fn with_root_certificate(mut self, der: &[u8]) -> Result<Self, Error> {
        self.extra_roots
            .push(rustls::pki_types::CertificateDer::from(der.to_vec()));
        self.client = https_client(&self.extra_roots)?;
        Ok(self)
    }

    /// The reconnection policy and decoder limits this client was built with
    /// ([`with_config`](Self::with_config); [`Config::default`] for [`new`](Self::new)).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The id a reconnection would send (empty: no `Last-Event-ID` header). It differs from the
    /// ids the events report only when the server set one no header can carry.
    pub fn last_event_id(&self) -> &str {
        self.state.request_last_event_id().unwrap_or("")
    }

    /// The next event or `retry`, reconnecting as needed; `None` once the stream is over (204,
    /// or after a final error was returned): the same as `StreamExt::next`, without the import.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future loses no item.
    pub async fn next(&mut self) -> Option<Result<Item, Error>> {
        core::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The connection broke or an attempt failed: schedule a reconnection and report `error`
    /// (or that the client gave up).
    fn lost(&mut self, error: Error) -> Error {
        self.schedule().err().unwrap_or(error)
    }

    /// Drops the connection and waits the policy's delay before the next attempt; `Err` when
    /// the policy says stop.
    fn schedule(&mut self) -> Result<(), Error> {
        match self
            .state
            .handle_disconnect(tokio::time::Instant::now().into_std())
        {
            Some(next) => {
                self.phase = Phase::Waiting(Some(Box::pin(tokio::time::sleep(next.delay))));
                if let Some(id) = next.withheld_id {
                    self.notice = Some(Error::LastEventIdNotSendable {
                        id,
                        resumed_from: next.last_event_id,
                    });
                }
                Ok(())
            }
            None => {
                self.phase = Phase::Done;
                Err(Error::GaveUp)
            }
        }
    }

    /// The request of the next attempt.
    fn request(&self) -> Result<Request<Empty<Bytes>>, http::Error> {
        let mut request = Request::get(self.uri.clone())
            .header(ACCEPT, "text/event-stream")
            .header(CACHE_CONTROL, "no-cache");
        if let Some(id) = self.state.request_last_event_id() {
            request = request.header("last-event-id", id);
        }
        request.body(Empty::new())
    }

    /// The answer to an attempt: a stream opens, or the client stops.
    fn answered(&mut self, response: Response<Incoming>) -> Result<(), Error> {
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NO_CONTENT => {
                self.phase = Phase::Done;
                return Ok(());
            }
            status => {
                self.phase = Phase::Done;
                return Err(Error::Status(status));
            }
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("text/event-stream") {
            self.phase = Phase::Done;
            return Err(Error::NotEventStream(content_type));
        }
        self.state
            .handle_open(tokio::time::Instant::now().into_std());
        self.phase = Phase::Reading(response.into_body());
        Ok(())
    }
}

impl Stream for EventSource {
    type Item = Result<Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(notice) = this.notice.take() {
                return Poll::Ready(Some(Err(notice)));
            }
            match &mut this.phase {
                Phase::Done => return Poll::Ready(None),
                Phase::Waiting(sleep) => {
                    if let Some(sleep) = sleep {
                        ready!(sleep.as_mut().poll(cx));
                    }
                    // The URI was checked by `with_config` and the id is a valid header value
                    // (`EventSourceState` sends no other), so this does not fail; if it did, it
                    // is one more failed attempt, under the backoff like any other: never a
                    // final error, never a tight loop.
                    match this.request() {
                        Ok(request) => this.phase = Phase::Connecting(this.client.request(request)),
                        Err(e) => {
                            return Poll::Ready(Some(Err(this.lost(Error::Connect(Box::new(e))))));
                        }
                    }
                }
                Phase::Connecting(future) => {
                    let answer = ready!(Pin::new(future).poll(cx));
                    let result = match answer {
                        Ok(response) => this.answered(response),
                        Err(e) => Err(this.lost(Error::Connect(Box::new(e)))),
                    };
                    if let Err(e) = result {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Phase::Reading(body) => {
                    match this.state.poll_item() {
                        Ok(Some(item)) => return Poll::Ready(Some(Ok(item))),
                        Ok(None) => {}
                        Err(e) => return Poll::Ready(Some(Err(this.lost(Error::Decode(e))))),
                    }
                    match ready!(Pin::new(body).poll_frame(cx)) {
                        Some(Ok(frame)) => {
                            if let Ok(data) = frame.into_data() {
                                this.state.handle_bytes(data);
                            }
                        }
                        Some(Err(e)) => {
                            return Poll::Ready(Some(Err(this.lost(Error::Read(Box::new(e))))));
                        }
                        None => {
                            // End of stream: whatever is complete is still delivered, an
                            // unfinished event is discarded (as the spec says); then reconnect.
                            this.state.handle_end();
                            if let Ok(Some(item)) = this.state.poll_item() {
                                // Further complete items come on the next polls: the state is
                                // drained before the (finished) body is polled again.
                                return Poll::Ready(Some(Ok(item)));
                            }
                            if let Err(e) = this.schedule() {
                                return Poll::Ready(Some(Err(e)));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A hyper client for `http://` and `https://` (HTTP/1.1) with push-http's one rustls
/// configuration, trusting the webpki roots and `extra_roots`.
#[cfg(feature = "tls")]
fn https_client(
    extra_roots: &[rustls::pki_types::CertificateDer<'static>],
) -> Result<Client<Connector, Empty<Bytes>>, Error> {
    let tls = push_http::client::tls_config(extra_roots.iter().cloned())
        .map_err(|e| Error::Tls(Box::new(e)))?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::super::state::is_sendable_id;

    #[test]
    fn the_state_sends_exactly_the_ids_http_can_carry() {
        // Every character below 0x100 alone and inside a longer id, and a few wider ones: the
        // state's rule and `http`'s must agree, or `connect` could not build its request.
        let chars = (0..=0xFF_u32)
            .chain([0x2028, 0xFEFF, 0x1F600])
            .filter_map(char::from_u32);
        for c in chars {
            for id in [c.to_string(), format!("a{c}b")] {
                let http_ok = HeaderValue::from_str(&id).is_ok();
                assert_eq!(is_sendable_id(&id), http_ok, "{id:?}");
            }
        }
    }
}
