//! URI templates (RFC 6570, level 4) as topic patterns: parsing, and matching a topic against
//! every expansion the template can produce.

use core::fmt;
use std::sync::Arc;

use crate::{Error, MAX_TOPIC_LEN};

/// A URI template (RFC 6570) used as a topic pattern, as Mercure subscribers write them:
/// `https://example.com/books/{id}` matches `https://example.com/books/1` but not
/// `https://example.com/books/1/reviews`.
///
/// A topic matches when the template could expand to it. Each expression is read as its operator's
/// prefix (`#`, `.`, `/`, `;`, `?`, `&`, none for simple and `+`) followed by any run of the
/// characters its expansion can produce — unreserved characters and `%`-escapes, the operator's
/// separators (`,`, `.`, `/`, `;`, `&`, and `=` for named or exploded values), and every reserved
/// character for `+` and `#` — or as nothing (all its variables undefined). Prefix lengths
/// (`{var:3}`) and the order of names inside one expression are not checked: the match may admit
/// a topic no single assignment of values produces, never the other way round.
///
/// Matching runs in time linear in the topic's length for each part of the template (a bounded
/// product: both are at most [`MAX_TOPIC_LEN`] bytes); it never backtracks.
///
/// ```
/// use push_core::{Topic, UriTemplate};
///
/// let books = UriTemplate::parse("https://example.com/books/{id}").unwrap();
/// assert!(books.matches(&Topic::new("https://example.com/books/42").unwrap()));
/// assert!(!books.matches(&Topic::new("https://example.com/books/42/reviews").unwrap()));
/// assert!(UriTemplate::parse("/books/{id").is_err());
/// ```
#[derive(Clone)]
pub struct UriTemplate {
    source: Arc<str>,
    parts: Arc<[Part]>,
}

#[derive(Debug)]
enum Part {
    Literal(Box<str>),
    Expression {
        prefix: &'static str,
        allowed: Allowed,
    },
}

/// The characters an expression's expansion may contain after its prefix.
#[derive(Clone, Copy, Debug)]
struct Allowed {
    /// Every reserved character (`+` and `#`).
    reserved: bool,
    /// Separators beside `%` and the unreserved characters.
    extra: &'static [u8],
    /// `=` (named operators, or an exploded variable).
    equals: bool,
}

impl Allowed {
    fn admits(self, b: u8) -> bool {
        b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'%')
            || (self.reserved && is_reserved(b))
            || self.extra.contains(&b)
            || (self.equals && b == b'=')
    }
}

fn is_reserved(b: u8) -> bool {
    b":/?#[]@!$&'()*+,;=".contains(&b)
}

