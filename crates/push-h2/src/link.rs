//! `Link` header parsing (RFC 8288 §3), enough for `rel=preload` push and Early Hints.
//!
//! ```text
//! Link       = #link-value
//! link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//! link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
//! ```
//!
//! The grammar is push-http's (one nom parser for every crate). The header comes from the
//! application, but the parser treats it as hostile anyway: a malformed link-value is skipped up
//! to the next top-level comma, the others still count; nothing panics and at most
//! [`MAX_LINKS`] links are kept.

use http::HeaderMap;
use http::header::LINK;

pub use push_http::grammar::MAX_LINKS;

/// One link-value as a push server reads it: its target, `rel=preload`, `nopush` and `as`
/// (push-http's [`grammar::Link`](push_http::grammar::Link) is the full link-value this is read
/// from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreloadLink {
    target: String,
    preload: bool,
    nopush: bool,
    as_type: Option<String>,
}

impl PreloadLink {
    /// The URI reference between `<` and `>`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// `rel` names `preload` (possibly among other relation types).
    pub fn is_preload(&self) -> bool {
        self.preload
    }

    /// The `nopush` attribute: hint, but do not push.
    pub fn is_nopush(&self) -> bool {
        self.nopush
    }

    /// The `as` attribute (`style`, `script`, `fetch`, …), lowercased.
    pub fn as_type(&self) -> Option<&str> {
        self.as_type.as_deref()
    }

    /// A preload the server should push: `rel=preload` without `nopush`.
    pub fn is_push_candidate(&self) -> bool {
        self.preload && !self.nopush
    }
}

/// Parses one `Link` header value, appending to `out` until it holds [`MAX_LINKS`] links.
///
/// The grammar is push-http's ([`push_http::grammar::links`]): a malformed link-value is
/// skipped up to the next comma outside `<…>` and quoted strings, the others still count.
pub fn preload_link_header(value: &[u8], out: &mut Vec<PreloadLink>) {
    let room = MAX_LINKS.saturating_sub(out.len());
    out.extend(push_http::grammar::links(value).take(room).map(|link| {
        let as_type = link
            .param("as")
            .and_then(|p| p.value())
            .and_then(|v| v.to_str().map(|t| t.to_ascii_lowercase()));
        PreloadLink {
            target: link.target().to_owned(),
            preload: link.has_rel("preload"),
            nopush: link.param("nopush").is_some(),
            as_type,
        }
    }));
}

/// Every link of every `Link` header in `headers`, in order, at most [`MAX_LINKS`].
pub fn preload_links(headers: &HeaderMap) -> Vec<PreloadLink> {
    let mut out = Vec::new();
    for value in headers.get_all(LINK) {
        preload_link_header(value.as_bytes(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Vec<PreloadLink> {
        let mut out = Vec::new();
        preload_link_header(value.as_bytes(), &mut out);
        out
    }

    #[test]
    fn several_links_and_params() {
        let links = parse(
            r#"</style.css>; rel=preload; as=style, </app.js>;rel="preload";AS="Script";nopush, <https://x/y,z>; rel="prefetch preload""#,
        );
        assert_eq!(links.len(), 3);
        assert_eq!(links[0].target(), "/style.css");
        assert!(links[0].is_push_candidate());
        assert_eq!(links[0].as_type(), Some("style"));
        assert!(links[1].is_preload() && links[1].is_nopush() && !links[1].is_push_candidate());
        assert_eq!(links[1].as_type(), Some("script"));
        assert_eq!(links[2].target(), "https://x/y,z");
        assert!(links[2].is_preload());
    }

    #[test]
    fn malformed_values_are_skipped() {
        let links = parse(
            r#"junk, </a>; rel="pre,load", <b c>; rel=preload, </d>; rel=preload; title="x\"y,", </e> x, </f>;rel=preload"#,
        );
        let targets: Vec<_> = links.iter().map(PreloadLink::target).collect();
        assert_eq!(targets, ["/a", "/d", "/f"]);
        assert!(!links[0].is_preload());
        assert!(parse(r#"</a>; rel="unterminated"#).is_empty());
        assert!(parse("<").is_empty());
        assert!(parse(",,, ,").is_empty());
    }

    #[test]
    fn first_rel_wins_and_headers_combine() {
        assert!(!parse("</a>; rel=stylesheet; rel=preload")[0].is_preload());
        let mut headers = HeaderMap::new();
        headers.append(LINK, "</a>; rel=preload".parse().unwrap());
        headers.append(
            LINK,
            "</b>; rel=preload, </c>; rel=preload".parse().unwrap(),
        );
        assert_eq!(preload_links(&headers).len(), 3);
        let many = "</x>; rel=preload, ".repeat(100);
        assert_eq!(parse(&many).len(), MAX_LINKS);
    }
}
