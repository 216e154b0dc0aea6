//! The demo pages and the browser client, embedded in the binary (`assets/`): `/`, `/login`,
//! `/push.js` and the demo's service worker `/push-sw.js` (Web Push notifications).
//!
//! The pages name `/push.js` as a preload (`Link: </push.js>; rel=preload; as=script`): over
//! HTTP/2 the hub pushes it with the page ([`DemoPusher`], through push-h2, which sends 103
//! Early Hints instead when the client turned push off); over HTTP/1.1 the `Link` header lets
//! the browser fetch it early.

use bytes::Bytes;
use h2::RecvStream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, LINK};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use push_h2::{Error, ParentStream, Pusher, Resource};
use push_http::grammar::{EntityTag, EntityTagCondition, entity_tags};

/// One embedded asset.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// The path it is served at.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its content.
    pub body: &'static str,
    /// The assets it preloads (pushed over HTTP/2).
    pub preloads: &'static str,
}

/// The embedded assets.
pub const PAGES: [Page; 4] = [
    Page {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../assets/index.html"),
        preloads: PUSH_JS_PRELOAD,
    },
    Page {
        path: "/login",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../assets/login.html"),
        preloads: PUSH_JS_PRELOAD,
    },
    Page {
        path: "/push.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/push.js"),
        preloads: "",
    },
    // The demo's service worker (Web Push notifications); at the root, so its scope is `/`.
    Page {
        path: "/push-sw.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/push-sw.js"),
        preloads: "",
    },
];

const PUSH_JS_PRELOAD: &str = "</push.js>; rel=preload; as=script; crossorigin";

/// The asset served at `path`.
pub fn find(path: &str) -> Option<&'static Page> {
    PAGES.iter().find(|page| page.path == path)
}

impl Page {
    /// The response head of this asset: type, revalidation by `ETag`, and its preloads.
    pub fn head(&self) -> Response<()> {
        let mut response = Response::new(());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        // Embedded in the binary: valid until the hub is upgraded, so revalidate each time.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Ok(etag) = HeaderValue::from_str(&self.etag()) {
            headers.insert(ETAG, etag);
        }
        if !self.preloads.is_empty() {
            headers.insert(LINK, HeaderValue::from_static(self.preloads));
        }
        response
    }

    /// A strong entity tag: a hash of the content, the same for the life of the binary.
    pub fn etag(&self) -> String {
        // FNV-1a: stable across runs and platforms (std's hasher is randomly keyed).
        let hash = self.body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("\"{hash:016x}\"")
    }

    /// The answer to `method` with the request's `If-None-Match`: 200 with the body (none for
    /// HEAD), 304 when the client has it, 405 for other methods.
    pub fn answer(&self, method: &Method, if_none_match: Option<&HeaderValue>) -> Response<Bytes> {
        if method != Method::GET && method != Method::HEAD {
            let mut response = Response::new(Bytes::from_static(b"only GET and HEAD\n"));
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response
                .headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let (mut parts, ()) = self.head().into_parts();
        let etag = self.etag();
        let ours = EntityTag::new(etag.trim_matches('"').as_bytes(), false);
        // If-None-Match compares weakly (RFC 9110 §13.1.2).
        let fresh = if_none_match.is_some_and(|tags| {
            entity_tags(tags.as_bytes()).any(|condition| match condition {
                EntityTagCondition::Any => true,
                EntityTagCondition::Tag(tag) => ours.is_some_and(|ours| tag.weak_eq(&ours)),
            })
        });
        let body = if fresh {
            parts.status = StatusCode::NOT_MODIFIED;
            Bytes::new()
        } else if method == Method::HEAD {
            Bytes::new()
        } else {
            Bytes::from_static(self.body.as_bytes())
        };
        Response::from_parts(parts, body)
    }
}

/// Answers `GET /` and `GET /login` over HTTP/2 itself, pushing `/push.js` with the page (or
/// sending 103 Early Hints when the client refuses pushes). Every other request goes to the
/// router.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoPusher;

impl Pusher for DemoPusher {
    fn accepts(&self, request: &Request<RecvStream>) -> bool {
        request.method() == Method::GET
            && find(request.uri().path()).is_some_and(|page| !page.preloads.is_empty())
            && !request.headers().contains_key(http::header::IF_NONE_MATCH)
    }

    async fn push(
        &self,
        request: Request<RecvStream>,
        mut parent: ParentStream,
    ) -> Result<(), Error> {
        let Some(page) = find(request.uri().path()) else {
            // `accepts` took only pages; answer anything else plainly.
            let mut head = Response::new(());
            *head.status_mut() = StatusCode::NOT_FOUND;
            return parent.send_response(head, true);
        };
        let head = page.head();
        let preloads = parent.preload(head.headers(), |push| {
            find(push.path_and_query()).map(|asset| {
                let (parts, ()) = asset.head().into_parts();
                Resource {
                    response: Response::from_parts(parts, ()),
                    body: Bytes::from_static(asset.body.as_bytes()),
                }
            })
        })?;
        parent.send_response(head, false)?;
        parent.send_data(Bytes::from_static(page.body.as_bytes()), true)?;
        preloads.send().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_found_with_types_and_preloads() {
        let index = find("/").unwrap();
        assert!(index.content_type.starts_with("text/html"));
        assert_eq!(index.head().headers()[LINK], PUSH_JS_PRELOAD);
        let js = find("/push.js").unwrap();
        assert!(js.head().headers().get(LINK).is_none());
        assert!(find("/nope").is_none());
        assert_ne!(index.etag(), js.etag());
    }

    #[test]
    fn answers_get_head_304_and_405() {
        let page = find("/login").unwrap();
        let get = page.answer(&Method::GET, None);
        assert_eq!(get.status(), StatusCode::OK);
        assert_eq!(get.body().as_ref(), page.body.as_bytes());
        let head = page.answer(&Method::HEAD, None);
        assert!(head.body().is_empty());
        let tag = HeaderValue::from_str(&page.etag()).unwrap();
        assert_eq!(
            page.answer(&Method::GET, Some(&tag)).status(),
            StatusCode::NOT_MODIFIED
        );
        let other = HeaderValue::from_static("\"other\"");
        assert_eq!(
            page.answer(&Method::GET, Some(&other)).status(),
            StatusCode::OK
        );
        assert_eq!(
            page.answer(&Method::POST, None).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