impl UriTemplate {
    /// Parses a template of at most [`MAX_TOPIC_LEN`] bytes.
    ///
    /// # Errors
    /// [`Error::TopicTooLong`] past the length; [`Error::PatternInvalid`] when it is not an
    /// RFC 6570 template (an unclosed or empty expression, an unknown operator, a malformed
    /// variable name or modifier, a character a template may not contain).
    pub fn parse(template: &str) -> Result<Self, Error> {
        if template.len() > MAX_TOPIC_LEN {
            return Err(Error::TopicTooLong);
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            let brace = rest.find('{').unwrap_or(rest.len());
            let literal = &rest[..brace];
            if !literal.is_empty() {
                check_literal(literal)?;
                parts.push(Part::Literal(literal.into()));
            }
            rest = &rest[brace..];
            if rest.is_empty() {
                break;
            }
            let close = rest.find('}').ok_or(Error::PatternInvalid)?;
            parts.push(parse_expression(&rest[1..close])?);
            rest = &rest[close + 1..];
        }
        Ok(Self {
            source: template.into(),
            parts: parts.into(),
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the template can expand to `topic` (see the type's documentation).
    pub fn matches(&self, topic: &crate::Topic) -> bool {
        let text = topic.as_str().as_bytes();
        let n = text.len();
        // `at[i]`: the parts so far can expand to exactly `text[..i]`.
        let mut at = vec![false; n + 1];
        at[0] = true;
        let mut next = vec![false; n + 1];
        for part in self.parts.iter() {
            next.fill(false);
            match part {
                Part::Literal(lit) => {
                    let lit = lit.as_bytes();
                    for i in (0..=n.saturating_sub(lit.len())).filter(|&i| at[i]) {
                        if text[i..].starts_with(lit) {
                            next[i + lit.len()] = true;
                        }
                    }
                }
                Part::Expression { prefix, allowed } => {
                    let p = prefix.len();
                    // `run`: some start's prefix ends at or before `k` and every byte from there
                    // to `k` is admitted.
                    let mut run = false;
                    for k in 0..=n {
                        run = run && allowed.admits(text[k - 1]);
                        if k >= p && at[k - p] && text[k - p..k] == *prefix.as_bytes() {
                            run = true;
                        }
                        next[k] = at[k] || run;
                    }
                }
            }
            core::mem::swap(&mut at, &mut next);
            if !at.contains(&true) {
                return false;
            }
        }
        at[n]
    }
}

fn check_literal(literal: &str) -> Result<(), Error> {
    let bytes = literal.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let bad = b.is_ascii_control()
            || b" \"'<>\\^`{|}".contains(&b)
            || (b == b'%'
                && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)));
        if bad {
            return Err(Error::PatternInvalid);
        }
    }
    Ok(())
}

fn parse_expression(body: &str) -> Result<Part, Error> {
    let (op, list) = match body.as_bytes().first() {
        Some(&op @ (b'+' | b'#' | b'.' | b'/' | b';' | b'?' | b'&')) => (op, &body[1..]),
        Some(b'=' | b',' | b'!' | b'@' | b'|') | None => return Err(Error::PatternInvalid),
        Some(_) => (0, body),
    };
    let mut explode = false;
    for varspec in list.split(',') {
        let (name, modifier) = match varspec.find([':', '*']) {
            Some(i) => (&varspec[..i], &varspec[i..]),
            None => (varspec, ""),
        };
        check_varname(name)?;
        match modifier.as_bytes() {
            [] => {}
            [b'*'] => explode = true,
            [b':', digits @ ..]
                if (1..=4).contains(&digits.len())
                    && digits[0] != b'0'
                    && digits.iter().all(u8::is_ascii_digit) => {}
            _ => return Err(Error::PatternInvalid),
        }
    }
    let (prefix, reserved, extra, named): (&'static str, bool, &'static [u8], bool) = match op {
        b'+' => ("", true, b"", false),
        b'#' => ("#", true, b"", false),
        b'.' => (".", false, b".,", false),
        b'/' => ("/", false, b"/,", false),
        b';' => (";", false, b";,", true),
        b'?' => ("?", false, b"&,", true),
        b'&' => ("&", false, b"&,", true),
        _ => ("", false, b",", false),
    };
    Ok(Part::Expression {
        prefix,
        allowed: Allowed {
            reserved,
            extra,
            equals: named || explode,
        },
    })
}

/// `varname = varchar *( ["."] varchar )`, `varchar = ALPHA / DIGIT / "_" / pct-encoded`.
fn check_varname(name: &str) -> Result<(), Error> {
    let b = name.as_bytes();
    let mut i = 0;
    let mut after_dot = true;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_alphanumeric() || c == b'_' => after_dot = false,
            b'.' if !after_dot => after_dot = true,
            b'%' if b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                i += 2;
                after_dot = false;
            }
            _ => return Err(Error::PatternInvalid),
        }
        i += 1;
    }
    if after_dot {
        return Err(Error::PatternInvalid);
    }
    Ok(())
}

impl fmt::Debug for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.source, f)
    }
}

impl fmt::Display for UriTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for UriTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for UriTemplate {}

impl core::hash::Hash for UriTemplate {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.source.hash(state);
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
