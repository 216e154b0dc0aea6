//! RFC 9110 §5.6.1 lists (`#element`), walked lazily with a recovery rule for malformed
//! elements: the `#element` rule and the walk are described on [`tokens`].

use core::fmt;

use nom::Parser;
use nom::combinator::value;

use super::word::{Res, byte, ows, token};

/// What a list does with an element that does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// Skip to the next top-level comma; `<…>` brackets group too when `true`.
    Skip { brackets: bool },
    /// End the list (where a comma inside a malformed element could be misread).
    Stop,
}

/// The elements of one header value that parse, in order (see the module docs of
/// [`grammar`](super) for what each list does with one that does not).
#[derive(Clone)]
pub struct List<'a, T> {
    rest: &'a [u8],
    element: fn(&'a [u8]) -> Res<'a, T>,
    recovery: Recovery,
}

impl<'a, T> List<'a, T> {
    pub(crate) fn new(
        value: &'a [u8],
        element: fn(&'a [u8]) -> Res<'a, T>,
        recovery: Recovery,
    ) -> Self {
        Self {
            rest: value,
            element,
            recovery,
        }
    }
}

impl<T> fmt::Debug for List<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("List")
            .field("rest", &String::from_utf8_lossy(self.rest))
            .field("recovery", &self.recovery)
            .finish()
    }
}

/// The end of an element: optional whitespace, then a comma or the end of the value.
fn element_end(input: &[u8]) -> Res<'_, ()> {
    let (input, _) = ows(input)?;
    match input {
        [] => Ok((input, ())),
        _ => value((), byte(b',')).parse(input),
    }
}

impl<'a, T> Iterator for List<'a, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            // Empty elements and the whitespace around commas.
            let start = self
                .rest
                .iter()
                .position(|&b| !matches!(b, b' ' | b'\t' | b','))?;
            self.rest = &self.rest[start..];
            let parsed = (self.element, element_end).parse(self.rest);
            match (parsed, self.recovery) {
                (Ok((rest, (item, ()))), _) => {
                    self.rest = rest;
                    return Some(item);
                }
                (Err(_), Recovery::Skip { brackets }) => {
                    self.rest = skip_element(self.rest, brackets);
                }
                (Err(_), Recovery::Stop) => {
                    self.rest = &[];
                    return None;
                }
            }
        }
    }
}

/// What follows the malformed element at the start of `input`: the text after the next comma
/// outside quoted strings (and `<…>` when `brackets`), or nothing. An unterminated quote or
/// bracket runs to the end of the value.
fn skip_element(input: &[u8], brackets: bool) -> &[u8] {
    let (mut quoted, mut bracket) = (false, false);
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        i += 1;
        match b {
            b'\\' if quoted => i += 1,
            b'"' if !bracket => quoted = !quoted,
            b'<' if brackets && !quoted => bracket = true,
            b'>' if brackets && !quoted => bracket = false,
            b',' if !quoted && !bracket => return &input[i..],
            _ => {}
        }
    }
    &[]
}

/// The tokens of a `#token` list (`Connection`, `Upgrade`, …); an element that is not a
/// token is skipped.
///
/// ```text
/// #element  = [ element ] *( OWS "," OWS [ element ] )   ; empty elements are allowed
/// ```
///
/// A list is walked element by element: each is parsed where it starts and must end at a comma
/// or at the end of the value. What happens to one that does not parse is the list's
/// recovery rule: skip it up to the next comma outside quoted strings (and, for `Link`, outside
/// `<…>`), or stop there. Each step consumes at least one byte, so a walk is linear in the
/// value's length whatever it holds, and nothing recurses.
///
/// ```
/// use push_http::grammar::tokens;
///
/// let found: Vec<_> = tokens(b"keep-alive, Upgrade,, \"x\"").collect();
/// assert_eq!(found, ["keep-alive", "Upgrade"]);
/// ```
pub fn tokens(value: &[u8]) -> List<'_, &str> {
    List::new(value, token, Recovery::Skip { brackets: false })
}

/// Whether any of `values` (the values of one header) lists `wanted` as a token, ASCII case
/// aside: `Connection: keep-alive, Upgrade` has `upgrade`.
pub fn has_token<'v>(
    values: impl IntoIterator<Item = &'v http::HeaderValue>,
    wanted: &str,
) -> bool {
    values
        .into_iter()
        .any(|v| tokens(v.as_bytes()).any(|t| t.eq_ignore_ascii_case(wanted)))
}
