//! Metering what a peer makes tungstenite buffer: the frame headers of the incoming bytes are
//! read (with tungstenite's own [`FrameHeader::parse`]) as the bytes pass by, so the memory an
//! unfinished message will take is known before tungstenite sees the bytes that claim it.
//!
//! tungstenite assembles fragmented messages internally and reserves a frame's whole declared
//! length as soon as it has read its header; its limits are per connection. The meter adds what
//! a server with many connections needs: one budget for the bytes of all the unfinished messages
//! of the connections that share an [`AcceptConfig`](crate::AcceptConfig), and a bound on the
//! frames of one message (a stream of empty continuation frames costs CPU and no memory, so no
//! byte limit ever stops it).

use core::fmt;
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode;

/// The budget shared by the connections of one [`AcceptConfig`](crate::AcceptConfig) (and its
/// clones): bytes reserved for unfinished incoming messages.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    in_use: AtomicUsize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            in_use: AtomicUsize::new(0),
        })
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    pub(crate) fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    /// Takes `bytes` if they fit under the limit.
    fn reserve(&self, bytes: usize) -> bool {
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, bytes: usize) {
        // Only what was reserved is released, so this never goes below zero.
        self.in_use.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// Why the meter stopped a connection; the runner closes with [`Exceeded::close_code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exceeded {
    /// The shared budget for unfinished messages has no room for this frame (1009).
    Budget,
    /// A message arrived in more frames than allowed (1008).
    Frames,
}

impl Exceeded {
    pub(crate) fn close_code(self) -> u16 {
        match self {
            Self::Budget => 1009,
            Self::Frames => 1008,
        }
    }

    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Budget => "server busy: unfinished messages over budget",
            Self::Frames => "too many frames in one message",
        }
    }

    /// The meter's verdict carried by an I/O error (the only way out of tungstenite's read).
    pub(crate) fn from_io(error: &std::io::Error) -> Option<Self> {
        error.get_ref()?.downcast_ref::<Self>().copied()
    }
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for Exceeded {}

/// Follows the frame structure of one connection's incoming bytes and keeps the reservation of
/// its unfinished message in the shared [`Budget`].
///
/// What is reserved: for every data frame of the message being received, its declared length
/// and header, from the moment its header is seen until the message's final frame has passed;
/// for a control frame, its declared length until it has passed. That is what tungstenite
/// buffers for the connection (its read buffer aside). Dropping the meter releases it all.
#[derive(Debug)]
pub(crate) struct FrameMeter {
    budget: Arc<Budget>,
    max_frames: u32,
    /// Bytes of a frame header seen so far (at most 14).
    head: [u8; 14],
    head_len: usize,
    /// Payload bytes of the current frame still to pass; `None` between frames.
    payload_left: Option<u64>,
    /// The current frame is a control frame (its reservation ends with it).
    control: Option<usize>,
    /// The current frame ends its message.
    is_final: bool,
    /// Data frames of the unfinished message so far.
    frames: u32,
    /// Bytes reserved for the unfinished message.
    reserved: usize,
    /// Once the meter has refused, it refuses for good; after a frame tungstenite will refuse
    /// itself (an invalid header), it stops metering.
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Metering,
    Refused(Exceeded),
    Off,
}

impl FrameMeter {
    pub(crate) fn new(budget: Arc<Budget>, max_frames: u32) -> Self {
        Self {
            budget,
            max_frames,
            head: [0; 14],
            head_len: 0,
            payload_left: None,
            control: None,
            is_final: false,
            frames: 0,
            reserved: 0,
            state: State::Metering,
        }
    }

    /// Bytes reserved now for this connection.
    #[cfg(test)]
    pub(crate) fn reserved(&self) -> usize {
        self.reserved + self.control.unwrap_or(0)
    }

    /// Accounts for `bytes`, the next bytes read from the peer; an error means they must not
    /// reach tungstenite and the connection is to be closed with the error's code.
    pub(crate) fn handle_read(&mut self, mut bytes: &[u8]) -> Result<(), Exceeded> {
        loop {
            match self.state {
                State::Metering => {}
                State::Refused(e) => return Err(e),
                State::Off => return Ok(()),
            }
            if bytes.is_empty() {
                return Ok(());
            }
            match self.payload_left {
                Some(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                    bytes = &bytes[n..];
                    // `n` is at most `left`, so this cannot underflow.
                    let left = left - n as u64;
                    self.payload_left = Some(left);
                    if left == 0 {
                        self.end_frame();
                    }
                }
                None => {
                    let n = (self.head.len() - self.head_len).min(bytes.len());
                    self.head[self.head_len..self.head_len + n].copy_from_slice(&bytes[..n]);
                    let mut cursor = Cursor::new(&self.head[..self.head_len + n]);
                    match FrameHeader::parse(&mut cursor) {
                        Ok(Some((header, length))) => {
                            // Only the header's bytes are consumed from this read.
                            let used = usize::try_from(cursor.position()).unwrap_or(0);
                            bytes = &bytes[used.saturating_sub(self.head_len)..];
                            self.head_len = 0;
                            self.start_frame(&header, length, used)?;
                        }
                        Ok(None) => {
                            self.head_len += n;
                            bytes = &bytes[n..];
                        }
                        // tungstenite refuses the same header (1002): nothing left to meter.
                        Err(_) => self.state = State::Off,
                    }
                }
            }
        }
    }

