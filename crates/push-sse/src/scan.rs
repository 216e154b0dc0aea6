//! Finding line endings: CR or LF, the first of either.
//!
//! Short lines (blank lines, ids, types) are the common case and end within a word or two:
//! those are checked inline, eight bytes at a time, before calling `memchr2`, whose set-up costs
//! more than a short line. On x86-64 with AVX2 the `memchr2` searcher is built once per decoder,
//! which skips its per-call dispatch.

#[cfg(target_arch = "x86_64")]
use memchr::arch::x86_64::avx2::memchr::Two;

const ONES: u64 = u64::from_ne_bytes([1; 8]);

/// The line-ending searcher of one decoder.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scanner {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<Two>,
}

impl Scanner {
    pub(crate) fn new() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            avx2: Two::new(b'\n', b'\r'),
        }
    }

    /// `memchr2(b'\n', b'\r', hay)`.
    #[inline]
    fn memchr2(&self, hay: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(two) = &self.avx2 {
            return two.find(hay);
        }
        memchr::memchr2(b'\n', b'\r', hay)
    }

    /// The index of the first CR or LF: two words inline, then `memchr2`.
    #[inline(always)]
    pub(crate) fn eol(&self, hay: &[u8]) -> Option<usize> {
        const WORDS: usize = 2;
        let mut at = 0;
        for word in hay.chunks_exact(8).take(WORDS) {
            let word = u64::from_le_bytes([
                word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
            ]);
            // The lowest byte flagged is the first byte below 0x0E (borrows only run upwards, from
            // a flagged byte): most often CR or LF, else a rare control byte, left to `memchr2`.
            let low = word.wrapping_sub(ONES * 0x0E) & !word & (ONES * 0x80);
            if low != 0 {
                let first = at + (low.trailing_zeros() / 8) as usize;
                if matches!(hay[first], b'\n' | b'\r') {
                    return Some(first);
                }
                at = first;
                break;
            }
            at += 8;
        }
        self.memchr2(&hay[at..]).map(|offset| at + offset)
    }

    /// The length of the line `hay` starts with if it ends with an LF (`None` if it ends with a CR
    /// or not at all). A line that starts `data:` is taken to be long: it goes to `memchr2` at once.
    #[inline]
    pub(crate) fn lf_line(&self, hay: &[u8]) -> Option<usize> {
        let Some(head) = hay.first_chunk::<8>() else {
            return self.eol(hay).filter(|&len| hay[len] == b'\n');
        };
        let word = u64::from_le_bytes(*head);
        let mut at = 8;
        let low = word.wrapping_sub(ONES * 0x0E) & !word & (ONES * 0x80);
        if low != 0 {
            at = (low.trailing_zeros() / 8) as usize;
            match hay[at] {
                b'\n' => return Some(at),
                b'\r' => return None,
                _ => {}
            }
        } else if word & 0xFF_FFFF_FFFF != u64::from_le_bytes(*b"data:\0\0\0") {
            if let Some(len) = self.eol(&hay[8..]) {
                return (hay[8 + len] == b'\n').then_some(8 + len);
            }
            return None;
        }
        let len = at + self.memchr2(&hay[at..])?;
        (hay[len] == b'\n').then_some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_line_ending_position() {
        for len in 0..80 {
            let mut hay = vec![b'x'; len];
            assert_eq!(Scanner::new().eol(&hay), None);
            for at in 0..len {
                for end in [b'\n', b'\r'] {
                    hay[at] = end;
                    assert_eq!(Scanner::new().eol(&hay), Some(at), "len {len}, at {at}");
                    hay[at] = 0x8A;
                    assert_eq!(Scanner::new().eol(&hay), None);
                    if at > 0 {
                        // A control byte first (the word check flags it too).
                        hay[at - 1] = b'\t';
                        hay[at] = end;
                        assert_eq!(Scanner::new().eol(&hay), Some(at), "len {len}, at {at}");
                        hay[at - 1] = b'x';
                    }
                    hay[at] = b'x';
                }
            }
        }
    }

    #[test]
    fn lf_lines_of_every_shape() {
        let scan = Scanner::new();
        for prefix in [&b""[..], b"data:", b"id: ", b"event: x"] {
            for len in 0..80 {
                let mut hay = prefix.to_vec();
                hay.resize(prefix.len() + len, b'x');
                let body = hay.len();
                assert_eq!(scan.lf_line(&hay), None);
                for (end, want) in [(b'\n', Some(body)), (b'\r', None)] {
                    hay.push(end);
                    assert_eq!(scan.lf_line(&hay), want, "{prefix:?} {len}");
                    hay.extend_from_slice(b"more\n");
                    assert_eq!(scan.lf_line(&hay), want, "{prefix:?} {len}");
                    hay.truncate(body);
                }
                if len > 0 {
                    // A control byte that is not a line ending comes first.
                    hay[prefix.len()] = b'\t';
                    hay.push(b'\n');
                    assert_eq!(scan.lf_line(&hay), Some(body), "{prefix:?} {len}");
                }
            }
        }
    }
}
