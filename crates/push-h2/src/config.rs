//! Per-server push configuration: authorities, copied headers and limits.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use http::header::{ACCEPT_ENCODING, ACCEPT_LANGUAGE, USER_AGENT};
use http::uri::{Authority, Scheme};

/// How a server pushes (builder setters `with_x`, getters `x()`): which authorities it is authoritative for, which request headers a
/// pushed request inherits from its parent, and the limits per page, per connection and in bytes.
///
/// The defaults follow what nghttpx, h2o and Apache ship: at most 8 pushes and 1 MiB per page, 100
/// pushes per connection, 16 pushed streams at once (fewer if the client says so), a diary of 256
/// entries, and a 30 s stall timeout for flow control.
#[derive(Debug, Clone)]
pub struct PushConfig {
    pub(crate) scheme: Scheme,
    pub(crate) authorities: Arc<[Authority]>,
    pub(crate) copy_headers: Arc<[HeaderName]>,
    pub(crate) copy_cookies: bool,
    pub(crate) max_per_page: usize,
    pub(crate) max_per_connection: usize,
    pub(crate) max_bytes_per_page: u64,
    pub(crate) max_concurrent: usize,
    pub(crate) diary_capacity: usize,
    pub(crate) max_chunk: usize,
    pub(crate) stall_timeout: Duration,
}

impl PushConfig {
    /// A configuration for connections that use `scheme` (`http` for h2c, `https` behind TLS).
    ///
    /// The scheme of every pushed request is this one: it comes from the connection, never from
    /// the client's `:scheme`.
    pub fn new(scheme: Scheme) -> Self {
        Self {
            scheme,
            authorities: Arc::new([]),
            copy_headers: Arc::new([ACCEPT_ENCODING, ACCEPT_LANGUAGE, USER_AGENT]),
            copy_cookies: false,
            max_per_page: 8,
            max_per_connection: 100,
            max_bytes_per_page: 1 << 20,
            max_concurrent: 16,
            diary_capacity: 256,
            max_chunk: 16 * 1024,
            stall_timeout: push_net::ServerConfig::default().write_stall_timeout(),
        }
    }

    /// The authorities this server is authoritative for. Empty (the default) means "the parent
    /// request's `:authority`, whatever it is"; otherwise the parent's authority and every pushed
    /// authority must be in the list (compared case-insensitively, a port that is the scheme's
    /// default being the same as none). An authority with userinfo (`user@host`) never matches
    /// and is left out.
    pub fn with_authorities(mut self, authorities: impl IntoIterator<Item = Authority>) -> Self {
        let scheme = &self.scheme;
        self.authorities = authorities
            .into_iter()
            .filter_map(|authority| crate::resolve::canonical_authority(authority, scheme))
            .collect();
        self
    }

    /// The request headers a pushed request copies from its parent (default: `accept-encoding`,
    /// `accept-language`, `user-agent`). Connection-specific and body headers are never copied.
    pub fn with_copy_headers(mut self, names: impl IntoIterator<Item = HeaderName>) -> Self {
        self.copy_headers = names.into_iter().collect();
        self
    }

    /// Copy the parent's `cookie` headers into pushed requests (off by default: a pushed response
    /// that depends on cookies is rarely cacheable).
    pub fn with_copy_cookies(mut self, yes: bool) -> Self {
        self.copy_cookies = yes;
        self
    }

    /// At most `count` pushes per parent stream (page).
    pub fn with_max_per_page(mut self, count: usize) -> Self {
        self.max_per_page = count;
        self
    }

    /// At most `count` pushes over the whole connection.
    pub fn with_max_per_connection(mut self, count: usize) -> Self {
        self.max_per_connection = count;
        self
    }

    /// At most `bytes` of pushed bodies per parent stream (page), counted from the sizes the caller
    /// declares when pushing.
    pub fn with_max_bytes_per_page(mut self, bytes: u64) -> Self {
        self.max_bytes_per_page = bytes;
        self
    }

