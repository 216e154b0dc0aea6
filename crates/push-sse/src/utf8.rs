//! UTF-8 validation, as fast as safe code gets it: SIMD (`simdutf8`) for long values, a padded
//! SIMD block for short ones, and core's `from_utf8` only in between. Invalid input is decoded
//! with U+FFFD, as the specification says.

/// The SIMD block of UTF-8 validation. A short text is validated as a block padded with zeros
/// (ASCII): valid text ends on a character boundary, and valid text padded is valid, so the
/// padded block is valid with the text's end on a boundary exactly when the text is valid. This
/// costs less than core's validation, which goes byte by byte until its input is aligned.
const PADDED: usize = 64;

/// `bytes` as text if it is UTF-8, validated with SIMD when long enough for it to pay.
pub(crate) fn text(bytes: &[u8]) -> Option<&str> {
    if bytes.len() >= PADDED {
        simdutf8::basic::from_utf8(bytes).ok()
    } else {
        core::str::from_utf8(bytes).ok()
    }
}

/// `chunk[from..to]` as text if it is UTF-8, validated in whole SIMD blocks when the chunk has
/// the bytes for it: the bytes after `to`, up to a multiple of the block (one block at least),
/// are validated along (a partial block costs more than a whole one, and core's validation of a
/// short unaligned text goes byte by byte). If that longer text is valid and `to` is a character
/// boundary in it, the value is valid; if not, the value is validated alone.
#[inline]
pub(crate) fn text_in(chunk: &[u8], from: usize, to: usize) -> Option<&str> {
    let len = to - from;
    if let Some(longer) = chunk.get(from..from + len.next_multiple_of(PADDED).max(PADDED))
        && let Ok(longer) = simdutf8::basic::from_utf8(longer)
        && let Some(text) = longer.get(..len)
    {
        return Some(text);
    }
    text(&chunk[from..to])
}

/// Appends `bytes` as UTF-8, invalid sequences replaced by U+FFFD; fast when already valid.
pub(crate) fn push_lossy(dst: &mut String, bytes: &[u8]) {
    let mut padded = [0; PADDED];
    if let Some(head) = padded.get_mut(..bytes.len()) {
        // Short: validated in a zero-padded copy, in one SIMD block.
        head.copy_from_slice(bytes);
        if let Ok(Some(text)) = simdutf8::basic::from_utf8(&padded).map(|t| t.get(..bytes.len())) {
            dst.push_str(text);
            return;
        }
    } else if let Some(text) = text(bytes) {
        dst.push_str(text);
        return;
    }
    dst.push_str(&String::from_utf8_lossy(bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_check() {
        let ascii = b"x".repeat(100);
        assert!(text(&ascii).is_some());
        assert!(text("\u{e9}".repeat(40).as_bytes()).is_some());
        for at in [0, 31, 32, 63, 99] {
            let mut bad = ascii.clone();
            bad[at] = 0xFF;
            assert_eq!(text(&bad), None, "invalid byte at {at}");
        }
    }

    #[test]
    fn text_in_a_chunk_whatever_follows() {
        for len in [0, 1, 63, 64, 65, 100, 128, 200] {
            for tail in [&b""[..], "\u{e9}".as_bytes(), b"\xE2\x82", b"\xFF"] {
                let mut value = vec![b'x'; len];
                value.extend_from_slice(tail);
                // Followed by nothing, by valid text, by invalid bytes, by a split character.
                for after in [
                    &b""[..],
                    b"\n\ndata: more",
                    b"\n\xFF\xFE",
                    b"\xA9",
                    &[b'y'; 70],
                ] {
                    let chunk = [&b"id: 1\n"[..], &value, after].concat();
                    let want = core::str::from_utf8(&value).ok();
                    assert_eq!(
                        text_in(&chunk, 6, 6 + value.len()),
                        want,
                        "{len} {tail:?} {after:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn text_of_every_length_and_validity() {
        for len in [0, 1, 9, 62, 63, 64, 65, 100] {
            for tail in [
                &b""[..],
                "\u{e9}".as_bytes(),
                b"\xE2\x82",
                b"\xFF",
                b"\xC3",
                b"\x80",
            ] {
                let mut value = vec![b'x'; len];
                value.extend_from_slice(tail);
                let mut got = String::from("<");
                push_lossy(&mut got, &value);
                assert_eq!(
                    got,
                    format!("<{}", String::from_utf8_lossy(&value)),
                    "{len} {tail:?}"
                );
                assert_eq!(text(&value), core::str::from_utf8(&value).ok());
            }
        }
    }
}
