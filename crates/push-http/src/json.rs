//! JSON string literals for the transports' hand-assembled JSON messages (long-poll batches,
//! WebSocket event messages): one writer, so both escape exactly as serde_json does.

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

/// Appends `s` as a JSON string literal, quotes included, exactly as serde_json writes it.
///
/// Text that needs no escaping (the usual event type and payload) is copied after a vectorised
/// check; the rest is escaped by `serde_json`. Measured on 83-byte and 4 KiB strings: as fast as
/// a hand-written escaper on plain text (serde_json alone is 6 to 10 times slower there), and
/// about twice as fast as it on JSON-like text full of quotes.
///
/// ```
/// let mut out = Vec::new();
/// push_http::json::push_string(&mut out, "a \"b\"\n");
/// assert_eq!(out, br#""a \"b\"\n""#);
/// ```
pub fn push_string(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        // Writing into a `Vec` cannot fail, and a `str` always serializes.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ASCII byte at every position of a chunk and of the remainder, escaped exactly as
    /// serde_json escapes it (the copy path and the serde_json path).
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for c in 0u8..0x80 {
            for at in [0, 7, 15, 16, 31, 33] {
                let mut s = "x".repeat(40);
                s.replace_range(at..=at, core::str::from_utf8(&[c]).unwrap());
                let mut out = Vec::new();
                push_string(&mut out, &s);
                assert_eq!(out, serde_json::to_vec(&s).unwrap(), "{s:?}");
            }
        }
    }
}
