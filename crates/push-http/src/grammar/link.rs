//! The `Link` header (RFC 8288 §3).

use core::fmt;

use http::HeaderMap;
use http::header::LINK;
use nom::Parser;
use nom::bytes::complete::take_while;
use nom::combinator::map;
use nom::sequence::delimited;

use super::list::{List, Recovery};
use super::word::{Param, Params, Res, byte, parameters};

/// The most links [`parse_links`] keeps from one response, over all its `Link` headers: a push
/// server acts on a handful, and 64 bounds what a response's headers can make it hold.
pub const MAX_LINKS: usize = 64;

/// One link-value, borrowed from the header.
///
/// ```
/// use push_http::grammar::links;
///
/// let value = br#"</style.css>; rel="preload stylesheet"; as=style, <https://x/y,z>; nopush"#;
/// let found: Vec<_> = links(value).collect();
/// assert_eq!(found[0].target(), "/style.css");
/// assert!(found[0].has_rel("preload"));
/// assert_eq!(found[0].param("AS").unwrap().value().unwrap().as_token(), Some("style"));
/// assert_eq!(found[1].target(), "https://x/y,z");
/// assert!(found[1].param("nopush").is_some());
/// ```
#[derive(Clone, Copy)]
pub struct Link<'a> {
    target: &'a str,
    /// The link-params as written, checked by the parser.
    written: &'a [u8],
    params: Params<'a>,
}

/// Two links are equal when they are written alike.
impl PartialEq for Link<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.target == other.target && self.written == other.written
    }
}

impl Eq for Link<'_> {}

impl<'a> Link<'a> {
    /// The URI reference between `<` and `>`, as written.
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// The link-params, in order.
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// The first link-param named `name` (ASCII case aside); RFC 8288 §3.3: occurrences of
    /// `rel` after the first are ignored, and so are those of any other parameter here.
    pub fn param(&self, name: &str) -> Option<Param<'a>> {
        self.params().get(name)
    }

    /// Whether the first `rel` names the relation type `rel` (ASCII case aside) among its
    /// space-separated types.
    pub fn has_rel(&self, rel: &str) -> bool {
        let Some(value) = self.param("rel").and_then(|p| p.value()) else {
            return false;
        };
        value
            .unescape()
            .split(|b| matches!(b, b' ' | b'\t'))
            .any(|t| t.eq_ignore_ascii_case(rel.as_bytes()))
    }
}

impl fmt::Debug for Link<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("target", &self.target)
            .field("params", &self.params().collect::<Vec<_>>())
            .finish()
    }
}

/// Writes the link as a link-value: `<target>` and the params as they were written.
impl fmt::Display for Link<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<{}>{}",
            self.target,
            String::from_utf8_lossy(self.written)
        )
    }
}

fn is_target(b: u8) -> bool {
    b > b' ' && b < 0x7f && b != b'>' && b != b'<'
}

fn link_value(input: &[u8]) -> Res<'_, Link<'_>> {
    let target = map(take_while(is_target), |t: &[u8]| {
        // is_target admits ASCII only.
        core::str::from_utf8(t).unwrap_or_default()
    });
    let (rest, target) = delimited(byte(b'<'), target, byte(b'>')).parse(input)?;
    let (rest, (written, params)) = parameters(rest)?;
    Ok((
        rest,
        Link {
            target,
            written,
            params,
        },
    ))
}

/// The well-formed link-values of one `Link` header value, in order.
///
/// ```text
/// Link       = #link-value
/// link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
/// link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
/// ```
///
/// The target is kept as written between `<` and `>` (printable ASCII without spaces; not
/// resolved, not checked further as a URI). A malformed link-value is skipped up to the next
/// comma outside `<…>` and quoted strings; the others still count. As RFC 9110's `parameters`
/// rule allows, an empty parameter (`;;`) is passed over.
pub fn links(value: &[u8]) -> List<'_, Link<'_>> {
    List::new(value, link_value, Recovery::Skip { brackets: true })
}

/// Every well-formed link of every `Link` header in `headers`, in order, at most
/// [`MAX_LINKS`].
pub fn parse_links(headers: &HeaderMap) -> Vec<Link<'_>> {
    headers
        .get_all(LINK)
        .iter()
        .flat_map(|value| links(value.as_bytes()))
        .take(MAX_LINKS)
        .collect()
}
