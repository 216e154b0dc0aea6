//! RFC 9110's building blocks (§5.6): tokens, quoted strings, the `word` that is either, and
//! `;` parameters.
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

use core::fmt;
use std::borrow::Cow;

use nom::bytes::complete::take_while1;
use nom::combinator::{map, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};

/// Every parser of this module: bytes in, no error detail (a malformed element is skipped or
/// ends a list; nothing reports where).
pub(crate) type Res<'a, O> = IResult<&'a [u8], O, ()>;

/// A 256-entry class table, built at compile time from a `matches!` pattern.
macro_rules! class {
    ($($pattern:tt)+) => {{
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = matches!(b as u8, $($pattern)+);
            b += 1;
        }
        table
    }};
}

static TCHAR: [bool; 256] = class!(b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'0'..=b'9'
    | b'A'..=b'Z' | b'^'..=b'z' | b'|' | b'~');
static QDTEXT: [bool; 256] = class!(b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff);
static QUOTED_PAIR: [bool; 256] = class!(b'\t' | b' '..=0x7e | 0x80..=0xff);

/// Whether `b` may appear in a token (RFC 9110 §5.6.2).
pub fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Whether `text` is a token: not empty, every byte a [`tchar`](is_tchar).
pub fn is_token(text: &[u8]) -> bool {
    !text.is_empty() && text.iter().all(|&b| is_tchar(b))
}

// The primitives below are parser functions of our own rather than nom's `tag`,
// `many0_count` and `recognize`: for `&[u8]` those call nom's non-`#[inline]` trait methods
// (`take_from`, `input_len`, `offset`) at every step, which doubled the cost of a `Link` walk.
// nom's combinators (`alt`, `opt`, `preceded`, `delimited`, `map`, tuples) compose them.

/// One given byte.
pub(crate) fn byte<'a>(wanted: u8) -> impl Fn(&'a [u8]) -> Res<'a, u8> {
    move |input: &'a [u8]| match input {
        [b, rest @ ..] if *b == wanted => Ok((rest, wanted)),
        _ => Err(nom::Err::Error(())),
    }
}

/// The bytes `parser` consumed from `input`, given what it left.
pub(crate) fn consumed<'a>(input: &'a [u8], rest: &'a [u8]) -> &'a [u8] {
    &input[..input.len() - rest.len()]
}

pub(crate) fn ows(input: &[u8]) -> Res<'_, &[u8]> {
    let n = input
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(input.len());
    Ok((&input[n..], &input[..n]))
}

/// A token, as text (tokens are ASCII).
pub(crate) fn token(input: &[u8]) -> Res<'_, &str> {
    let (rest, t) = take_while1(is_tchar).parse(input)?;
    // tchar is ASCII, so this never fails; the error arm keeps the parser total anyway.
    match core::str::from_utf8(t) {
        Ok(t) => Ok((rest, t)),
        Err(_) => Err(nom::Err::Error(())),
    }
}

/// A quoted-string, recognised whole (quotes and escapes included).
pub(crate) fn quoted_string(input: &[u8]) -> Res<'_, &[u8]> {
    let (mut rest, _) = byte(b'"')(input)?;
    loop {
        let n = rest
            .iter()
            .position(|&b| !QDTEXT[usize::from(b)])
            .unwrap_or(rest.len());
        match &rest[n..] {
            [b'"', tail @ ..] => return Ok((tail, consumed(input, tail))),
            [b'\\', escaped, tail @ ..] if QUOTED_PAIR[usize::from(*escaped)] => rest = tail,
            _ => return Err(nom::Err::Error(())),
        }
    }
}

pub(crate) fn word(input: &[u8]) -> Res<'_, Word<'_>> {
    nom::branch::alt((
        map(quoted_string, |raw| Word { raw }),
        map(take_while1(is_tchar), |raw| Word { raw }),
    ))
    .parse(input)
}

