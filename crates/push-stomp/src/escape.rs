//! Header escaping, per version (STOMP 1.2 "Value Encoding"; 1.1 the same without `\r`; 1.0
//! none), never applied to `CONNECT`, `STOMP` and `CONNECTED` frames.
//!
//! ```text
//!   octet   1.2     1.1     1.0 / CONNECT
//!   CR      \r      (raw)   (raw)
//!   LF      \n      \n      (not representable)
//!   ":"     \c      \c      (raw in values; not representable in names)
//!   "\"     \\      \\      (raw)
//! ```

use std::borrow::Cow;

use crate::{Error, Version};

/// How a frame's headers are written: escaped per version, or raw (1.0 and the connection
/// frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escaping {
    Raw,
    V1_1,
    V1_2,
}

impl Escaping {
    pub(crate) fn of(version: Version, unescaped_frame: bool) -> Self {
        match version {
            _ if unescaped_frame => Self::Raw,
            Version::V1_0 => Self::Raw,
            Version::V1_1 => Self::V1_1,
            Version::V1_2 => Self::V1_2,
        }
    }
}

/// The text of a received header name or value: UTF-8, escapes decoded.
pub(crate) fn unescape(raw: &[u8], escaping: Escaping) -> Result<Cow<'_, str>, Error> {
    let text = core::str::from_utf8(raw).map_err(|_| Error::InvalidUtf8)?;
    if escaping == Escaping::Raw || !text.contains('\\') {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('n') => '\n',
            Some('c') => ':',
            Some('\\') => '\\',
            Some('r') if escaping == Escaping::V1_2 => '\r',
            _ => return Err(Error::InvalidEscape),
        });
    }
    Ok(Cow::Owned(out))
}

/// Appends a header name (`is_name`) or value, escaped; an octet the escaping cannot carry is
/// [`Error::Unencodable`].
pub(crate) fn escape_into(
    text: &str,
    escaping: Escaping,
    is_name: bool,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    match escaping {
        Escaping::Raw => {
            // A raw LF would end the line, a raw `:` in a name would end the name, and a CR
            // before the end of line would be read as part of it.
            if text.contains('\n') || (is_name && text.contains(':')) || text.ends_with('\r') {
                return Err(Error::Unencodable);
            }
            out.extend_from_slice(text.as_bytes());
        }
        Escaping::V1_1 | Escaping::V1_2 => {
            if escaping == Escaping::V1_1 && text.ends_with('\r') {
                return Err(Error::Unencodable);
            }
            let special: &[u8] = if escaping == Escaping::V1_2 {
                b"\r\n:\\"
            } else {
                b"\n:\\"
            };
            let bytes = text.as_bytes();
            let mut start = 0;
            for (i, b) in bytes.iter().enumerate() {
                if !special.contains(b) {
                    continue;
                }
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(match b {
                    b'\r' => b"\\r",
                    b'\n' => b"\\n",
                    b':' => b"\\c",
                    _ => b"\\\\",
                });
                start = i + 1;
            }
            out.extend_from_slice(&bytes[start..]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defined_escape_decodes_and_others_fail() {
        let text = unescape(br"a\nb\cc\\d\re", Escaping::V1_2).unwrap();
        assert_eq!(text, "a\nb:c\\d\re");
        assert_eq!(
            unescape(br"a\re", Escaping::V1_1),
            Err(Error::InvalidEscape)
        );
        assert_eq!(unescape(br"a\t", Escaping::V1_2), Err(Error::InvalidEscape));
        assert_eq!(unescape(br"a\", Escaping::V1_2), Err(Error::InvalidEscape));
        assert_eq!(unescape(br"a\t\", Escaping::Raw).unwrap(), r"a\t\");
        assert_eq!(unescape(b"\xff", Escaping::Raw), Err(Error::InvalidUtf8));
    }

    #[test]
    fn escaping_is_per_version() {
        let mut out = Vec::new();
        escape_into("a\r\n:\\", Escaping::V1_2, false, &mut out).unwrap();
        assert_eq!(out, br"a\r\n\c\\");
        out.clear();
        escape_into("a\rb\n:\\", Escaping::V1_1, false, &mut out).unwrap();
        assert_eq!(out, b"a\rb\\n\\c\\\\");
        assert_eq!(
            escape_into("a\r", Escaping::V1_1, false, &mut out),
            Err(Error::Unencodable)
        );
        out.clear();
        escape_into("host:61613", Escaping::Raw, false, &mut out).unwrap();
        assert_eq!(out, b"host:61613");
        assert_eq!(
            escape_into("a:b", Escaping::Raw, true, &mut out),
            Err(Error::Unencodable)
        );
        assert_eq!(
            escape_into("a\nb", Escaping::Raw, false, &mut out),
            Err(Error::Unencodable)
        );
    }
}
