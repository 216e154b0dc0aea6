//! The hot path of the JSON encoders: strings and numbers written straight into a byte buffer,
//! byte for byte what `serde_json` writes, without its per-byte escape loop when nothing needs
//! escaping (the common case for topics, event types and text data).

/// Whether `serde_json` would escape any byte of `bytes`: `"`, `\` and the control characters
/// below 0x20 (it leaves DEL and non-ASCII alone).
fn needs_escape(bytes: &[u8]) -> bool {
    let bad = |b: u8| u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
    let (chunks, rest) = bytes.as_chunks::<16>();
    // Fixed-size chunks without an early exit inside: the compiler vectorises each one.
    chunks
        .iter()
        .any(|chunk| chunk.iter().fold(0, |acc, &b| acc | bad(b)) != 0)
        || rest.iter().any(|&b| bad(b) != 0)
}

/// Appends `s` as a JSON string, exactly as `serde_json` encodes it.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        // Rare: let serde_json do the escaping. Writing into a Vec cannot fail.
        serde_json::to_writer(&mut *out, s).unwrap_or_default();
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// The length of `s` as a JSON string when it needs no escaping (a lower bound otherwise).
pub(crate) fn str_len(s: &str) -> usize {
    s.len() + 2
}

/// Appends `n` in decimal, like `format!("{n}")`.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
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
            push_str(&mut out, &s);
            assert_eq!(out, serde_json::to_vec(&s).unwrap(), "{s:?}");
            if !needs_escape(s.as_bytes()) {
                assert_eq!(out.len(), str_len(&s));
            }
        }
    }

    #[test]
    fn numbers_match_format() {
        for n in [
            0,
            1,
            9,
            10,
            15,
            16,
            255,
            256,
            0x5eed,
            u64::MAX / 3,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }
}
