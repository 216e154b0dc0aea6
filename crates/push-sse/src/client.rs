//! A reconnecting `EventSource`-like client over hyper (HTTP/1.1; `http://` URLs, and `https://`
//! with the `tls` feature).

use core::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::{ClientError, Config, EventSourceState, Item, ReconnectPolicy};

/// What the client connects with: plain TCP, or TCP and rustls with the `tls` feature.
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;

/// The URL schemes the client takes.
#[cfg(feature = "tls")]
const SCHEMES: &str = "http:// or https://";
#[cfg(not(feature = "tls"))]
const SCHEMES: &str = "http:// (https:// needs the `tls` feature)";

/// A reconnecting Server-Sent Events client, like the browser's `EventSource`.
///
/// - Sends `Last-Event-ID` on reconnection, only when the last event id is not empty. The id is
///   the one at the last blank line, as in browsers: a block with an `id` and no data sets it too.
///   An id no HTTP header can carry (a control character) is not sent: the reconnection resumes
///   from the most recent id that can be, and [`next`](Self::next) reports
///   [`ClientError::LastEventIdNotSendable`] (transient) first.
/// - Honours the server's `retry`, clamped into the policy's `[min, max]` (a `retry: 0` does not
///   make it reconnect in a loop), backs off exponentially with jitter, resets the backoff after
///   a healthy connection, and stops after [`ReconnectPolicy::max_retries`] failures in a row.
///
/// The decisions are [`EventSourceState`]'s, a sans-IO state machine; this type only moves the
/// bytes and sleeps.
/// - Stops on `204 No Content` (the stream simply ends); any other status than 200, or a content
///   type other than `text/event-stream`, is a final error.
///
/// ```no_run
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), push_sse::ClientError> {
/// let mut source = push_sse::EventSource::new("http://127.0.0.1:8080/events?topic=news")?;
/// while let Some(item) = source.next().await {
///     match item {
///         Ok(push_sse::Item::Event(e)) => println!("{:?}", e.data),
///         Ok(_) => {}
///         Err(e) if e.is_transient() => eprintln!("reconnecting: {e}"),
///         Err(e) => return Err(e),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct EventSource {
    client: Client<Connector, Empty<Bytes>>,
    /// The certificate authorities trusted for `https://`: the webpki roots and those added.
    #[cfg(feature = "tls")]
    roots: rustls::RootCertStore,
    uri: Uri,
    state: EventSourceState,
    /// The body of the open stream (the state has its decoder).
    body: Option<Incoming>,
    delay: Option<Duration>,
    /// A transient error to report before going on (an id that cannot be sent).
    notice: Option<ClientError>,
    finished: bool,
    /// Seeds the jitter of a policy set later.
    seed: u64,
}

impl fmt::Debug for EventSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSource")
            .field("uri", &self.uri)
            .field("last_event_id", &self.state.last_event_id())
            .field("connected", &self.body.is_some())
            .finish_non_exhaustive()
    }
}

