//! Push requests that are valid by construction.

use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme, Uri};
use http::{Method, Request};

use crate::resolve::{canonical_authority, resolve};
use crate::{Error, PushConfig};

/// The longest push target accepted, in bytes.
pub const MAX_TARGET_LEN: usize = 8 * 1024;

/// What a pushed request inherits from its parent: the connection's scheme, the parent's
/// `:authority` and path, and the request headers the [`PushConfig`] says to copy.
///
/// Built once per parent request ([`PushContext::new`]); every [`PushRequest`] is built from one.
#[derive(Debug, Clone)]
pub struct PushContext {
    pub(crate) scheme: Scheme,
    pub(crate) parent_authority: Option<Authority>,
    /// The parent's path and query (shared bytes, not copied); `None` when its URI has no path.
    parent_path: Option<PathAndQuery>,
    headers: HeaderMap,
    /// [`PushConfig::authorities`]; `None` when empty (the parent's authority only).
    pub(crate) authorities: Option<Arc<[Authority]>>,
}

impl PushContext {
    /// Captures what pushes for `parent` inherit. The parent is a request received from a peer, so
    /// nothing in it is trusted: an invalid copied header is skipped, a missing authority only
    /// makes pushes fail later with [`Error::MissingAuthority`].
    pub fn new<B>(config: &PushConfig, parent: &Request<B>) -> Self {
        Self::build(config, parent, true)
    }

    pub(crate) fn build<B>(config: &PushConfig, parent: &Request<B>, copy: bool) -> Self {
        let parent_authority = parent
            .uri()
            .authority()
            .cloned()
            .or_else(|| {
                let host = parent.headers().get(header::HOST)?;
                Authority::try_from(host.as_bytes()).ok()
            })
            .and_then(|authority| canonical_authority(authority, &config.scheme));
        let mut headers = HeaderMap::new();
        let copy_headers = copy && !parent.headers().is_empty();
        let copy = config
            .copy_headers
            .iter()
            .chain(config.copy_cookies.then_some(&header::COOKIE));
        for name in copy.filter(|_| copy_headers) {
            if forbidden(name) {
                continue;
            }
            for value in parent.headers().get_all(name) {
                if valid_value(value) {
                    headers.append(name.clone(), value.clone());
                }
            }
        }
        let uri = parent.uri();
        Self {
            scheme: config.scheme.clone(),
            parent_authority,
            parent_path: if uri.path().is_empty() {
                None
            } else {
                uri.path_and_query().cloned()
            },
            headers,
            authorities: (!config.authorities.is_empty()).then(|| config.authorities.clone()),
        }
    }

    /// The parent's path (as `Uri::path`).
    pub(crate) fn parent_path(&self) -> &str {
        self.parent_path.as_ref().map_or("", PathAndQuery::path)
    }

    /// The parent's authority, if it sent one.
    pub fn parent_authority(&self) -> Option<&Authority> {
        self.parent_authority.as_ref()
    }
}

/// A `PUSH_PROMISE` request that HTTP/2 accepts: `GET` or `HEAD`, no body, an absolute URI whose
/// scheme is the connection's and whose authority the server is authoritative for, and header
/// values a client will not reject.
///
/// The only ways to build one are [`PushRequest::get`], [`PushRequest::new`] and
/// [`PushRequest::from_http`], which check all of that; nothing can change it afterwards except
/// [`PushRequest::with_header`], which checks too.
#[derive(Debug, Clone)]
pub struct PushRequest {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl PushRequest {
    /// A `GET` push of `target` (a path, a reference relative to the parent's path, or an
    /// absolute URI on an authority the server is authoritative for).
    pub fn get(context: &PushContext, target: &str) -> Result<Self, Error> {
        Self::new(context, Method::GET, target)
    }

    /// A push of `target` with `method`, which must be `GET` or `HEAD`.
    pub fn new(context: &PushContext, method: Method, target: &str) -> Result<Self, Error> {
        if method != Method::GET && method != Method::HEAD {
            return Err(Error::UnsafeMethod(method));
        }
        let uri = resolve(context, target)?;
        Ok(Self {
            method,
            uri,
            headers: context.headers.clone(),
        })
    }

