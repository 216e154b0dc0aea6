//! `Link` header parsing (RFC 8288 §3), enough for `rel=preload` push and Early Hints.
//!
//! ```text
//! Link       = #link-value
//! link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//! link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
//! ```
//!
//! The header comes from the application, but the parser treats it as hostile anyway: a malformed
//! link-value is skipped up to the next top-level comma, the others still count; nothing panics and
//! at most [`MAX_LINKS`] links are kept.

use http::HeaderMap;
use http::header::LINK;

/// The most links kept from one response (over all its `Link` headers).
pub const MAX_LINKS: usize = 64;

/// One parsed link-value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    target: String,
    preload: bool,
    nopush: bool,
    as_type: Option<String>,
}

impl Link {
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
pub fn parse_link_header(value: &[u8], out: &mut Vec<Link>) {
    let mut p = Parser { s: value, i: 0 };
    while out.len() < MAX_LINKS {
        p.skip_while(|b| b == b',' || is_ows(b));
        if p.i >= p.s.len() {
            break;
        }
        match p.link_value() {
            Some(link) => out.push(link),
            None => p.skip_to_comma(),
        }
    }
}

/// Every link of every `Link` header in `headers`, in order, at most [`MAX_LINKS`].
pub fn parse_links(headers: &HeaderMap) -> Vec<Link> {
    let mut out = Vec::new();
    for value in headers.get_all(LINK) {
        parse_link_header(value.as_bytes(), &mut out);
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_while(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    /// Skips the rest of a malformed link-value: up to a comma outside `<…>` and quotes.
    fn skip_to_comma(&mut self) {
        let (mut quoted, mut bracket) = (false, false);
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'\\' if quoted => self.i += 1,
                b'"' if !bracket => quoted = !quoted,
                b'<' if !quoted => bracket = true,
                b'>' if !quoted => bracket = false,
                b',' if !quoted && !bracket => return,
                _ => {}
            }
        }
    }

    fn link_value(&mut self) -> Option<Link> {
        if self.peek() != Some(b'<') {
            return None;
        }
        self.i += 1;
        let start = self.i;
        let len = self.s[start..].iter().position(|&b| b == b'>')?;
        let raw = &self.s[start..start + len];
        self.i = start + len + 1;
        if raw.iter().any(|&b| b <= b' ' || b >= 0x7f) {
            return None;
        }
        let target = core::str::from_utf8(raw).ok()?.to_owned();
        let mut link = Link {
            target,
            preload: false,
            nopush: false,
            as_type: None,
        };
        let (mut seen_rel, mut seen_as) = (false, false);
        loop {
            self.skip_while(is_ows);
            match self.peek() {
                None | Some(b',') => return Some(link),
                Some(b';') => self.i += 1,
                Some(_) => return None,
            }
            self.skip_while(is_ows);
            let name = self.token()?;
            self.skip_while(is_ows);
            let value = if self.peek() == Some(b'=') {
                self.i += 1;
                self.skip_while(is_ows);
                Some(if self.peek() == Some(b'"') {
                    self.quoted()?
                } else {
                    self.token()?.to_vec()
                })
            } else {
                None
            };
            if name.eq_ignore_ascii_case(b"rel") && !seen_rel {
                seen_rel = true;
                let value = value.unwrap_or_default();
                link.preload = value
                    .split(|b| b.is_ascii_whitespace())
                    .any(|t| t.eq_ignore_ascii_case(b"preload"));
            } else if name.eq_ignore_ascii_case(b"as") && !seen_as {
                seen_as = true;
                link.as_type = value
                    .and_then(|v| String::from_utf8(v).ok())
                    .map(|v| v.to_ascii_lowercase());
            } else if name.eq_ignore_ascii_case(b"nopush") {
                link.nopush = true;
            }
        }
    }

    /// A non-empty RFC 9110 token.
    fn token(&mut self) -> Option<&'a [u8]> {
        let (s, start) = (self.s, self.i);
        self.skip_while(is_tchar);
        (self.i > start).then(|| &s[start..self.i])
    }

    /// A quoted-string, unescaped; `None` if unterminated.
    fn quoted(&mut self) -> Option<Vec<u8>> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let b = self.peek()?;
            self.i += 1;
            match b {
                b'"' => return Some(out),
                b'\\' => {
                    out.push(self.peek()?);
                    self.i += 1;
                }
                _ => out.push(b),
            }
        }
    }
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Vec<Link> {
        let mut out = Vec::new();
        parse_link_header(value.as_bytes(), &mut out);
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
        let targets: Vec<_> = links.iter().map(Link::target).collect();
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
        assert_eq!(parse_links(&headers).len(), 3);
        let many = "</x>; rel=preload, ".repeat(100);
        assert_eq!(parse(&many).len(), MAX_LINKS);
    }
}
