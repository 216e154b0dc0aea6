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
//! A line that is not complete yet is held according to its first bytes ([`field::partial`]):
//! a comment or an ignored field is dropped as it arrives (`skipping`, constant memory at any
//! length); a `data` line is kept as long as the event's data may still grow; an `event`, `id` or
//! `retry` line up to the line limit. A complete line is checked against the line limit here too
//! (the `data` limit is the interpreter's), with the same rules, so the outcome never depends on
//! where a chunk ends.
//!
//! The input is two segments, in stream order: `carry`, the bytes fed as slices (copied) and the
//! partial line a chunk ended with, then `chunk`, a [`Bytes`] fed whole and read in place. Only a
//! line that spans chunks is copied (once, into `carry`).

use core::ops::ControlFlow;

use bytes::Bytes;

use crate::Error;
use crate::field::{self, HEAD, Partial};
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
    /// The line being read is ignored: its bytes are dropped up to its line ending.
    skipping: bool,
    max_line: usize,
    /// Finds line endings.
    scan: Scanner,
}

/// A line, the chunk being read, and whether the line lies in that chunk (so that parts of it
/// can be kept as offsets, or sliced out).
pub(crate) type Line<'a> = (&'a [u8], &'a Bytes, bool);

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
            skipping: false,
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
        self.skipping = false;
    }

    /// The chunk being read (possibly consumed already, or empty).
    pub(crate) fn chunk(&self) -> &Bytes {
        &self.chunk
    }

    /// The next complete line (without its line ending), consumed: a [`Line`].
    ///
    /// `room` is how many bytes the value of a `data` line may still have (the event limit less
    /// the data so far). `Ok(None)`: no complete line is buffered (more input is needed).
    /// `Err(e)`: the partial line the input ends with can only break a limit
    /// ([`Error::LineTooLong`] for `event`, `id`, `retry`; [`Error::EventTooLarge`] for `data`).
    #[inline]
    pub(crate) fn next_line_in(&mut self, room: usize) -> Result<Option<Line<'_>>, Error> {
        loop {
            if (self.bom_pending || self.skip_lf) && !self.prepare() {
                return Ok(None);
            }
            if self.skipping {
                if self.skip_line() {
                    continue;
                }
                return Ok(None);
            }
            if self.pos < self.carry.len() {
                return match self.carry_line(room)? {
                    Some((start, end)) => Ok(Some((&self.carry[start..end], &self.chunk, false))),
                    None if self.skipping => continue,
                    None => Ok(None),
                };
            }
            let start = self.cpos;
            let Some(len) = self.scan.eol(&self.chunk[start..]) else {
                self.keep_partial(room)?;
                if self.skipping {
                    continue;
                }
                return Ok(None);
            };
            if len > self.max_line && field::is_limited(&self.chunk[start..start + len]) {
                return Err(Error::LineTooLong);
            }
            self.cpos = ending(&self.chunk, start + len, &mut self.skip_lf);
            return Ok(Some((&self.chunk[start..start + len], &self.chunk, true)));
        }
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
        if self.bom_pending || self.skip_lf || self.skipping || self.pos < self.carry.len() {
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
                // Perhaps an `event`, `id` or `retry` line over the limit: the general path.
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
    /// `Ok(None)`: more input is needed, or the line is ignored and being skipped.
    fn carry_line(&mut self, room: usize) -> Result<Option<(usize, usize)>, Error> {
        let start = self.pos;
        let from = self.scanned.max(start);
        if let Some(offset) = self.scan.eol(&self.carry[from..]) {
            let end = from + offset;
            if end - start > self.max_line && field::is_limited(&self.carry[start..end]) {
                return Err(Error::LineTooLong);
            }
            self.pos = ending(&self.carry, end, &mut self.skip_lf);
            self.scanned = self.pos;
            return Ok(Some((start, end)));
        }
        self.scanned = self.carry.len();
        let rest = &self.chunk[self.cpos..];
        let eol = self.scan.eol(rest);
        let tail = &rest[..eol.unwrap_or(rest.len())];
        let line = &self.carry[start..];
        let mut head = [0; HEAD];
        let n = line.len().min(HEAD);
        head[..n].copy_from_slice(&line[..n]);
        let m = tail.len().min(HEAD - n);
        head[n..n + m].copy_from_slice(&tail[..m]);
        let len = line.len() + tail.len();
        let head = &head[..n + m];
        if eol.is_some() && len > self.max_line && field::is_limited(head) {
            return Err(Error::LineTooLong);
        }
        if self.hold(head, len, room)? == Hold::Skip {
            // An ignored line: what is buffered of it goes; the rest is dropped as it comes.
            self.pos = self.carry.len();
            self.scanned = self.pos;
            self.skipping = true;
            return Ok(None);
        }
        let Some(len) = eol else {
            self.absorb_chunk();
            self.scanned = self.carry.len();
            return Ok(None);
        };
        // The line ends in the chunk: complete it in `carry`.
        self.carry.extend_from_slice(&rest[..len]);
        self.cpos = ending(&self.chunk, self.cpos + len, &mut self.skip_lf);
        self.pos = self.carry.len();
        self.scanned = self.pos;
        Ok(Some((start, self.pos)))
    }

    /// Moves the partial line the chunk ends with into `carry` (which holds nothing unconsumed),
    /// or drops it if it is ignored.
    #[cold]
    fn keep_partial(&mut self, room: usize) -> Result<(), Error> {
        let partial = &self.chunk[self.cpos..];
        if self.hold(partial, partial.len(), room)? == Hold::Skip {
            self.cpos = self.chunk.len();
            self.skipping = true;
            return Ok(());
        }
        self.absorb_chunk();
        self.scanned = self.carry.len();
        Ok(())
    }

    /// Whether a line of `len` bytes so far, starting with `head`, is kept or skipped; an error
    /// when it already breaks the limit of its kind (which the complete line would break too).
    fn hold(&self, head: &[u8], len: usize, room: usize) -> Result<Hold, Error> {
        match field::partial(head) {
            Partial::Skip => Ok(Hold::Skip),
            Partial::Undecided => Ok(Hold::Keep),
            Partial::Limited if len > self.max_line => Err(Error::LineTooLong),
            Partial::Data if field::data_value_len(head, len) > room => Err(Error::EventTooLarge),
            Partial::Limited | Partial::Data => Ok(Hold::Keep),
        }
    }

    /// Drops the rest of an ignored line; `true` once its line ending is consumed too.
    #[cold]
    fn skip_line(&mut self) -> bool {
        if self.pos < self.carry.len() {
            if let Some(offset) = self.scan.eol(&self.carry[self.pos..]) {
                self.pos = ending(&self.carry, self.pos + offset, &mut self.skip_lf);
                self.scanned = self.pos;
                self.skipping = false;
                return true;
            }
            self.pos = self.carry.len();
            self.scanned = self.pos;
        }
        if let Some(offset) = self.scan.eol(&self.chunk[self.cpos..]) {
            self.cpos = ending(&self.chunk, self.cpos + offset, &mut self.skip_lf);
            self.skipping = false;
            return true;
        }
        self.cpos = self.chunk.len();
        false
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

/// What to do with a partial line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hold {
    Keep,
    Skip,
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
#[path = "line_tests.rs"]
mod tests;