    /// Validates a complete request built elsewhere: method, empty body, target and every header.
    pub fn from_http<B: AsRef<[u8]>>(
        context: &PushContext,
        request: Request<B>,
    ) -> Result<Self, Error> {
        let (parts, body) = request.into_parts();
        if !body.as_ref().is_empty() {
            return Err(Error::BodyNotAllowed);
        }
        let target = parts.uri.to_string();
        let mut push = Self::new(context, parts.method, &target)?;
        for (name, value) in &parts.headers {
            check_header(name, value)?;
        }
        for (name, value) in parts.headers {
            if let Some(name) = name {
                push.headers.remove(&name);
                push.headers.insert(name, value);
            }
        }
        Ok(push)
    }

    /// Adds (or replaces) one request header, checked like every other.
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Result<Self, Error> {
        let value =
            HeaderValue::from_str(value).map_err(|_| Error::InvalidHeaderValue(name.clone()))?;
        check_header(&name, &value)?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// `GET` or `HEAD`.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The absolute URI promised.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The path and query, the key of the push diary.
    pub fn path_and_query(&self) -> &str {
        self.uri.path_and_query().map_or("/", PathAndQuery::as_str)
    }

    /// The request headers sent in the `PUSH_PROMISE`.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `http::Request` h2 sends; valid by construction.
    pub fn to_http(&self) -> Request<()> {
        self.clone().into_http()
    }

    /// [`to_http`](Self::to_http) without copying.
    pub(crate) fn into_http(self) -> Request<()> {
        let mut request = Request::new(());
        *request.method_mut() = self.method;
        *request.uri_mut() = self.uri;
        *request.headers_mut() = self.headers;
        request
    }
}

fn check_header(name: &HeaderName, value: &HeaderValue) -> Result<(), Error> {
    if forbidden(name) {
        return Err(
            if *name == header::CONTENT_LENGTH || *name == header::CONTENT_TYPE {
                Error::BodyNotAllowed
            } else {
                Error::ForbiddenHeader(name.clone())
            },
        );
    }
    if !valid_value(value) {
        return Err(Error::InvalidHeaderValue(name.clone()));
    }
    Ok(())
}

/// Connection-specific headers (RFC 9113 §8.2.2), `host` (the authority is a pseudo-header) and
/// body headers.
fn forbidden(name: &HeaderName) -> bool {
    [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::TE,
        header::HOST,
        header::CONTENT_LENGTH,
        header::CONTENT_TYPE,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

/// RFC 9113 §8.2.1: no NUL, CR or LF (HeaderValue already refuses them), no leading or trailing
/// whitespace.
fn valid_value(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    let ws = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    !ws(bytes.first())
        && !ws(bytes.last())
        && !bytes.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(config: &PushConfig) -> PushContext {
        let parent = Request::get("http://example.com/app/index.html")
            .header("accept-encoding", "gzip")
            .header("cookie", "a=b")
            .header("x-private", "1")
            .body(())
            .unwrap();
        PushContext::new(config, &parent)
    }

    #[test]
    fn resolves_targets() {
        let config = PushConfig::new(Scheme::HTTP);
        let cx = context(&config);
        let uri = |t: &str| PushRequest::get(&cx, t).map(|r| r.uri().to_string());
        assert_eq!(uri("/style.css").unwrap(), "http://example.com/style.css");
        assert_eq!(
            uri("app.js?v=1#x").unwrap(),
            "http://example.com/app/app.js?v=1"
        );
        assert_eq!(uri("../a/./b/../c").unwrap(), "http://example.com/a/c");
        // A host is case-insensitive: one resource, one URI (the fuzzer's find, issue 10).
        assert_eq!(uri("http://EXAMPLE.com/x").unwrap(), "http://example.com/x");
        assert_eq!(uri("//Example.com/net").unwrap(), "http://example.com/net");
        assert_eq!(
            uri("http://example.com:/x").unwrap(),
            "http://example.com/x"
        );
        assert_eq!(uri("//example.com/y").unwrap(), "http://example.com/y");
        // The scheme's default port is no port: one resource, one URI.
        assert_eq!(
            uri("http://example.com:80/x").unwrap(),
            "http://example.com/x"
        );
        assert_eq!(uri("//Example.com:080/z").unwrap(), "http://example.com/z");
        assert!(matches!(
            uri("//example.com:8080/x"),
            Err(Error::ForeignAuthority(_))
        ));
        // A port that is no number names no server (the h2_link fuzzer's find): it was taken
        // for no port, so the push went to the parent's authority with the bad port in its URI.
        assert!(matches!(
            uri("http://example.com:6om/net"),
            Err(Error::InvalidTarget)
        ));
        // Nor does a host that `Authority` reads as `example.com` but is not (the fuzzer's too).
        assert!(matches!(
            uri("http://example.com:80&&[::1]:80/g"),
            Err(Error::InvalidTarget)
        ));
        assert_eq!(uri("?q").unwrap(), "http://example.com/app/?q");
        assert_eq!(uri("http://example.com").unwrap(), "http://example.com/");
        assert_eq!(
            uri("http://example.com?x").unwrap(),
            "http://example.com/?x"
        );
        assert_eq!(uri("/a/./b?x=/.").unwrap(), "http://example.com/a/b?x=/.");
        assert_eq!(uri("/a//b/?x#y").unwrap(), "http://example.com/a//b/?x");
        assert!(matches!(
            uri("https://example.com/x"),
            Err(Error::SchemeMismatch)
        ));
        assert!(matches!(
            uri("http://evil.example/x"),
            Err(Error::ForeignAuthority(_))
        ));
        assert!(matches!(uri("//u@example.com/"), Err(Error::InvalidTarget)));
        assert!(matches!(uri("/a b"), Err(Error::InvalidTarget)));
        assert!(matches!(uri(""), Err(Error::InvalidTarget)));
    }

    #[test]
    fn the_parents_authority_is_canonical_too() {
        let config = PushConfig::new(Scheme::HTTPS);
        let parent = Request::get("/page")
            .header("host", "WWW.Example.com:8443")
            .body(())
            .unwrap();
        let cx = PushContext::new(&config, &parent);
        assert_eq!(cx.parent_authority().unwrap(), "www.example.com:8443");
        let push = PushRequest::get(&cx, "style.css").unwrap();
        assert_eq!(push.uri(), "https://www.example.com:8443/style.css");
        // The default port is dropped from the parent as from targets, so both spellings of a
        // page push the same URIs.
        for parent in ["https://example.com:443/page", "https://Example.com/page"] {
            let parent = Request::get(parent).body(()).unwrap();
            let cx = PushContext::new(&config, &parent);
            assert_eq!(cx.parent_authority().unwrap(), "example.com");
            let push = PushRequest::get(&cx, "https://example.com:443/a.css").unwrap();
            assert_eq!(push.uri(), "https://example.com/a.css");
        }
    }

    #[test]
    fn methods_bodies_and_headers() {
        let config = PushConfig::new(Scheme::HTTP);
        let cx = context(&config);
        assert!(matches!(
            PushRequest::new(&cx, Method::POST, "/x"),
            Err(Error::UnsafeMethod(_))
        ));
        let head = PushRequest::new(&cx, Method::HEAD, "/x").unwrap();
        assert_eq!(head.headers().get("accept-encoding").unwrap(), "gzip");
        assert!(head.headers().get("cookie").is_none());
        assert!(head.headers().get("x-private").is_none());
        let with_body = Request::get("/x").body(&b"data"[..]).unwrap();
        assert!(matches!(
            PushRequest::from_http(&cx, with_body),
            Err(Error::BodyNotAllowed)
        ));
        let upgrade = Request::get("/x")
            .header("upgrade", "h2c")
            .body(&b""[..])
            .unwrap();
        assert!(matches!(
            PushRequest::from_http(&cx, upgrade),
            Err(Error::ForbiddenHeader(_))
        ));
        let ok = Request::get("/x")
            .header("accept", "text/css")
            .body(&b""[..])
            .unwrap();
        let ok = PushRequest::from_http(&cx, ok).unwrap();
        assert_eq!(ok.to_http().headers().get("accept").unwrap(), "text/css");
        let name = HeaderName::from_static("x-a");
        assert!(matches!(
            head.clone().with_header(name.clone(), " lead"),
            Err(Error::InvalidHeaderValue(_))
        ));
        assert!(matches!(
            head.with_header(name, "a\r\nb"),
            Err(Error::InvalidHeaderValue(_))
        ));
    }

    #[test]
    fn cookies_are_opt_in_and_authority_can_be_missing() {
        let config = PushConfig::new(Scheme::HTTP).with_copy_cookies(true);
        assert_eq!(context(&config).headers.get("cookie").unwrap(), "a=b");
        let parent = Request::get("/").body(()).unwrap();
        let cx = PushContext::new(&config, &parent);
        assert!(matches!(
            PushRequest::get(&cx, "/x"),
            Err(Error::MissingAuthority)
        ));
        let parent = Request::get("/")
            .header("host", "h.example:81")
            .body(())
            .unwrap();
        let cx = PushContext::new(&config, &parent);
        assert_eq!(
            PushRequest::get(&cx, "/x").unwrap().uri(),
            "http://h.example:81/x"
        );
    }
}
