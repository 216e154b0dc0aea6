//! Splitting the byte stream into lines: BOM, CR / LF / CRLF, partial lines, the line limit.
//!
//! ```text
//! stream      = [ bom ] *line
//! line        = *any-char end-of-line
//! end-of-line = ( cr lf / cr / lf )
//! bom         = %xEF.BB.BF          ; U+FEFF, only at the very start of the stream
//! any-char    = %x00-09 / %x0B-0C / %x0E-FF   ; anything but CR and LF
//! ```
//!
//! A CR ends its line at once, even as the last byte of a chunk; an LF at the start of the next
//! chunk is then skipped. So no line ever waits for a byte that may not come, and a final lone CR
//! ends a line.

use memchr::memchr2;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Buffered input and the scanner state for the line splitter.
#[derive(Debug)]
pub(crate) struct LineBuffer {
    /// Fed bytes; `buf[pos..]` is not consumed yet.
    buf: Vec<u8>,
    /// Start of the unconsumed bytes.
    pos: usize,
    /// `buf[pos..scanned]` is known to hold no CR or LF (so long partial lines are scanned once).
    scanned: usize,
    /// The previous line ended with a CR as the last buffered byte: skip one LF if it comes next.
    skip_lf: bool,
    /// The start of the stream has not been checked for a BOM yet.
    bom_pending: bool,
    max_line: usize,
}

/// A line found in the buffer: its length and the length of the line plus its line ending.
#[derive(Clone, Copy, Debug)]
struct Found {
    len: usize,
    consumed: usize,
}

/// A line that exceeds the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooLong;

impl LineBuffer {
    pub(crate) fn new(max_line: usize) -> Self {
        Self {
            buf: Vec::new(),
            pos: 0,
            scanned: 0,
            skip_lf: false,
            bom_pending: true,
            max_line,
        }
    }

    /// Appends a chunk, first dropping what earlier lines consumed.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes held but not yet consumed as lines.
    pub(crate) fn buffered_len(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes of memory held by the buffer.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Drops everything buffered, including its memory (after an error or at end of input).
    pub(crate) fn release(&mut self) {
        self.buf = Vec::new();
        self.pos = 0;
        self.scanned = 0;
    }

    /// Calls `f` with the next complete line (without its line ending) and consumes it.
    ///
    /// `Ok(None)`: no complete line is buffered (more input is needed). `Err(TooLong)`: the next
    /// line is longer than the limit, whether complete or not.
    pub(crate) fn next_line<R>(
        &mut self,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, TooLong> {
        if self.bom_pending && !self.check_bom() {
            return Ok(None);
        }
        if self.skip_lf && self.pos < self.buf.len() {
            self.skip_lf = false;
            if self.buf[self.pos] == b'\n' {
                self.pos += 1;
                self.scanned = self.scanned.max(self.pos);
            }
        }
        let Some(found) = self.find()? else {
            return Ok(None);
        };
        let start = self.pos;
        self.pos += found.consumed;
        self.scanned = self.pos;
        Ok(Some(f(&self.buf[start..start + found.len])))
    }

    /// Consumes a BOM at the stream start; `false` while the buffered bytes may still become one.
    fn check_bom(&mut self) -> bool {
        let avail = &self.buf[self.pos..];
        if avail.len() < BOM.len() && BOM.starts_with(avail) {
            return false;
        }
        if avail.starts_with(BOM) {
            self.pos += BOM.len();
            self.scanned = self.pos;
        }
        self.bom_pending = false;
        true
    }

    fn find(&mut self) -> Result<Option<Found>, TooLong> {
        let from = self.scanned.max(self.pos);
        let Some(offset) = memchr2(b'\n', b'\r', &self.buf[from..]) else {
            self.scanned = self.buf.len();
            if self.buf.len() - self.pos > self.max_line {
                return Err(TooLong);
            }
            return Ok(None);
        };
        let end = from + offset;
        let len = end - self.pos;
        if len > self.max_line {
            return Err(TooLong);
        }
        let consumed = if self.buf[end] == b'\n' {
            len + 1
        } else if end + 1 < self.buf.len() {
            // CR with the next byte buffered: CRLF or a lone CR.
            len + 1 + usize::from(self.buf[end + 1] == b'\n')
        } else {
            // CR as the last buffered byte: the line ends now; an LF may follow in the next chunk.
            self.skip_lf = true;
            len + 1
        };
        Ok(Some(Found { len, consumed }))
    }

    /// Moves the unconsumed tail (at most one partial line after a full drain) to the front, and
    /// gives back memory a huge chunk made the buffer grab.
    fn compact(&mut self) {
        if self.pos == 0 {
            return;
        }
        if self.pos == self.buf.len() {
            self.buf.clear();
        } else {
            self.buf.drain(..self.pos);
        }
        self.scanned -= self.pos.min(self.scanned);
        self.pos = 0;
        let keep = self.max_line.saturating_add(64 * 1024);
        if self.buf.capacity() > keep.saturating_mul(2) && self.buf.len() <= keep {
            self.buf.shrink_to(keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut b = LineBuffer::new(1024);
        let mut out = Vec::new();
        for chunk in chunks {
            b.feed(chunk);
            while let Some(line) = b.next_line(<[u8]>::to_vec).unwrap() {
                out.push(line);
            }
        }
        out
    }

    #[test]
    fn every_line_ending() {
        let want: Vec<Vec<u8>> = vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), b"".to_vec()];
        assert_eq!(lines(&[b"a\r\nb\rc\n\n"]), want);
        assert_eq!(lines(&[b"a\r", b"\nb\r", b"c\n", b"\n"]), want);
        assert_eq!(lines(&[b"a\r", b"\n", b"b", b"\r", b"c\n\n"]), want);
    }

    #[test]
    fn cr_at_chunk_end_ends_the_line_at_once() {
        let mut b = LineBuffer::new(16);
        b.feed(b"x\r");
        assert_eq!(b.next_line(<[u8]>::to_vec), Ok(Some(b"x".to_vec())));
        b.feed(b"\r");
        assert_eq!(b.next_line(<[u8]>::to_vec), Ok(Some(b"".to_vec())));
    }

    #[test]
    fn bom_only_at_start_even_split() {
        assert_eq!(
            lines(&[b"\xEF", b"\xBB", b"\xBFa\n\xEF\xBB\xBFb\n"]),
            vec![b"a".to_vec(), b"\xEF\xBB\xBFb".to_vec()]
        );
        assert_eq!(lines(&[b"\xEF\xBBa\n"]), vec![b"\xEF\xBBa".to_vec()]);
    }

    #[test]
    fn long_partial_line_is_rejected_and_memory_released() {
        let mut b = LineBuffer::new(8);
        b.feed(b"12345678");
        assert_eq!(b.next_line(|_| ()), Ok(None));
        b.feed(b"9");
        assert_eq!(b.next_line(|_| ()), Err(TooLong));
        b.release();
        assert_eq!(b.buffered_len(), 0);
        assert_eq!(b.capacity(), 0);
        let mut b = LineBuffer::new(3);
        b.feed(b"ab\nabcd\n");
        assert_eq!(b.next_line(<[u8]>::to_vec), Ok(Some(b"ab".to_vec())));
        assert_eq!(b.next_line(<[u8]>::to_vec), Err(TooLong));
    }
}
