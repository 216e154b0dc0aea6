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
//!
//! The input is two segments, in stream order: `carry`, the bytes fed as slices (copied) and the
//! partial line a chunk ended with, then `chunk`, a [`Bytes`] fed whole and read in place. Only a
//! line that spans chunks is copied (once, into `carry`).

use core::ops::ControlFlow;

use bytes::Bytes;

use crate::scan::Scanner;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Buffered input and the scanner state for the line splitter.
#[derive(Debug)]
pub(crate) struct LineBuffer {
    /// Copied bytes; `carry[pos..]` is not consumed yet and comes before `chunk`.
    carry: Vec<u8>,
    /// Start of the unconsumed bytes of `carry`.
    pos: usize,
    /// `carry[pos..scanned]` is known to hold no CR or LF (so long partial lines are scanned once).
    scanned: usize,
    /// A chunk read in place, and `chunk[cpos..]` not consumed yet.
    chunk: Bytes,
    cpos: usize,
    /// The previous line ended with a CR as the last buffered byte: skip one LF if it comes next.
    skip_lf: bool,
    /// The start of the stream has not been checked for a BOM yet.
    bom_pending: bool,
    max_line: usize,
    /// Finds line endings.
    scan: Scanner,
}

/// A line, the chunk being read, and whether the line lies in that chunk (so that parts of it
/// can be kept as offsets, or sliced out).
pub(crate) type Line<'a> = (&'a [u8], &'a Bytes, bool);

/// A line that exceeds the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooLong;

impl LineBuffer {
    pub(crate) fn new(max_line: usize) -> Self {
        Self {
            carry: Vec::new(),
            pos: 0,
            scanned: 0,
            chunk: Bytes::new(),
            cpos: 0,
            skip_lf: false,
            bom_pending: true,
            max_line,
            scan: Scanner::new(),
        }
    }

