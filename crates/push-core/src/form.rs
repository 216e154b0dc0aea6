//! Query strings (`application/x-www-form-urlencoded`), decoded strictly: one rule for every
//! transport that reads topics from a URL.
//!
//! ```text
//! query   = param *( "&" param )
//! param   = name [ "=" value ]
//! escape  = "%" HEXDIG HEXDIG          ; anything else after "%" is an error, not literal text
//! "+"     = a space
//! ```
//!
//! A lossy decoder makes distinct names equal (`a%ffb` and `a%feb` would both become `a\u{fffd}b`)
//! and a lenient one reads `%zz` literally while another reads it as an error: both are refused
//! here, so a topic name has exactly one spelling that reaches the broker.

use std::borrow::Cow;

use crate::{Error, MAX_SELECTOR_TOPICS, Selector, Topic};

/// Decodes one query component (`+` is a space, `%XX` a byte); borrows when there is nothing to
/// decode. `None` when an escape is not `%` and two hex digits, or the result is not UTF-8.
///
/// ```
/// use push_core::form_decode;
///
/// assert_eq!(form_decode(b"a%2Fb+c").as_deref(), Some("a/b c"));
/// assert_eq!(form_decode(b"a%zz"), None);
/// assert_eq!(form_decode(b"a%ffb"), None);
/// ```
pub fn form_decode(input: &[u8]) -> Option<Cow<'_, str>> {
    if !input.iter().any(|&b| b == b'%' || b == b'+') {
        return core::str::from_utf8(input).ok().map(Cow::Borrowed);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' => {
                let hi = hex(*input.get(i + 1)?)?;
                let lo = hex(*input.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Selector {
    /// The topics named by every `topic=` parameter of `query` (the raw query string, without
    /// `?`): the union of all of them, as Mercure reads a repeated `topic`. Other parameters are
    /// ignored.
    ///
    /// # Errors
    /// [`Error::QueryInvalid`] for a `topic` name or value that is not strictly encoded (see
    /// [`form_decode`]); the [`Topic`] errors for an invalid name; [`Error::SelectorEmpty`]
    /// without any `topic`; [`Error::SelectorTooLarge`] past [`MAX_SELECTOR_TOPICS`].
    ///
    /// ```
    /// use push_core::{Error, Selector};
    ///
    /// let s = Selector::from_query(b"topic=a&x=1&topic=b%2Fc&topic=a").unwrap();
    /// let names: Vec<_> = s.topics().iter().map(|t| t.as_str()).collect();
    /// assert_eq!(names, ["a", "b/c"]);
    /// assert_eq!(Selector::from_query(b"topic=a%ffb"), Err(Error::QueryInvalid));
    /// assert_eq!(Selector::from_query(b"since=1-2"), Err(Error::SelectorEmpty));
    /// ```
    pub fn from_query(query: &[u8]) -> Result<Self, Error> {
        let mut topics = Vec::new();
        for param in query.split(|&b| b == b'&') {
            let (name, value) = match param.iter().position(|&b| b == b'=') {
                Some(i) => (&param[..i], &param[i + 1..]),
                None => (param, &b""[..]),
            };
            // `topic` spelled with escapes is still `topic`; a name that does not decode is
            // no parameter of ours, but a broken `topic` is never skipped.
            let is_topic = match form_decode(name) {
                Some(name) => name == "topic",
                None => false,
            };
            if !is_topic {
                continue;
            }
            if topics.len() >= MAX_SELECTOR_TOPICS {
                return Err(Error::SelectorTooLarge);
            }
            let value = form_decode(value).ok_or(Error::QueryInvalid)?;
            topics.push(Topic::new(&value)?);
        }
        Self::new(topics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_strict() {
        assert_eq!(form_decode(b"plain").as_deref(), Some("plain"));
        assert_eq!(form_decode(b"%41%62+").as_deref(), Some("Ab "));
        assert_eq!(form_decode(b"%e2%82%ac").as_deref(), Some("\u{20ac}"));
        for bad in [&b"%"[..], b"%4", b"%zz", b"a%g0", b"%ff", b"%c3", b"\xff"] {
            assert_eq!(form_decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn distinct_spellings_are_never_one_topic() {
        // Lossy decoding would have made both `a\u{fffd}b`.
        assert_eq!(
            Selector::from_query(b"topic=a%ffb"),
            Err(Error::QueryInvalid)
        );
        assert_eq!(
            Selector::from_query(b"topic=a%feb"),
            Err(Error::QueryInvalid)
        );
        assert_eq!(Selector::from_query(b"topic=%zz"), Err(Error::QueryInvalid));
        assert_eq!(
            Selector::from_query(b"topic=%0a"),
            Err(Error::TopicInvalidCharacter)
        );
        assert_eq!(Selector::from_query(b"topic="), Err(Error::TopicEmpty));
        let s = Selector::from_query(b"%74opic=x&topic=y&&topic").unwrap_err();
        assert_eq!(s, Error::TopicEmpty, "a bare `topic` names the empty topic");
        let many: String = (0..65).map(|i| format!("topic={i}&")).collect();
        assert_eq!(
            Selector::from_query(many.as_bytes()),
            Err(Error::SelectorTooLarge)
        );
        let s = Selector::from_query(b"%74opic=x&topic=y&other=%zz").unwrap();
        assert_eq!(s.topics().len(), 2);
    }
}