    /// At most `count` pushed streams in flight at once; the client's
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`, once observed, lowers it further.
    pub fn with_max_concurrent(mut self, count: usize) -> Self {
        self.max_concurrent = count;
        self
    }

    /// How many (path, ETag) entries the per-connection push diary remembers (default 256, as in
    /// Apache's `H2PushDiarySize`). The oldest entry is forgotten first.
    pub fn with_diary_capacity(mut self, entries: usize) -> Self {
        self.diary_capacity = entries;
        self
    }

    /// The largest DATA chunk a pushed body is cut into while watching for the client's reset
    /// (default 16 KiB). Smaller chunks stop a cancelled body sooner.
    pub fn with_max_chunk(mut self, bytes: usize) -> Self {
        self.max_chunk = bytes.max(1);
        self
    }

    /// How long a body waits for the client's HTTP/2 flow-control window to open (default 30 s,
    /// push-net's write-stall timeout). A pushed body still waiting after it is reset with
    /// CANCEL ([`PushDelivery::Stalled`](crate::PushDelivery::Stalled)); an event stream
    /// ([`ParentStream::send_event`](crate::ParentStream::send_event)) is reset with CANCEL and
    /// the send fails with [`Error::Stalled`](crate::Error::Stalled). A client that never
    /// opens its window would otherwise hold the stream, and the server's buffered bytes, for
    /// the connection's whole life.
    pub fn with_stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// The connection's scheme.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The authorities this server is authoritative for (empty: the parent's).
    pub fn authorities(&self) -> &[Authority] {
        &self.authorities
    }

    /// The request headers a pushed request copies from its parent.
    pub fn copy_headers(&self) -> &[HeaderName] {
        &self.copy_headers
    }

    /// Whether pushed requests copy the parent's `cookie` headers.
    pub fn copy_cookies(&self) -> bool {
        self.copy_cookies
    }

    /// The most pushes per parent stream.
    pub fn max_per_page(&self) -> usize {
        self.max_per_page
    }

    /// The most pushes over the whole connection.
    pub fn max_per_connection(&self) -> usize {
        self.max_per_connection
    }

    /// The most bytes of pushed bodies per parent stream.
    pub fn max_bytes_per_page(&self) -> u64 {
        self.max_bytes_per_page
    }

    /// The most pushed streams in flight at once (before the client's own limit).
    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent
    }

    /// How many entries the push diary remembers.
    pub fn diary_capacity(&self) -> usize {
        self.diary_capacity
    }

    /// The largest DATA chunk a body is cut into.
    pub fn max_chunk(&self) -> usize {
        self.max_chunk
    }

    /// How long a body waits for the client's flow-control window.
    pub fn stall_timeout(&self) -> Duration {
        self.stall_timeout
    }

    #[cfg(test)]
    pub(crate) fn is_authoritative(
        &self,
        authority: &Authority,
        parent: Option<&Authority>,
    ) -> bool {
        is_authoritative(&self.authorities, authority, parent)
    }
}

/// Whether a server authoritative for `list` (the parent's authority when empty) may push for
/// `authority`.
pub(crate) fn is_authoritative(
    list: &[Authority],
    authority: &Authority,
    parent: Option<&Authority>,
) -> bool {
    if list.is_empty() {
        return parent.is_some_and(|p| eq_authority(p, authority));
    }
    list.iter().any(|a| eq_authority(a, authority))
}

fn eq_authority(a: &Authority, b: &Authority) -> bool {
    a.host().eq_ignore_ascii_case(b.host()) && a.port_u16() == b.port_u16()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_authority_by_default() {
        let config = PushConfig::new(Scheme::HTTP);
        let parent: Authority = "Example.com:8080".parse().unwrap();
        assert!(config.is_authoritative(&"example.com:8080".parse().unwrap(), Some(&parent)));
        assert!(!config.is_authoritative(&"example.com".parse().unwrap(), Some(&parent)));
        assert!(!config.is_authoritative(&"evil.example".parse().unwrap(), Some(&parent)));
        assert!(!config.is_authoritative(&parent, None));
    }

    #[test]
    fn configured_list_wins() {
        let config = PushConfig::new(Scheme::HTTPS).with_authorities([
            "a.example".parse().unwrap(),
            "cdn.a.example".parse().unwrap(),
        ]);
        let parent: Authority = "a.example".parse().unwrap();
        assert!(config.is_authoritative(&"CDN.a.example".parse().unwrap(), Some(&parent)));
        assert!(!config.is_authoritative(&"b.example".parse().unwrap(), Some(&parent)));
    }
}
