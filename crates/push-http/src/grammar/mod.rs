//! The header grammars the push crates read, written once in nom: RFC 9110's tokens, quoted
//! strings, lists and parameters, and on top of them `Link` (RFC 8288), `Prefer` (RFC 7240),
//! entity-tag lists (`If-None-Match`, RFC 9110 §13.1.2) and `Cookie` (RFC 6265).
//!
//! Everything is borrowed from the header value (nothing is copied until a caller asks for an
//! unescaped quoted-string that holds a `\`) and walked lazily, one element per step. Header
//! values are hostile input:
//!
//! - nothing panics and nothing recurses: the grammars are flat, each step of a walk consumes
//!   at least one byte, so the work is linear in the value's length;
//! - nothing is collected without a bound: the iterators allocate nothing, and
//!   [`parse_links`] keeps at most [`MAX_LINKS`];
//! - one malformed element never hides another: `Link` and `Prefer` skip a malformed element
//!   up to the next comma outside quoted strings (and `<…>`), `Cookie` reads each `;` piece on
//!   its own. Entity-tag lists are the exception, and end at their first malformed element
//!   (a comma inside a malformed opaque-tag could otherwise start a forged element).
//!
//! The building blocks, RFC 9110 §5.6 ([`Word`], [`Param`], [`Params`], [`tokens`]):
//!
//! ```text
//! OWS            = *( SP / HTAB )
//! BWS            = OWS
//! token          = 1*tchar
//! tchar          = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_"
//!                / "`" / "|" / "~" / DIGIT / ALPHA
//! quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//! qdtext         = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//! quoted-pair    = "\" ( HTAB / SP / VCHAR / obs-text )
//! obs-text       = %x80-FF
//! word           = token / quoted-string            ; RFC 7240's name, used by Link too
//! parameters     = *( OWS ";" OWS [ parameter ] )
//! parameter      = token [ BWS "=" BWS word ]       ; the value is optional in Link and Prefer
//! ```
//!
//! ```
//! use push_http::grammar::{find_preference, links, tokens};
//!
//! let link = links(br#"</app.js>; rel=preload; as=script"#).next().unwrap();
//! assert!(link.has_rel("preload"));
//!
//! let wait = find_preference([&b"respond-async, wait=30"[..]], "wait").unwrap();
//! assert_eq!(wait.value().unwrap().as_token(), Some("30"));
//!
//! assert!(tokens(b"keep-alive, Upgrade").any(|t| t.eq_ignore_ascii_case("upgrade")));
//! ```

mod cookie;
mod etag;
mod link;
mod list;
mod prefer;
mod word;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use cookie::{Cookie, Cookies, cookie_values, cookies};
pub use etag::{EntityTag, EntityTagCondition, entity_tags};
pub use link::{Link, MAX_LINKS, links, parse_links};
pub use list::{List, has_token, tokens};
pub use prefer::{Preference, find_preference, preferences};
pub use word::{Param, Params, Word, is_tchar, is_token, to_word};
