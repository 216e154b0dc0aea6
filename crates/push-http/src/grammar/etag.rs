//! Entity tags (RFC 9110 §8.8.3) and the lists of `If-None-Match` / `If-Match` (§13.1).

use core::fmt;

use nom::Parser;
use nom::bytes::complete::{tag, take_while};
use nom::combinator::{map, opt};
use nom::sequence::delimited;

use super::list::{List, Recovery};
use super::word::{Res, byte};

/// One entity tag, borrowed from the header.
///
/// ```
/// use push_http::grammar::EntityTag;
///
/// let strong = EntityTag::parse(br#""1-2""#).unwrap();
/// let weak = EntityTag::parse(br#"W/"1-2""#).unwrap();
/// assert_eq!(strong.tag(), b"1-2");
/// assert!(weak.is_weak() && weak.weak_eq(&strong) && !weak.strong_eq(&strong));
/// assert_eq!(weak.to_string(), r#"W/"1-2""#);
/// assert!(EntityTag::parse(b"1-2").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntityTag<'a> {
    weak: bool,
    tag: &'a [u8],
}

impl<'a> EntityTag<'a> {
    /// The entity tag `"tag"` (`W/"tag"` when `weak`); `None` when `tag` holds a byte an
    /// opaque-tag may not (a control, a space, `"` or DEL).
    pub fn new(tag: &'a [u8], weak: bool) -> Option<Self> {
        tag.iter()
            .all(|&b| is_etagc(b))
            .then_some(Self { weak, tag })
    }

    /// The entity tag that is the whole of `value` (an `ETag` header), surrounding whitespace
    /// aside.
    pub fn parse(value: &'a [u8]) -> Option<Self> {
        match entity_tag(value.trim_ascii()) {
            Ok(([], tag)) => Some(tag),
            _ => None,
        }
    }

    /// Whether the tag is weak (`W/`).
    pub fn is_weak(&self) -> bool {
        self.weak
    }

    /// The opaque tag between the quotes.
    pub fn tag(&self) -> &'a [u8] {
        self.tag
    }

    /// The strong comparison (RFC 9110 §8.8.3.2): both strong, same tag.
    pub fn strong_eq(&self, other: &EntityTag<'_>) -> bool {
        !self.weak && !other.weak && self.tag == other.tag
    }

    /// The weak comparison (RFC 9110 §8.8.3.2), the one `If-None-Match` uses: same tag.
    pub fn weak_eq(&self, other: &EntityTag<'_>) -> bool {
        self.tag == other.tag
    }
}

impl fmt::Debug for EntityTag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntityTag({self})")
    }
}

/// The entity tag as a header writes it: `"tag"` or `W/"tag"`.
impl fmt::Display for EntityTag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let weak = if self.weak { "W/" } else { "" };
        write!(f, "{weak}\"{}\"", String::from_utf8_lossy(self.tag))
    }
}

/// One element of an `If-None-Match` or `If-Match` list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityTagCondition<'a> {
    /// `*`: any current representation.
    Any,
    /// One entity tag.
    Tag(EntityTag<'a>),
}

fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

fn entity_tag(input: &[u8]) -> Res<'_, EntityTag<'_>> {
    map(
        (
            opt(tag(&b"W/"[..])),
            delimited(byte(b'"'), take_while(is_etagc), byte(b'"')),
        ),
        |(weak, tag)| EntityTag {
            weak: weak.is_some(),
            tag,
        },
    )
    .parse(input)
}

fn condition(input: &[u8]) -> Res<'_, EntityTagCondition<'_>> {
    nom::branch::alt((
        map(byte(b'*'), |_| EntityTagCondition::Any),
        map(entity_tag, EntityTagCondition::Tag),
    ))
    .parse(input)
}

/// The elements of an `If-None-Match` (or `If-Match`) value, up to the first malformed one.
///
/// ```text
/// entity-tag    = [ weak ] opaque-tag
/// weak          = %s"W/"
/// opaque-tag    = DQUOTE *etagc DQUOTE
/// etagc         = %x21 / %x23-7E / obs-text
/// If-None-Match = "*" / #entity-tag
/// ```
///
/// An opaque-tag may contain a comma, so after a malformed element no later comma can be
/// trusted to start an element: a list of entity tags ends at its first malformed element
/// (what it held before still counts). `*` is read wherever it appears in the list.
///
/// ```
/// use push_http::grammar::{EntityTagCondition, entity_tags};
///
/// let found: Vec<_> = entity_tags(br#""a", W/"b,c" , *, junk, "d""#).collect();
/// assert_eq!(found.len(), 3, "the list ends at `junk`");
/// assert!(matches!(found[1], EntityTagCondition::Tag(t) if t.tag() == b"b,c" && t.is_weak()));
/// assert_eq!(found[2], EntityTagCondition::Any);
/// ```
pub fn entity_tags(value: &[u8]) -> List<'_, EntityTagCondition<'_>> {
    List::new(value, condition, Recovery::Stop)
}