    /// Appends a copy of `bytes` (and drops the chunk, whose unconsumed bytes are copied first).
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        self.absorb_chunk();
        self.chunk = Bytes::new();
        self.cpos = 0;
        self.compact();
        self.carry.extend_from_slice(bytes);
    }

    /// Appends `chunk`, to be read in place if nothing but a partial line precedes it.
    ///
    /// The chunk read so far is dropped only here, in [`Self::feed`] and in [`Self::release`]:
    /// until then, slices of it handed out by [`Self::next_line_in`] stay valid as offsets.
    pub(crate) fn feed_bytes(&mut self, chunk: Bytes) {
        if self.cpos < self.chunk.len() {
            self.feed(&chunk);
        } else {
            self.chunk = chunk;
            self.cpos = 0;
        }
    }

    /// Bytes held but not yet consumed as lines.
    pub(crate) fn buffered_len(&self) -> usize {
        self.carry.len() - self.pos + self.chunk.len() - self.cpos
    }

    /// Bytes of memory held: the copy buffer and the chunk being read.
    pub(crate) fn capacity(&self) -> usize {
        self.carry.capacity() + self.chunk.len()
    }

    /// Drops everything buffered, including its memory (after an error or at end of input).
    pub(crate) fn release(&mut self) {
        self.carry = Vec::new();
        self.pos = 0;
        self.scanned = 0;
        self.chunk = Bytes::new();
        self.cpos = 0;
    }

    /// The chunk being read (possibly consumed already, or empty).
    pub(crate) fn chunk(&self) -> &Bytes {
        &self.chunk
    }

    /// The next complete line (without its line ending), consumed: a [`Line`].
    ///
    /// `Ok(None)`: no complete line is buffered (more input is needed). `Err(TooLong)`: the next
    /// line is longer than the limit, whether complete or not.
    #[inline]
    pub(crate) fn next_line_in(&mut self) -> Result<Option<Line<'_>>, TooLong> {
        if (self.bom_pending || self.skip_lf) && !self.prepare() {
            return Ok(None);
        }
        if self.pos < self.carry.len() {
            return match self.carry_line() {
                Ok(Some(end)) => Ok(Some((&self.carry[end.0..end.1], &self.chunk, false))),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
        }
        let start = self.cpos;
        let Some(len) = self.scan.eol(&self.chunk[start..]) else {
            return self.keep_partial().map(|()| None);
        };
        if len > self.max_line {
            return Err(TooLong);
        }
        self.cpos = ending(&self.chunk, start + len, &mut self.skip_lf);
        Ok(Some((&self.chunk[start..start + len], &self.chunk, true)))
    }

    /// The fast path: while the unconsumed input is all in the chunk and no BOM or CRLF check
    /// is pending, reads LF-terminated lines straight out of the chunk, handing each (with the
    /// chunk) to `each` until it breaks. `None` when it stops without a break: at a partial line,
    /// a CR, a line over the limit or something pending; [`Self::next_line_in`] then takes the
    /// next line, whatever it is.
    #[inline]
    pub(crate) fn scan_in_place<T>(
        &mut self,
        mut each: impl FnMut(&[u8], &Bytes) -> ControlFlow<T>,
    ) -> Option<T> {
        if self.bom_pending || self.skip_lf || self.pos < self.carry.len() {
            return None;
        }
        let bytes: &[u8] = &self.chunk;
        let mut pos = self.cpos;
        let found = loop {
            let rest = &bytes[pos..];
            let Some(len) = self.scan.lf_line(rest) else {
                break None;
            };
            if len > self.max_line {
                break None;
            }
            pos += len + 1;
            if let ControlFlow::Break(t) = each(&rest[..len], &self.chunk) {
                break Some(t);
            }
        };
        self.cpos = pos;
        found
    }

    /// Where in `carry` the next line is, when it starts there (and may end in `chunk`).
    fn carry_line(&mut self) -> Result<Option<(usize, usize)>, TooLong> {
        let start = self.pos;
        let from = self.scanned.max(start);
        if let Some(offset) = self.scan.eol(&self.carry[from..]) {
            let end = from + offset;
            if end - start > self.max_line {
                return Err(TooLong);
            }
            self.pos = ending(&self.carry, end, &mut self.skip_lf);
            self.scanned = self.pos;
            return Ok(Some((start, end)));
        }
        self.scanned = self.carry.len();
        let have = self.carry.len() - start;
        let rest = &self.chunk[self.cpos..];
        let Some(len) = self.scan.eol(rest) else {
            if have + rest.len() > self.max_line {
                return Err(TooLong);
            }
            self.absorb_chunk();
            self.scanned = self.carry.len();
            return Ok(None);
        };
        if have + len > self.max_line {
            return Err(TooLong);
        }
        // The line ends in the chunk: complete it in `carry`.
        self.carry.extend_from_slice(&rest[..len]);
        self.cpos = ending(&self.chunk, self.cpos + len, &mut self.skip_lf);
        self.pos = self.carry.len();
        self.scanned = self.pos;
        Ok(Some((start, self.pos)))
    }

    /// Moves the partial line the chunk ends with into `carry` (which holds nothing unconsumed).
    #[cold]
    fn keep_partial(&mut self) -> Result<(), TooLong> {
        if self.chunk.len() - self.cpos > self.max_line {
            return Err(TooLong);
        }
        self.absorb_chunk();
        self.scanned = self.carry.len();
        Ok(())
    }

    /// Consumes a BOM at the stream start and an LF after a CR that ended a chunk; `false` while
    /// the buffered bytes may still become a BOM.
    #[cold]
    fn prepare(&mut self) -> bool {
        if self.bom_pending && self.pos == self.carry.len() && self.buffered_len() >= BOM.len() {
            // The stream starts in the chunk, long enough to tell: it is read in place.
            self.cpos += usize::from(self.chunk[self.cpos..].starts_with(BOM)) * BOM.len();
            self.bom_pending = false;
        }
        if self.bom_pending {
            // At most once: the chunk is copied so that a BOM split across chunks is seen whole.
            self.absorb_chunk();
            let avail = &self.carry[self.pos..];
            if avail.len() < BOM.len() && BOM.starts_with(avail) {
                return false;
            }
            if avail.starts_with(BOM) {
                self.pos += BOM.len();
                self.scanned = self.pos;
            }
            self.bom_pending = false;
        }
        if self.skip_lf {
            if self.pos < self.carry.len() {
                self.skip_lf = false;
                if self.carry[self.pos] == b'\n' {
                    self.pos += 1;
                    self.scanned = self.scanned.max(self.pos);
                }
            } else if self.cpos < self.chunk.len() {
                self.skip_lf = false;
                self.cpos += usize::from(self.chunk[self.cpos] == b'\n');
            }
        }
        true
    }

    /// Copies the unconsumed part of the chunk to the end of `carry`; the chunk is kept, consumed.
    fn absorb_chunk(&mut self) {
        if self.cpos < self.chunk.len() {
            self.compact();
            self.carry.extend_from_slice(&self.chunk[self.cpos..]);
            self.cpos = self.chunk.len();
        }
    }

    /// Moves the unconsumed part of `carry` (at most one partial line after a full drain) to the
    /// front, and gives back memory a huge chunk made the buffer grab.
    fn compact(&mut self) {
        if self.pos == 0 {
            return;
        }
        if self.pos == self.carry.len() {
            self.carry.clear();
        } else {
            self.carry.drain(..self.pos);
        }
        self.scanned -= self.pos.min(self.scanned);
        self.pos = 0;
        let keep = self.max_line.saturating_add(64 * 1024);
        if self.carry.capacity() > keep.saturating_mul(2) && self.carry.len() <= keep {
            self.carry.shrink_to(keep);
        }
    }
}