pub(crate) fn parameter(input: &[u8]) -> Res<'_, Param<'_>> {
    map(
        (
            take_while1(is_tchar),
            opt(preceded((ows, byte(b'='), ows), word)),
        ),
        |(name, value)| Param { name, value },
    )
    .parse(input)
}

/// `OWS ";" OWS [ parameter ]`: one step of `parameters`.
fn parameter_step(input: &[u8]) -> Res<'_, Option<Param<'_>>> {
    map((ows, byte(b';'), ows, opt(parameter)), |(_, _, _, p)| p).parse(input)
}

/// How many parameters an element keeps from the parse that checked it, so that a caller's
/// walk over them costs no second parse; the others (rare: a `Link` has two or three) are
/// parsed again when walked. Three `Param`s are 96 bytes carried by each element (two or four
/// measured the same on the `http_grammar` bench).
const KEPT: usize = 3;

/// `*( OWS ";" OWS [ parameter ] )`, recognised whole: for elements whose parameters are
/// rarely walked (a `Prefer` preference's), which keep no [`Params`] and parse them again
/// when asked.
pub(crate) fn recognize_parameters(input: &[u8]) -> Res<'_, &[u8]> {
    let mut rest = input;
    // Each step consumes at least its `;`.
    while let Ok((next, _)) = parameter_step(rest) {
        rest = next;
    }
    Ok((rest, consumed(input, rest)))
}

/// `*( OWS ";" OWS [ parameter ] )`: the text it spans and its [`Params`].
pub(crate) fn parameters(input: &[u8]) -> Res<'_, (&[u8], Params<'_>)> {
    let mut params = Params {
        kept: [None; KEPT],
        next: 0,
        rest: &[],
    };
    let (mut rest, mut kept, mut after_kept) = (input, 0, None);
    // Each step consumes at least its `;`.
    while let Ok((next, param)) = parameter_step(rest) {
        if let Some(param) = param
            && kept < KEPT
        {
            params.kept[kept] = Some(param);
            kept += 1;
            if kept == KEPT {
                after_kept = Some(next);
            }
        }
        rest = next;
    }
    if let Some(after) = after_kept {
        params.rest = consumed(after, rest);
    }
    Ok((rest, (consumed(input, rest), params)))
}

/// A `token` or a `quoted-string` as it appears in a header, borrowed from it.
///
/// A quoted string keeps its escapes until asked: [`unescape`](Self::unescape) allocates only
/// when there is a `\` to remove.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    /// The text as written: a token, or a quoted-string with its quotes (a token never starts
    /// with `"`, so the first byte tells which, and a `Word` is two words wide).
    raw: &'a [u8],
}

impl<'a> Word<'a> {
    /// Whether the word was a quoted-string.
    pub fn is_quoted(&self) -> bool {
        self.raw.first() == Some(&b'"')
    }

    /// The word as written in the header (a quoted-string with its quotes and escapes).
    pub fn as_written(&self) -> &'a [u8] {
        self.raw
    }

    /// The token, when the word is one.
    pub fn as_token(&self) -> Option<&'a str> {
        if self.is_quoted() {
            return None;
        }
        core::str::from_utf8(self.raw).ok()
    }

    /// The value: a token as is, a quoted-string without its quotes and escapes.
    pub fn unescape(&self) -> Cow<'a, [u8]> {
        if !self.is_quoted() {
            return Cow::Borrowed(self.raw);
        }
        let inner = &self.raw[1..self.raw.len() - 1];
        if !inner.contains(&b'\\') {
            return Cow::Borrowed(inner);
        }
        Cow::Owned(Unescaped(inner).collect())
    }

    /// [`unescape`](Self::unescape) as text, `None` when it is not UTF-8 (obs-text).
    pub fn to_str(&self) -> Option<Cow<'a, str>> {
        match self.unescape() {
            Cow::Borrowed(b) => core::str::from_utf8(b).ok().map(Cow::Borrowed),
            Cow::Owned(b) => String::from_utf8(b).ok().map(Cow::Owned),
        }
    }

    /// Whether the value equals `text`, ASCII case aside (no allocation).
    pub fn eq_ignore_ascii_case(&self, text: &str) -> bool {
        if !self.is_quoted() {
            return self.raw.eq_ignore_ascii_case(text.as_bytes());
        }
        let inner = &self.raw[1..self.raw.len() - 1];
        Unescaped(inner)
            .map(|b| b.to_ascii_lowercase())
            .eq(text.bytes().map(|b| b.to_ascii_lowercase()))
    }
}

