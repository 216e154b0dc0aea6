//! The `Cookie` request header, read leniently.

use core::fmt;

use http::HeaderMap;
use http::header::COOKIE;
use nom::Parser;
use nom::bytes::complete::{tag, take_till};
use nom::combinator::rest;

use super::word::Res;

/// One cookie of a `Cookie` header, borrowed from it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cookie<'a> {
    name: &'a str,
    value: &'a str,
}

impl<'a> Cookie<'a> {
    /// The cookie's name (never empty).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The cookie's value, without surrounding double quotes.
    pub fn value(&self) -> &'a str {
        self.value
    }
}

impl fmt::Debug for Cookie<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cookie({:?}={:?})", self.name, self.value)
    }
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_wsp(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_wsp(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// One piece between `;`s: `name "=" value`, before trimming.
fn cookie_pair(input: &[u8]) -> Res<'_, (&[u8], &[u8])> {
    let (input, name) = take_till(|b| b == b'=').parse(input)?;
    let (input, _) = tag(&b"="[..]).parse(input)?;
    let (input, value) = rest(input)?;
    Ok((input, (name, value)))
}

fn read_pair(piece: &[u8]) -> Option<Cookie<'_>> {
    let (_, (name, value)) = cookie_pair(piece).ok()?;
    let name = trim(name);
    let value = match trim(value) {
        [b'"', inner @ .., b'"'] => inner,
        value => value,
    };
    if name.is_empty() {
        return None;
    }
    Some(Cookie {
        name: core::str::from_utf8(name).ok()?,
        value: core::str::from_utf8(value).ok()?,
    })
}

/// The cookies of one `Cookie` header value, in order: RFC 6265 §4.2.1 for the grammar,
/// §5.2's spirit for the reading.
///
/// ```text
/// cookie-string = cookie-pair *( ";" SP cookie-pair )
/// cookie-pair   = cookie-name "=" cookie-value
/// cookie-name   = token
/// cookie-value  = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
/// ```
///
/// What user agents and intermediaries really send strays from that grammar (no space, extra
/// spaces, a stray `;`, a pair without `=`, bytes that are not cookie-octets), and one sibling
/// cookie a server does not know about must never hide the one it looks for. So a value is cut
/// at every `;`, and each piece is read on its own: the name is what precedes its first `=`,
/// the value what follows, both without surrounding spaces and tabs, and the value without one
/// pair of surrounding double quotes. A piece without `=`, with an empty name, or that is not
/// UTF-8 is skipped, and only that piece.
///
/// ```
/// use push_http::grammar::cookies;
///
/// let found: Vec<_> = cookies(b"a=1; junk; =x;b = \"2\" ;c=\xff; d=4")
///     .map(|c| (c.name(), c.value()))
///     .collect();
/// assert_eq!(found, [("a", "1"), ("b", "2"), ("d", "4")]);
/// ```
pub fn cookies(value: &[u8]) -> Cookies<'_> {
    Cookies { rest: Some(value) }
}

/// The iterator of [`cookies`].
#[derive(Clone, Debug)]
pub struct Cookies<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Cookies<'a> {
    type Item = Cookie<'a>;

    fn next(&mut self) -> Option<Cookie<'a>> {
        loop {
            let rest = self.rest?;
            let piece = match rest.iter().position(|&b| b == b';') {
                Some(at) => {
                    self.rest = Some(&rest[at + 1..]);
                    &rest[..at]
                }
                None => {
                    self.rest = None;
                    rest
                }
            };
            if let Some(cookie) = read_pair(piece) {
                return Some(cookie);
            }
        }
    }
}

/// The values of every cookie named `name` in the request's `Cookie` headers, in order (HTTP/2
/// may split the header into several fields, RFC 9113 §8.2.3).
///
/// ```
/// use http::HeaderMap;
/// use push_http::grammar::cookie_values;
///
/// let mut headers = HeaderMap::new();
/// headers.append("cookie", "a=1; d=!".parse().unwrap());
/// headers.append("cookie", "x; d=2".parse().unwrap());
/// assert_eq!(cookie_values(&headers, "d").collect::<Vec<_>>(), ["!", "2"]);
/// ```
pub fn cookie_values<'h>(headers: &'h HeaderMap, name: &'h str) -> impl Iterator<Item = &'h str> {
    headers
        .get_all(COOKIE)
        .into_iter()
        .flat_map(|value| cookies(value.as_bytes()))
        .filter(move |cookie| cookie.name == name)
        .map(|cookie| cookie.value)
}