impl EventSource {
    /// A client for `url`, with the default policy and decoder limits. Nothing happens until
    /// [`next`](Self::next) is called.
    ///
    /// `https://` URLs need the `tls` feature: the server's certificate is then checked against
    /// the Mozilla roots (`webpki-roots`) and any [added](Self::add_root_certificate).
    ///
    /// # Errors
    /// [`ClientError::InvalidUrl`] when `url` is not an absolute `http://` (or `https://`) URL.
    pub fn new(url: &str) -> Result<Self, ClientError> {
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| ClientError::InvalidUrl(e.to_string()))?;
        let scheme_ok = uri.scheme_str() == Some("http")
            || (cfg!(feature = "tls") && uri.scheme_str() == Some("https"));
        if !scheme_ok || uri.authority().is_none() {
            return Err(ClientError::InvalidUrl(format!(
                "{url}: only absolute {SCHEMES} URLs are supported"
            )));
        }
        #[cfg(feature = "tls")]
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let seed =
            core::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), url);
        Ok(Self {
            #[cfg(feature = "tls")]
            client: https_client(roots.clone())?,
            #[cfg(not(feature = "tls"))]
            client: Client::builder(TokioExecutor::new()).build_http(),
            #[cfg(feature = "tls")]
            roots,
            uri,
            state: EventSourceState::new(ReconnectPolicy::default(), Config::default(), seed),
            body: None,
            delay: None,
            notice: None,
            finished: false,
            seed,
        })
    }

    /// Starts from this last event id (sent as `Last-Event-ID` when not empty).
    #[must_use]
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.state = self.state.with_last_event_id(id);
        self
    }

    /// Also trusts this certificate authority (a DER certificate) for `https://`: a private PKI,
    /// or a self-signed certificate in a test.
    ///
    /// # Errors
    /// [`ClientError::Tls`] when the certificate cannot be used as a trust anchor.
    #[cfg(feature = "tls")]
    pub fn add_root_certificate(mut self, der: &[u8]) -> Result<Self, ClientError> {
        let certificate = rustls::pki_types::CertificateDer::from(der.to_vec());
        self.roots
            .add(certificate)
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        self.client = https_client(self.roots.clone())?;
        Ok(self)
    }

    /// Uses this reconnection policy.
    #[must_use]
    pub fn policy(mut self, policy: ReconnectPolicy) -> Self {
        self.state.set_policy(policy, self.seed);
        self
    }

    /// Uses these decoder limits.
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.state.set_config(config);
        self
    }

    /// The id a reconnection would send (empty: no `Last-Event-ID` header). It differs from the
    /// ids the events report only when the server set one no header can carry.
    pub fn current_last_event_id(&self) -> &str {
        self.state.request_last_event_id().unwrap_or("")
    }

    /// The next event or `retry` from the stream, reconnecting as needed; `None` once the stream
    /// is over (204, or after a final error was returned).
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future loses no item; a partially read event stays buffered.
    pub async fn next(&mut self) -> Option<Result<Item, ClientError>> {
        loop {
            if let Some(notice) = self.notice.take() {
                return Some(Err(notice));
            }
            if self.finished {
                return None;
            }
            if let Some(body) = &mut self.body {
                match self.state.poll_item() {
                    Ok(Some(item)) => return Some(Ok(item)),
                    Ok(None) => {}
                    Err(e) => return Some(self.lost(ClientError::Decode(e))),
                }
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            self.state.handle_bytes(data);
                        }
                    }
                    Some(Err(e)) => return Some(self.lost(ClientError::Read(e.to_string()))),
                    None => {
                        // End of stream: whatever is complete is still delivered, an unfinished
                        // event is discarded (as the spec says); then reconnect.
                        self.state.handle_end();
                        if let Ok(Some(item)) = self.state.poll_item() {
                            // Further complete items come on the next calls; the body keeps
                            // answering `None`, which brings us back here.
                            return Some(Ok(item));
                        }
                        if let Err(e) = self.schedule() {
                            return Some(Err(e));
                        }
                    }
                }
                continue;
            }
            if let Some(delay) = self.delay.take() {
                tokio::time::sleep(delay).await;
            }
            if let Err(e) = self.connect().await {
                return Some(Err(e));
            }
        }
    }

    /// The connection broke: schedule a reconnection and report `error` (or give up).
    fn lost(&mut self, error: ClientError) -> Result<Item, ClientError> {
        match self.schedule() {
            Ok(()) => Err(error),
            Err(gave_up) => Err(gave_up),
        }
    }

    fn schedule(&mut self) -> Result<(), ClientError> {
        self.body = None;
        match self
            .state
            .handle_disconnect(tokio::time::Instant::now().into_std())
        {
            Some(next) => {
                self.delay = Some(next.delay);
                if let Some(id) = next.withheld_id {
                    self.notice = Some(ClientError::LastEventIdNotSendable {
                        id,
                        resumed_from: next.last_event_id,
                    });
                }
                Ok(())
            }
            None => {
                self.finished = true;
                Err(ClientError::GaveUp)
            }
        }
    }

    async fn connect(&mut self) -> Result<(), ClientError> {
        let mut request = Request::get(self.uri.clone())
            .header(ACCEPT, "text/event-stream")
            .header(CACHE_CONTROL, "no-cache");
        if let Some(id) = self.state.request_last_event_id() {
            request = request.header("last-event-id", id);
        }
        // The URI was checked by `new` and the id is a valid header value (`EventSourceState`
        // sends no other), so this does not fail; if it did, it is one more failed attempt,
        // under the backoff like any other: never a final error, never a tight loop.
        let request = match request.body(Empty::new()) {
            Ok(request) => request,
            Err(e) => {
                self.schedule()?;
                return Err(ClientError::Connect(format!("building the request: {e}")));
            }
        };
        let response = match self.client.request(request).await {
            Ok(r) => r,
            Err(e) => {
                self.schedule()?;
                return Err(ClientError::Connect(e.to_string()));
            }
        };
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NO_CONTENT => {
                self.finished = true;
                return Ok(());
            }
            status => {
                self.finished = true;
                return Err(ClientError::Status(status));
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
            self.finished = true;
            return Err(ClientError::NotEventStream(content_type));
        }
        self.state
            .handle_open(tokio::time::Instant::now().into_std());
        self.body = Some(response.into_body());
        Ok(())
    }
}

/// A hyper client for `http://` and `https://` trusting `roots` (rustls with ring, HTTP/1.1).
#[cfg(feature = "tls")]
fn https_client(
    roots: rustls::RootCertStore,
) -> Result<Client<Connector, Empty<Bytes>>, ClientError> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
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

    use crate::source::is_sendable_id;

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
