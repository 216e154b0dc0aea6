//! The upgrade request's head as a connection keeps it for the authorization of its subscribe
//! commands: compact, since an idle connection keeps it for its whole life.
//!
//! An `http::HeaderMap` reserves room to grow (an index table and spare entries): for the few
//! headers of an upgrade request that is over a kilobyte a connection would hold for nothing.
//! [`Retained`] keeps the same headers in a slice of exactly their number and rebuilds the head
//! for each authorization, which is rare (one per subscribe command) next to the idle time.

use http::header::{HeaderName, HeaderValue};
use http::request::Parts;
use http::{Extensions, Method, Request, Uri, Version};

/// A request head, kept compact: every header in order (repeated names repeated), and the
/// extensions (which a server may have used to attach, say, the peer's address).
#[derive(Debug)]
pub(crate) struct Retained {
    method: Method,
    uri: Uri,
    version: Version,
    headers: Box<[(HeaderName, HeaderValue)]>,
    extensions: Extensions,
}

impl Retained {
    pub(crate) fn new(parts: Parts) -> Self {
        let mut headers = Vec::with_capacity(parts.headers.len());
        let mut name: Option<HeaderName> = None;
        // `HeaderMap::into_iter` names a header once, before its first value.
        for (next, value) in parts.headers {
            if next.is_some() {
                name = next;
            }
            if let Some(name) = &name {
                headers.push((name.clone(), value));
            }
        }
        Self {
            method: parts.method,
            uri: parts.uri,
            version: parts.version,
            headers: headers.into_boxed_slice(),
            extensions: parts.extensions,
        }
    }

    /// The head again, as the hooks read it.
    pub(crate) fn parts(&self) -> Parts {
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.method = self.method.clone();
        parts.uri = self.uri.clone();
        parts.version = self.version;
        parts.headers.reserve(self.headers.len());
        for (name, value) in &self.headers {
            parts.headers.append(name.clone(), value.clone());
        }
        parts.extensions = self.extensions.clone();
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_comes_back_whole() {
        let (mut parts, ()) = Request::get("/ws?topic=a")
            .header("host", "example.com")
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .header("x-custom", "yes")
            .body(())
            .unwrap()
            .into_parts();
        parts.extensions.insert(7_u32);
        let back = Retained::new(parts.clone()).parts();
        assert_eq!(back.method, parts.method);
        assert_eq!(back.uri, parts.uri);
        assert_eq!(back.version, parts.version);
        assert_eq!(back.headers, parts.headers);
        let cookies: Vec<_> = back.headers.get_all("cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(back.extensions.get::<u32>(), Some(&7));
    }
}
