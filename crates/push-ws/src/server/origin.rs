//! The Origin policy: the defence against cross-site WebSocket hijacking.
//!
//! Browsers attach cookies to WebSocket upgrades from any site and do not apply CORS to them, so a
//! page on `evil.example` can open an authenticated WebSocket to `app.example` unless the server
//! checks `Origin`. Neither tungstenite nor axum does; this module does, before anything else.

use http::header::{self, HeaderMap};

/// Which browser origins may open WebSockets.
///
/// - A request whose `Origin` matches its `Host` (same origin, default ports normalised) is
///   accepted.
/// - A request from an origin in the allowlist is accepted (compared case-insensitively, without
///   a trailing `/`).
/// - A request without `Origin` is accepted: browsers always send it on WebSocket upgrades, so
///   its absence means a non-browser client, which could forge any Origin anyway.
/// - Anything else (including `Origin: null`) is refused with 403, unless the policy is
///   [`Any`](OriginPolicy::Any).
///
/// ```
/// use http::Request;
/// use push_ws::server::OriginPolicy;
///
/// let policy = OriginPolicy::default().allow("https://app.example.com");
/// let req = |origin: &str| {
///     Request::get("/").header("host", "api.example.com").header("origin", origin).body(()).unwrap()
/// };
/// assert!(policy.permits(req("https://app.example.com").headers()));
/// assert!(policy.permits(req("https://api.example.com").headers())); // same origin
/// assert!(!policy.permits(req("https://evil.example").headers()));
/// assert!(OriginPolicy::Any.permits(req("https://evil.example").headers()));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginPolicy {
    /// Same-origin requests, requests without `Origin`, and these origins (the default, empty).
    Allowlist(Vec<String>),
    /// Every origin: only for public endpoints that use no ambient credentials (cookies).
    Any,
}

impl Default for OriginPolicy {
    fn default() -> Self {
        Self::Allowlist(Vec::new())
    }
}

impl OriginPolicy {
    /// Adds `origin` to the allowlist (no effect on [`Any`](Self::Any)).
    #[must_use]
    pub fn allow(self, origin: impl Into<String>) -> Self {
        match self {
            Self::Allowlist(mut list) => {
                let origin: String = origin.into();
                list.push(origin.trim_end_matches('/').to_ascii_lowercase());
                Self::Allowlist(list)
            }
            Self::Any => Self::Any,
        }
    }

    /// Whether a request with these headers may upgrade.
    pub fn permits(&self, headers: &HeaderMap) -> bool {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        self.permits_for(headers, host)
    }

    /// [`permits`](Self::permits) with the request's authority given explicitly (HTTP/2 sends
    /// `:authority` instead of `Host`).
    pub(crate) fn permits_for(&self, headers: &HeaderMap, host: Option<&str>) -> bool {
        let list = match self {
            Self::Any => return true,
            Self::Allowlist(list) => list,
        };
        let mut origins = headers.get_all(header::ORIGIN).iter();
        let Some(origin) = origins.next() else {
            return true;
        };
        if origins.next().is_some() {
            return false;
        }
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.trim().trim_end_matches('/');
        if list.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            return true;
        }
        host.is_some_and(|host| same_origin(origin, host.trim()))
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the authority `host` the request was sent to.
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "80",
        "https" | "wss" => "443",
        _ => return false,
    };
    if authority.is_empty() || authority.contains(['/', '@', '?', '#']) {
        return false;
    }
    normalise(authority, default_port).eq_ignore_ascii_case(normalise(host, default_port))
}

/// Drops `:default_port` from an authority.
fn normalise<'a>(authority: &'a str, default_port: &str) -> &'a str {
    match authority.rsplit_once(':') {
        // Not the inside of an IPv6 literal: the port follows the closing bracket.
        Some((host, port)) if port == default_port && !host.ends_with(':') => host,
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(host: Option<&str>, origins: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(host) = host {
            h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        }
        for o in origins {
            h.append(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn same_origin_rules() {
        let p = OriginPolicy::default();
        let ok = [
            ("example.com", "https://example.com"),
            ("example.com:443", "https://example.com"),
            ("example.com", "http://example.com:80"),
            ("Example.COM:8080", "http://example.com:8080"),
            ("[::1]:9000", "http://[::1]:9000"),
            ("127.0.0.1:80", "http://127.0.0.1"),
        ];
        for (host, origin) in ok {
            assert!(
                p.permits(&headers(Some(host), &[origin])),
                "{host} {origin}"
            );
        }
        let refused = [
            ("example.com", "https://evil.com"),
            ("example.com:8080", "http://example.com"),
            ("example.com", "null"),
            ("example.com", "file://example.com"),
            ("example.com", "https://user@example.com"),
            ("example.com", "https://example.com.evil.com"),
            ("example.com:443", "http://example.com"),
        ];
        for (host, origin) in refused {
            assert!(
                !p.permits(&headers(Some(host), &[origin])),
                "{host} {origin}"
            );
        }
        assert!(!p.permits(&headers(None, &["https://example.com"])));
        assert!(p.permits(&headers(Some("example.com"), &[])));
        assert!(!p.permits(&headers(
            Some("example.com"),
            &["https://example.com", "https://example.com"]
        )));
    }

    #[test]
    fn allowlist_and_any() {
        let p = OriginPolicy::default().allow("HTTPS://App.Example/");
        assert!(p.permits(&headers(Some("api"), &["https://app.example"])));
        assert!(p.permits(&headers(Some("api"), &["https://app.example/"])));
        assert!(!p.permits(&headers(Some("api"), &["https://app.example:8443"])));
        assert!(OriginPolicy::Any.permits(&headers(None, &["null"])));
        assert_eq!(OriginPolicy::Any.allow("x"), OriginPolicy::Any);
    }
}
