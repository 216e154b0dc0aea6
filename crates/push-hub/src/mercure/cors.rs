//! CORS (mercure.md §8): an explicit origin allowlist; credentials (the cookie a browser's
//! `EventSource` sends with `withCredentials`) only for explicit origins, never with `*`.

use http::Method;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, HeaderMap, HeaderValue, ORIGIN, VARY,
};

/// The request headers a cross-origin client may send: the token, and the reconnection
/// cursor (as the reference hub allows), and the form's content type.
const ALLOW_HEADERS: &str = "authorization, cache-control, last-event-id, content-type";

/// The response headers a cross-origin script may read: the cursor headers and `Link`.
const EXPOSE_HEADERS: &str = "last-event-id, mercure-last-event-id, link";

/// The methods of the hub's URL.
const ALLOW_METHODS: &str = "GET, HEAD, POST, QUERY";

/// The allowlist, checked once per request.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cors {
    origins: Vec<String>,
    any: bool,
}

impl Cors {
    /// The policy for `origins` (empty: no CORS headers at all).
    pub(crate) fn new(origins: &[String]) -> Self {
        Self {
            any: origins.iter().any(|o| o == "*"),
            origins: origins
                .iter()
                .filter(|o| *o != "*")
                .map(|o| o.trim_end_matches('/').to_owned())
                .collect(),
        }
    }

    /// The value of `Access-Control-Allow-Origin` for a request from `origin`, and whether
    /// credentials are allowed; `None` for an origin the list does not allow.
    fn allow(&self, origin: &HeaderValue) -> Option<(HeaderValue, bool)> {
        if self.any {
            // With `*` in the list, never credentials (browsers refuse `*` with them, and a
            // reflected origin would let every site read a user's private updates).
            return Some((HeaderValue::from_static("*"), false));
        }
        let text = origin.to_str().ok()?;
        self.origins
            .iter()
            .any(|o| o == text)
            .then(|| (origin.clone(), true))
    }

    /// Adds the CORS headers of an actual (non-preflight) response to `response`.
    pub(crate) fn apply(&self, request: &HeaderMap, response: &mut HeaderMap) {
        if !self.any && self.origins.is_empty() {
            return;
        }
        response.append(VARY, HeaderValue::from_static("origin"));
        let Some((allow, credentials)) = request.get(ORIGIN).and_then(|o| self.allow(o)) else {
            return;
        };
        response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        if credentials {
            response.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        response.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }

    /// The headers of the answer to a preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`): empty when the origin or the method is not allowed,
    /// so the browser refuses the request.
    pub(crate) fn preflight(&self, request: &HeaderMap) -> HeaderMap {
        let mut out = HeaderMap::new();
        if !self.any && self.origins.is_empty() {
            return out;
        }
        out.append(
            VARY,
            HeaderValue::from_static(
                "origin, access-control-request-method, access-control-request-headers",
            ),
        );
        let method = request
            .get(ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| Method::from_bytes(m.as_bytes()).ok());
        let method_allowed = matches!(method, Some(m) if m == Method::GET || m == Method::HEAD || m == Method::POST
                || super::query_method::is_query(&m));
        let Some((allow, credentials)) = request.get(ORIGIN).and_then(|o| self.allow(o)) else {
            return out;
        };
        if !method_allowed {
            return out;
        }
        out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        if credentials {
            out.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        out.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        out.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        out.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(origin: &str, method: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        if let Some(m) = method {
            h.insert(
                ACCESS_CONTROL_REQUEST_METHOD,
                HeaderValue::from_str(m).unwrap(),
            );
        }
        h
    }

    #[test]
    fn explicit_origins_get_credentials_and_others_nothing() {
        let cors = Cors::new(&["https://app.example/".to_owned()]);
        let mut out = HeaderMap::new();
        cors.apply(&request("https://app.example", None), &mut out);
        assert_eq!(out[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        assert_eq!(out[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(out[ACCESS_CONTROL_EXPOSE_HEADERS], EXPOSE_HEADERS);
        assert_eq!(out[VARY], "origin");
        let mut out = HeaderMap::new();
        cors.apply(&request("https://evil.example", None), &mut out);
        assert!(out.get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert!(out.get(ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
        // Never reflected: a prefix or suffix of an allowed origin is another origin.
        let mut out = HeaderMap::new();
        cors.apply(&request("https://app.example.evil", None), &mut out);
        assert!(out.get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }

    #[test]
    fn a_star_never_allows_credentials() {
        let cors = Cors::new(&["*".to_owned(), "https://app.example".to_owned()]);
        let mut out = HeaderMap::new();
        cors.apply(&request("https://app.example", None), &mut out);
        assert_eq!(out[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(out.get(ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
    }

    #[test]
    fn no_list_no_headers() {
        let cors = Cors::new(&[]);
        let mut out = HeaderMap::new();
        cors.apply(&request("https://app.example", None), &mut out);
        assert!(out.is_empty());
        assert!(
            cors.preflight(&request("https://app.example", Some("GET")))
                .is_empty()
        );
    }

    #[test]
    fn preflights_allow_the_hubs_methods_from_listed_origins() {
        let cors = Cors::new(&["https://app.example".to_owned()]);
        let out = cors.preflight(&request("https://app.example", Some("POST")));
        assert_eq!(out[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        assert_eq!(out[ACCESS_CONTROL_ALLOW_METHODS], ALLOW_METHODS);
        assert_eq!(out[ACCESS_CONTROL_ALLOW_HEADERS], ALLOW_HEADERS);
        assert_eq!(out[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        // Mercure 1.0's QUERY subscribe (a body, so never a simple request) is preflighted.
        let out = cors.preflight(&request("https://app.example", Some("QUERY")));
        assert_eq!(out[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        assert!(ALLOW_METHODS.contains("QUERY"));
        for (origin, method) in [
            ("https://app.example", "DELETE"),
            ("https://evil.example", "GET"),
        ] {
            let out = cors.preflight(&request(origin, Some(method)));
            assert!(
                out.get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
                "{origin} {method}"
            );
        }
    }
}