/// Where the line ending at `end` (a CR or LF of `buf`) ends: the index after it.
#[inline]
fn ending(buf: &[u8], end: usize, skip_lf: &mut bool) -> usize {
    if buf[end] == b'\n' {
        end + 1
    } else if end + 1 < buf.len() {
        // CR with the next byte buffered: CRLF or a lone CR.
        end + 2 - usize::from(buf[end + 1] != b'\n')
    } else {
        // CR as the last buffered byte: the line ends now; an LF may follow in the next chunk.
        *skip_lf = true;
        end + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let (mut b, mut out) = (LineBuffer::new(1024), Vec::new());
        for (i, chunk) in chunks.iter().enumerate() {
            // Alternate the copying and the in-place path.
            if i % 2 == 0 {
                b.feed(chunk);
            } else {
                b.feed_bytes(Bytes::copy_from_slice(chunk));
            }
            while let Some((line, _, _)) = b.next_line_in().unwrap() {
                out.push(line.to_vec());
            }
        }
        out
    }

    fn next(b: &mut LineBuffer) -> Result<Option<Vec<u8>>, TooLong> {
        Ok(b.next_line_in()?.map(|(line, _, _)| line.to_vec()))
    }

    #[test]
    fn every_line_ending() {
        let want: Vec<Vec<u8>> = vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), b"".to_vec()];
        assert_eq!(lines(&[b"a\r\nb\rc\n\n"]), want);
        assert_eq!(lines(&[b"a\r", b"\nb\r", b"c\n", b"\n"]), want);
        assert_eq!(lines(&[b"a\r", b"\n", b"b", b"\r", b"c\n\n"]), want);
        assert_eq!(lines(&[b"", b"a\r", b"\nb\rc", b"\n\n"]), want);
    }

    #[test]
    fn cr_at_chunk_end_ends_the_line_at_once() {
        let mut b = LineBuffer::new(16);
        b.feed(b"x\r");
        assert_eq!(next(&mut b), Ok(Some(b"x".to_vec())));
        b.feed_bytes(Bytes::from_static(b"\r"));
        assert_eq!(next(&mut b), Ok(Some(b"".to_vec())));
        b.feed_bytes(Bytes::from_static(b"\ny\r"));
        assert_eq!(next(&mut b), Ok(Some(b"y".to_vec())));
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
    fn in_place_and_copied_input_agree_at_every_split() {
        let input: &[u8] = b"\xEF\xBB\xBFdata: a long line that spans several words\r\n\r\rx\ny\r\
            \n:comment that is long enough for memchr2 to be used on it\n\nlast";
        let whole = lines(&[input]);
        for a in 0..=input.len() {
            for b in a..=input.len() {
                let parts = [&input[..a], &input[a..b], &input[b..]];
                let mut d = LineBuffer::new(1024);
                let mut got = Vec::new();
                for part in parts {
                    d.feed_bytes(Bytes::copy_from_slice(part));
                    while let Some((line, _, _)) = d.next_line_in().unwrap() {
                        got.push(line.to_vec());
                    }
                }
                assert_eq!(got, whole, "split at {a}, {b}");
                assert_eq!(lines(&parts), whole, "split at {a}, {b}");
            }
        }
    }

    #[test]
    fn long_partial_line_is_rejected_and_memory_released() {
        let mut b = LineBuffer::new(8);
        b.feed(b"12345678");
        assert_eq!(next(&mut b), Ok(None));
        b.feed(b"9");
        assert_eq!(next(&mut b), Err(TooLong));
        b.release();
        assert_eq!(b.buffered_len(), 0);
        assert_eq!(b.capacity(), 0);
        let mut b = LineBuffer::new(3);
        b.feed(b"ab\nabcd\n");
        assert_eq!(next(&mut b), Ok(Some(b"ab".to_vec())));
        assert_eq!(next(&mut b), Err(TooLong));
        let mut b = LineBuffer::new(8);
        b.feed_bytes(Bytes::from_static(b"\n1234"));
        assert_eq!(next(&mut b), Ok(Some(b"".to_vec())));
        assert_eq!(next(&mut b), Ok(None));
        b.feed_bytes(Bytes::from_static(b"56789\n"));
        assert_eq!(next(&mut b), Err(TooLong));
    }
}
