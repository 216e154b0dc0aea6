//! One attempt on the wire: a POST through a hyper client whose connections are kept alive and
//! reused, and whose resolver hands the connector only addresses the [`AddressPolicy`] allows
//! — checked on the resolved address at connect time, so a name re-pointed at an internal
//! address after registration is refused too. IP-literal hosts (which the connector does not
//! resolve) are checked before every attempt. Redirects are never followed.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, Request};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use url::Url;

use crate::policy::Outcome;
use crate::ssrf::{AddressPolicy, Refusal};

/// The most of a receiver's response body read (and dropped) so the connection can be reused;
/// a longer body closes the connection instead.
const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// Resolves host names to addresses. The system resolver is [`SystemResolver`]; tests use a
/// stub, so that refusing an internal address never sends a packet anywhere.
pub trait Resolve: Send + Sync + 'static {
    /// The addresses of `host`.
    fn resolve(&self, host: &str) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;
}

/// The operating system's resolver (through tokio's blocking pool).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// The resolver the connector uses: resolution, then the address policy.
#[derive(Clone)]
struct PolicyResolver {
    resolver: Arc<dyn Resolve>,
    policy: AddressPolicy,
}

impl tower_service::Service<Name> for PolicyResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let ips = this.resolver.resolve(name.as_str()).await?;
            let addrs = ips.into_iter().map(|ip| SocketAddr::new(ip, 0));
            let allowed = this.policy.filter(addrs).map_err(io::Error::other)?;
            Ok(allowed.into_iter())
        })
    }
}

/// Why an attempt was not made at all.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The URL does not parse.
    Url,
    /// The address policy refuses the URL or every address its host resolves to.
    Refused(Refusal),
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Url => f.write_str("the callback URL does not parse"),
            Self::Refused(_) => f.write_str("the address policy refuses the callback"),
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Url => None,
            Self::Refused(r) => Some(r),
        }
    }
}

/// Sends attempts; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct Sender {
    client: Client<HttpsConnector<HttpConnector<PolicyResolver>>, Full<Bytes>>,
    policy: AddressPolicy,
    timeout: Duration,
}

impl core::fmt::Debug for Sender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("policy", &self.policy)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender on the system resolver; `timeout` bounds each attempt (connect to last byte).
    #[must_use]
    pub fn new(policy: AddressPolicy, timeout: Duration) -> Self {
        Self::with_resolver(policy, timeout, Arc::new(SystemResolver))
    }

    /// A sender on `resolver`.
    #[must_use]
    pub fn with_resolver(
        policy: AddressPolicy,
        timeout: Duration,
        resolver: Arc<dyn Resolve>,
    ) -> Self {
        let mut http = HttpConnector::new_with_resolver(PolicyResolver { resolver, policy });
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(8)
            .build(https);
        Self {
            client,
            policy,
            timeout,
        }
    }

    /// One POST of `body` to `url` with the signature `headers`; the outcome (read at `now` for
    /// `Retry-After`). Transport failures, timeouts and statuses are outcomes.
    ///
    /// # Errors
    /// [`SendError`] when no attempt could be made: a bad URL or a refused address.
    pub async fn attempt(
        &self,
        url: &str,
        headers: HeaderMap,
        body: Bytes,
        now: SystemTime,
    ) -> Result<Outcome, SendError> {
        let parsed = Url::parse(url).map_err(|_| SendError::Url)?;
        self.policy.check_url(&parsed).map_err(SendError::Refused)?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(parsed.as_str())
            .body(Full::new(body))
            .map_err(|_| SendError::Url)?;
        let head = request.headers_mut();
        head.extend(headers);
        head.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        head.insert(USER_AGENT, HeaderValue::from_static("push-webhook"));
        let exchange = async {
            let response = self.client.request(request).await?;
            let (parts, body) = response.into_parts();
            // Read a short body to the end so the connection goes back to the pool.
            let _ = Limited::new(body, MAX_RESPONSE_BODY).collect().await;
            Ok::<_, hyper_util::client::legacy::Error>(parts)
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Ok(Outcome::Timeout),
            Ok(Ok(parts)) => Ok(Outcome::response(parts.status, &parts.headers, now)),
            Ok(Err(error)) => match refusal_in(&error) {
                Some(refusal) => Err(SendError::Refused(refusal)),
                None => Ok(Outcome::Transport),
            },
        }
    }
}

/// The address refusal somewhere in a client error's chain.
fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(refusal) = e.downcast_ref::<Refusal>() {
            return Some(refusal.clone());
        }
        // io::Error hides its inner error from `source`.
        if let Some(refusal) = e
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<Refusal>())
        {
            return Some(refusal.clone());
        }
        next = e.source();
    }
    None
}