    fn start_frame(
        &mut self,
        header: &FrameHeader,
        length: u64,
        head_len: usize,
    ) -> Result<(), Exceeded> {
        let cost = usize::try_from(length)
            .unwrap_or(usize::MAX)
            .saturating_add(head_len);
        match header.opcode {
            OpCode::Control(_) => {
                self.reserve(cost)?;
                self.control = Some(cost);
            }
            OpCode::Data(_) => {
                self.frames = self.frames.saturating_add(1);
                if self.frames > self.max_frames {
                    return Err(self.refuse(Exceeded::Frames));
                }
                self.reserve(cost)?;
                self.reserved += cost;
                self.is_final = header.is_final;
            }
        }
        self.payload_left = Some(length);
        if length == 0 {
            self.end_frame();
        }
        Ok(())
    }

    fn end_frame(&mut self) {
        self.payload_left = None;
        if let Some(cost) = self.control.take() {
            self.budget.release(cost);
        } else if self.is_final {
            self.budget.release(self.reserved);
            self.reserved = 0;
            self.frames = 0;
            self.is_final = false;
        }
    }

    fn reserve(&mut self, bytes: usize) -> Result<(), Exceeded> {
        if self.budget.reserve(bytes) {
            Ok(())
        } else {
            Err(self.refuse(Exceeded::Budget))
        }
    }

    fn refuse(&mut self, e: Exceeded) -> Exceeded {
        self.state = State::Refused(e);
        e
    }
}

impl Drop for FrameMeter {
    fn drop(&mut self) {
        self.budget
            .release(self.reserved + self.control.unwrap_or(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame with a zero mask.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![first];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(payload);
        out
    }

    fn feed_all(meter: &mut FrameMeter, bytes: &[u8], chunk: usize) -> Result<(), Exceeded> {
        bytes.chunks(chunk).try_for_each(|c| meter.handle_read(c))
    }

    #[test]
    fn an_unfinished_message_holds_its_frames_until_the_final_one_in_any_chunking() {
        let first = frame(0x01, &[b'a'; 300]);
        let ping = frame(0x89, b"p");
        let last = frame(0x80, &[b'b'; 70_000]);
        for chunk in [1, 2, 7, 14, 1000, 1 << 20] {
            let budget = Budget::new(1 << 20);
            let mut meter = FrameMeter::new(budget.clone(), 8);
            feed_all(&mut meter, &first, chunk).unwrap();
            assert_eq!(budget.in_use(), 300 + 8, "chunk {chunk}");
            feed_all(&mut meter, &ping, chunk).unwrap();
            assert_eq!(
                budget.in_use(),
                308,
                "a control frame is released when it has passed"
            );
            // The whole declared length is reserved as soon as the header is seen.
            feed_all(&mut meter, &last[..20], chunk).unwrap();
            assert_eq!(budget.in_use(), 308 + 70_000 + 14, "chunk {chunk}");
            feed_all(&mut meter, &last[20..], chunk).unwrap();
            assert_eq!((budget.in_use(), meter.reserved()), (0, 0), "chunk {chunk}");
        }
    }

    #[test]
    fn the_budget_is_shared_and_refuses_what_does_not_fit() {
        let budget = Budget::new(1000);
        let mut a = FrameMeter::new(budget.clone(), 8);
        let mut b = FrameMeter::new(budget.clone(), 8);
        a.handle_read(&frame(0x02, &[0; 600])).unwrap();
        assert_eq!(
            b.handle_read(&frame(0x02, &[0; 600])),
            Err(Exceeded::Budget)
        );
        assert_eq!(b.handle_read(b"more"), Err(Exceeded::Budget), "for good");
        drop(a);
        assert_eq!(
            budget.in_use(),
            0,
            "a dropped connection releases its message"
        );
        // A header declaring more than the whole budget is refused before anything is buffered.
        let mut c = FrameMeter::new(budget.clone(), 8);
        assert_eq!(
            c.handle_read(&[0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff]),
            Ok(())
        );
        assert_eq!(c.handle_read(&[0, 0, 0, 0]), Err(Exceeded::Budget));
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn endless_empty_continuations_are_refused_by_count() {
        let budget = Budget::new(1 << 20);
        let mut meter = FrameMeter::new(budget.clone(), 4);
        meter.handle_read(&frame(0x01, b"")).unwrap();
        for _ in 0..3 {
            meter.handle_read(&frame(0x00, b"")).unwrap();
        }
        assert_eq!(meter.handle_read(&frame(0x00, b"")), Err(Exceeded::Frames));
        drop(meter);
        // Complete messages reset the count: four-frame messages pass forever.
        let mut meter = FrameMeter::new(budget.clone(), 4);
        let message = [
            frame(0x01, b"a"),
            frame(0x00, b""),
            frame(0x00, b""),
            frame(0x80, b"b"),
        ]
        .concat();
        for _ in 0..100 {
            meter.handle_read(&message).unwrap();
        }
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn an_invalid_header_stops_the_metering_and_tungstenite_refuses_it() {
        let budget = Budget::new(10);
        let mut meter = FrameMeter::new(budget.clone(), 1);
        assert_eq!(meter.handle_read(&frame(0x83, &[0; 100])), Ok(()));
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn the_verdict_survives_the_trip_through_an_io_error() {
        let error = std::io::Error::other(Exceeded::Frames);
        assert_eq!(Exceeded::from_io(&error), Some(Exceeded::Frames));
        assert_eq!(Exceeded::from_io(&std::io::Error::other("x")), None);
        assert_eq!(Exceeded::Budget.close_code(), 1009);
    }
}