impl fmt::Debug for Word<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Word({:?})", String::from_utf8_lossy(self.raw))
    }
}

/// The bytes of a quoted-string's inside, escapes removed.
struct Unescaped<'a>(&'a [u8]);

impl Iterator for Unescaped<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        match (b, rest) {
            (b'\\', [escaped, rest @ ..]) => {
                self.0 = rest;
                Some(*escaped)
            }
            _ => {
                self.0 = rest;
                Some(b)
            }
        }
    }
}

/// One `name[=value]` parameter; names compare ASCII case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// A token: ASCII.
    name: &'a [u8],
    value: Option<Word<'a>>,
}

impl<'a> Param<'a> {
    /// The parameter's name as written.
    pub fn name(&self) -> &'a str {
        // A token is ASCII, so this never falls back.
        core::str::from_utf8(self.name).unwrap_or_default()
    }

    /// The value, when there is an `=`.
    pub fn value(&self) -> Option<Word<'a>> {
        self.value
    }

    /// Whether the parameter is named `name`, ASCII case aside.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }
}

/// The `;` parameters of a list element, in order, parsed as they are walked.
///
/// Made by the element parsers over text they already checked, so the walk never fails there;
/// over text [`Params::parse`] was given, it ends at the first parameter that does not parse.
#[derive(Clone, Copy, Debug)]
pub struct Params<'a> {
    /// The first parameters, parsed when the element was checked.
    kept: [Option<Param<'a>>; KEPT],
    /// The next of `kept` to yield.
    next: usize,
    /// The text after the kept parameters, parsed as it is walked.
    rest: &'a [u8],
}

impl<'a> Params<'a> {
    /// The parameters in `text` (`; a=1; b="x"`): the `parameters` rule of RFC 9110 §5.6.6.
    pub fn parse(text: &'a [u8]) -> Self {
        Self {
            kept: [None; KEPT],
            next: KEPT,
            rest: text,
        }
    }

    /// The first parameter named `name` (ASCII case aside): later ones are ignored, as RFC 8288
    /// §3.3 and RFC 7240 §2 say of a repeated parameter.
    pub fn get(self, name: &str) -> Option<Param<'a>> {
        self.into_iter().find(|p| p.is(name))
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        if let Some(kept) = self.kept.get(self.next) {
            self.next += 1;
            if kept.is_some() {
                return *kept;
            }
            // Fewer than KEPT parameters: `rest` is empty.
        }
        loop {
            let Ok((rest, param)) = parameter_step(self.rest) else {
                self.rest = &[];
                return None;
            };
            self.rest = rest;
            if let Some(param) = param {
                return Some(param);
            }
        }
    }
}

/// `text` as an RFC 9110 word: itself when it is a token, else a quoted-string with `"` and `\`
/// escaped. `None` when `text` holds a character no quoted-string may carry (a control other
/// than HTAB, or DEL).
///
/// ```
/// use push_http::grammar::to_word;
///
/// assert_eq!(to_word("preload").as_deref(), Some("preload"));
/// assert_eq!(to_word(r#"a "b""#).as_deref(), Some(r#""a \"b\"""#));
/// assert_eq!(to_word("").as_deref(), Some(r#""""#));
/// assert_eq!(to_word("a\nb"), None);
/// ```
pub fn to_word(text: &str) -> Option<Cow<'_, str>> {
    if is_token(text.as_bytes()) {
        return Some(Cow::Borrowed(text));
    }
    if !text.bytes().all(|b| QUOTED_PAIR[usize::from(b)]) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(Cow::Owned(out))
}
