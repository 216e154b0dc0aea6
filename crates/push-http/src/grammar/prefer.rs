//! The `Prefer` header (RFC 7240 §2).

use core::fmt;

use nom::Parser;

use super::list::{List, Recovery};
use super::word::{Param, Params, Res, Word, parameter, recognize_parameters};

/// One preference: a name, an optional value and parameters, borrowed from the header.
///
/// ```
/// use push_http::grammar::preferences;
///
/// let found: Vec<_> = preferences(br#"respond-async, wait=10; x="y", handling=lenient"#).collect();
/// assert_eq!(found.len(), 3);
/// assert!(found[1].is("WAIT"));
/// assert_eq!(found[1].value().unwrap().as_token(), Some("10"));
/// assert_eq!(found[1].params().get("x").unwrap().value().unwrap().to_str().unwrap(), "y");
/// ```
#[derive(Clone, Copy)]
pub struct Preference<'a> {
    head: Param<'a>,
    /// The parameters as written, checked by the parser (rarely walked: parsed again then).
    written: &'a [u8],
}

/// Two preferences are equal when they are written alike.
impl PartialEq for Preference<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.head == other.head && self.written == other.written
    }
}

impl Eq for Preference<'_> {}

impl<'a> Preference<'a> {
    /// The preference's name as written.
    pub fn name(&self) -> &'a str {
        self.head.name()
    }

    /// Whether the preference is named `name`, ASCII case aside.
    pub fn is(&self, name: &str) -> bool {
        self.head.is(name)
    }

    /// The value after `=`, if any.
    pub fn value(&self) -> Option<Word<'a>> {
        self.head.value()
    }

    /// The parameters after the value, in order.
    pub fn params(&self) -> Params<'a> {
        Params::parse(self.written)
    }
}

impl fmt::Debug for Preference<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preference")
            .field("name", &self.name())
            .field("value", &self.value())
            .field("params", &self.params().collect::<Vec<_>>())
            .finish()
    }
}

fn preference(input: &[u8]) -> Res<'_, Preference<'_>> {
    let (rest, (head, written)) = (parameter, recognize_parameters).parse(input)?;
    Ok((rest, Preference { head, written }))
}

/// The well-formed preferences of one `Prefer` header value, in order.
///
/// ```text
/// Prefer     = 1#preference
/// preference = token [ BWS "=" BWS word ] *( OWS ";" [ OWS parameter ] )
/// parameter  = token [ BWS "=" BWS word ]
/// ```
///
/// RFC 7240 §2: a server ignores a preference it does not understand, and only the first
/// instance of a preference counts. Here a preference that does not parse is skipped up to the
/// next comma outside quoted strings, and [`find_preference`] answers the first well-formed
/// instance of a name, over all the values of the header.
pub fn preferences(value: &[u8]) -> List<'_, Preference<'_>> {
    List::new(value, preference, Recovery::Skip { brackets: false })
}

/// The first well-formed preference named `name` (ASCII case aside) in `values`, the values
/// of the request's `Prefer` headers in order.
///
/// ```
/// use push_http::grammar::find_preference;
///
/// let values: [&[u8]; 2] = [b"return=minimal", b"wait=5, wait=10"];
/// let wait = find_preference(values, "wait").unwrap();
/// assert_eq!(wait.value().unwrap().as_token(), Some("5"));
/// assert!(find_preference(values, "respond-async").is_none());
/// ```
pub fn find_preference<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
    name: &str,
) -> Option<Preference<'a>> {
    values
        .into_iter()
        .flat_map(preferences)
        .find(|p| p.is(name))
}
