//! JSON string literals, for the JSON wire formats: byte for byte what `serde_json` writes, with a vectorised check
//! that skips the per-byte escape loop when nothing needs escaping (the usual case for topics,
//! event types, ids and text data). Shared by the transports that write JSON by hand.

/// Whether JSON needs any byte of `bytes` escaped: `"`, `\` and the control characters below
/// 0x20 (DEL and non-ASCII stay as they are).
fn needs_escape(bytes: &[u8]) -> bool {
    let bad = |b: u8| u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
    let (chunks, rest) = bytes.as_chunks::<16>();
    // Fixed-size chunks without an early exit inside: the compiler vectorises each one.
    chunks
        .iter()
        .any(|chunk| chunk.iter().fold(0, |acc, &b| acc | bad(b)) != 0)
        || rest.iter().any(|&b| bad(b) != 0)
}

/// Appends `s` to `out` as a JSON string literal, quotes included, exactly as `serde_json`
/// writes it: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as
/// `\u00xx`, everything else as is.
///
/// ```
/// let mut out = Vec::new();
/// push_core::push_json_string(&mut out, "say \"hi\"\n");
/// assert_eq!(out, br#""say \"hi\"\n""#);
/// ```
pub fn push_json_string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_match_serde_json() {
        let mut samples: Vec<String> = [
            "",
            "plain",
            "quote\"d",
            "back\\slash",
            "tab\there",
            "nl\ncr\r",
            "\u{7f}del",
            "ünïcödé ✓ 𝄞",
            "\u{0}\u{1}\u{1f}\u{8}\u{c}",
            "/slash/",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // Every byte at every position of a chunk and of the remainder.
        for c in 0u8..0x80 {
            for at in [0, 7, 15, 16, 31, 33] {
                let mut s = "x".repeat(40);
                s.replace_range(at..=at, core::str::from_utf8(&[c]).unwrap());
                samples.push(s);
            }
        }
        for s in samples {
            let mut out = Vec::new();
            push_json_string(&mut out, &s);
            assert_eq!(out, serde_json::to_vec(&s).unwrap(), "{s:?}");
            assert_eq!(
                needs_escape(s.as_bytes()),
                out.len() != s.len() + 2,
                "{s:?}"
            );
        }
    }
}
