//! Metering what a peer makes tungstenite hold: the frame headers of the incoming bytes are read
//! (with tungstenite's own [`FrameHeader::parse`]) as the bytes pass by, before tungstenite sees
//! them.
//!
//! tungstenite 0.30 reserves a frame's declared length in its read buffer when it parses the
//! header but writes into that room only as bytes arrive (one read buffer at a time): untouched
//! room is address space, not memory. What a connection really holds for an unfinished message
//! is the payload received of it (earlier frames assembled, part of the current one): that is
//! what the meter counts, as it arrives; a header alone costs nothing. Its limits:
//!
//! - a data frame header declaring more than the frame limit, or more than the message limit
//!   with the frames before it, is refused before any of its payload is read (1009);
//! - a control frame header declaring more than 125 bytes is refused (1002); control frames are
//!   never charged, as the protocol bounds them per connection;
//! - the first [`Limits::share`] bytes of every connection's unfinished message are its own; only
//!   the bytes beyond draw on the pool shared by the connections of an
//!   [`Config`](super::Config), and when the pool is spent only a connection holding
//!   more than its share is closed (1009);
//! - a message arrives in at most [`Limits::max_frames`] frames (1008): a stream of empty
//!   continuation frames costs CPU and no memory, so no byte limit ever stops it.

use std::io::Cursor;
use std::sync::Arc;

use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode;

use super::budget::{Budget, Exceeded, Limits};

/// The largest control frame payload (RFC 6455, section 5.5).
const MAX_CONTROL_PAYLOAD: u64 = 125;

/// The read check of a [`Metered`](super::Metered) stream: follows the frame structure of one
/// connection's incoming bytes and keeps the charge of its unfinished message in the shared
/// budget: the payload bytes of that message received so far, less the connection's share,
/// until its final frame has passed. Dropping the meter releases it. Made by
/// [`metered`](super::metered).
#[derive(Debug)]
pub struct FrameMeter {
    budget: Arc<Budget>,
    limits: Limits,
    /// Bytes of a frame header seen so far (at most 14).
    head: [u8; 14],
    head_len: usize,
    /// Payload bytes of the current frame still to pass; `None` between frames.
    payload_left: Option<u64>,
    /// The current frame is a control frame (it is not charged).
    control: bool,
    /// The current frame ends its message.
    is_final: bool,
    /// Data frames of the unfinished message so far.
    frames: u32,
    /// Payload the unfinished message's frames declare so far (checked against the message
    /// limit when a header arrives).
    declared: u64,
    /// Payload bytes of the unfinished message received so far.
    received: u64,
    /// Bytes charged to the shared pool (what `received` exceeds the share by).
    charged: usize,
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
    pub(crate) fn new(budget: Arc<Budget>, limits: Limits) -> Self {
        Self {
            budget,
            limits,
            head: [0; 14],
            head_len: 0,
            payload_left: None,
            control: false,
            is_final: false,
            frames: 0,
            declared: 0,
            received: 0,
            charged: 0,
            state: State::Metering,
        }
    }

    /// Bytes of the unfinished message received so far, and the part charged to the pool.
    #[cfg(test)]
    pub(crate) fn held(&self) -> (u64, usize) {
        (self.received, self.charged)
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
                    if !self.control {
                        self.receive(n)?;
                    }
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
                            self.start_frame(&header, length)?;
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

    /// Checks a header against the limits; nothing is charged for it.
    fn start_frame(&mut self, header: &FrameHeader, length: u64) -> Result<(), Exceeded> {
        match header.opcode {
            OpCode::Control(_) => {
                if length > MAX_CONTROL_PAYLOAD {
                    return Err(self.refuse(Exceeded::Control));
                }
                self.control = true;
            }
            OpCode::Data(_) => {
                self.frames = self.frames.saturating_add(1);
                if self.frames > self.limits.max_frames {
                    return Err(self.refuse(Exceeded::Frames));
                }
                self.declared = self.declared.saturating_add(length);
                if length > self.limits.max_frame || self.declared > self.limits.max_message {
                    return Err(self.refuse(Exceeded::TooLarge));
                }
                self.control = false;
                self.is_final = header.is_final;
            }
        }
        self.payload_left = Some(length);
        if length == 0 {
            self.end_frame();
        }
        Ok(())
    }

    /// Counts `n` more received bytes of the unfinished message, drawing on the pool for what
    /// goes beyond the connection's share.
    fn receive(&mut self, n: usize) -> Result<(), Exceeded> {
        self.received = self.received.saturating_add(n as u64);
        let over = usize::try_from(self.received)
            .unwrap_or(usize::MAX)
            .saturating_sub(self.limits.share);
        if over > self.charged {
            if !self.budget.reserve(over - self.charged) {
                return Err(self.refuse(Exceeded::Budget));
            }
            self.charged = over;
        }
        Ok(())
    }

    fn end_frame(&mut self) {
        self.payload_left = None;
        if self.control {
            self.control = false;
        } else if self.is_final {
            self.budget.release(self.charged);
            self.charged = 0;
            self.received = 0;
            self.declared = 0;
            self.frames = 0;
            self.is_final = false;
        }
    }

    fn refuse(&mut self, e: Exceeded) -> Exceeded {
        self.state = State::Refused(e);
        e
    }
}

impl Drop for FrameMeter {
    fn drop(&mut self) {
        self.budget.release(self.charged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame with a zero mask.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = header(first, payload.len() as u64);
        out.extend_from_slice(payload);
        out
    }

    /// The header of a masked client frame declaring `len` payload bytes.
    fn header(first: u8, len: u64) -> Vec<u8> {
        let mut out = vec![first];
        match len {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        out.extend_from_slice(&[0; 4]);
        out
    }

    fn limits(share: usize) -> Limits {
        Limits {
            max_frame: 256 << 10,
            max_message: 1 << 20,
            max_frames: 8,
            share,
        }
    }

    fn feed_all(meter: &mut FrameMeter, bytes: &[u8], chunk: usize) -> Result<(), Exceeded> {
        bytes.chunks(chunk).try_for_each(|c| meter.handle_read(c))
    }

    #[test]
    fn an_unfinished_message_is_charged_as_it_arrives_beyond_the_share_in_any_chunking() {
        let first = frame(0x01, &[b'a'; 300]);
        let ping = frame(0x89, b"p");
        let last = frame(0x80, &[b'b'; 70_000]);
        for chunk in [1, 2, 7, 14, 1000, 1 << 20] {
            let budget = Budget::new(1 << 20);
            let mut meter = FrameMeter::new(budget.clone(), limits(1000));
            feed_all(&mut meter, &first, chunk).unwrap();
            assert_eq!(meter.held(), (300, 0), "within the share, chunk {chunk}");
            feed_all(&mut meter, &ping, chunk).unwrap();
            assert_eq!(meter.held(), (300, 0), "a control frame is never charged");
            // A header alone costs nothing; its payload counts as it arrives.
            feed_all(&mut meter, &last[..14], chunk).unwrap();
            assert_eq!(budget.in_use(), 0, "chunk {chunk}");
            feed_all(&mut meter, &last[14..14 + 5000], chunk).unwrap();
            assert_eq!(meter.held(), (5300, 4300), "chunk {chunk}");
            assert_eq!(budget.in_use(), 4300, "chunk {chunk}");
            feed_all(&mut meter, &last[14 + 5000..], chunk).unwrap();
            assert_eq!(
                (budget.in_use(), meter.held()),
                (0, (0, 0)),
                "chunk {chunk}"
            );
        }
    }

    /// The reviewer's attack: many connections each send one header declaring the largest
    /// frame, then nothing. It must not spend the pool, and even a spent pool must not close a
    /// connection that holds no more than its share, nor refuse its pong.
    #[test]
    fn headers_alone_or_a_spent_pool_never_refuse_a_small_message_or_a_pong() {
        let budget = Budget::new(1 << 20);
        let mut attackers: Vec<_> = (0..64)
            .map(|_| {
                let mut meter = FrameMeter::new(budget.clone(), limits(8 << 10));
                meter.handle_read(&header(0x02, 256 << 10)).unwrap();
                meter
            })
            .collect();
        assert_eq!(budget.in_use(), 0, "a header alone is not charged");
        let mut good = FrameMeter::new(budget.clone(), limits(8 << 10));
        good.handle_read(&frame(0x81, &[b'x'; 2000])).unwrap();
        good.handle_read(&frame(0x8a, b"pong")).unwrap();
        // Now the attackers send their payloads: the pool runs out and closes those beyond it.
        let refused = attackers
            .iter_mut()
            .map(|a| a.handle_read(&[0; (8 << 10) + (128 << 10)]))
            .filter(Result::is_err)
            .count();
        assert_eq!(
            refused,
            64 - 8,
            "eight hold 128 KiB each beyond their share"
        );
        assert_eq!(budget.in_use(), budget.limit());
        // The pool is spent: a message within the share and any control frame still pass.
        assert_eq!(good.handle_read(&frame(0x81, &[b'y'; 8 << 10])), Ok(()));
        assert_eq!(good.handle_read(&frame(0x89, &[0; 125])), Ok(()));
        assert_eq!(good.handle_read(&frame(0x8a, b"pong")), Ok(()));
        // One byte beyond the share needs the pool, which has no room left.
        assert_eq!(
            good.handle_read(&frame(0x82, &[0; (8 << 10) + 1])),
            Err(Exceeded::Budget)
        );
        drop((good, attackers));
        assert_eq!(
            budget.in_use(),
            0,
            "dropped connections release their charge"
        );
    }

    #[test]
    fn headers_over_the_limits_are_refused_before_their_payload() {
        let budget = Budget::new(1 << 30);
        let mut meter = FrameMeter::new(budget.clone(), limits(0));
        assert_eq!(
            meter.handle_read(&header(0x82, (256 << 10) + 1)),
            Err(Exceeded::TooLarge)
        );
        assert_eq!(
            meter.handle_read(b"more"),
            Err(Exceeded::TooLarge),
            "for good"
        );
        // Four frames within the frame limit, but over the message limit together.
        let mut meter = FrameMeter::new(budget.clone(), limits(0));
        meter.handle_read(&frame(0x02, &[0; 200 << 10])).unwrap();
        for _ in 0..3 {
            meter.handle_read(&frame(0x00, &[0; 200 << 10])).unwrap();
        }
        assert_eq!(
            meter.handle_read(&header(0x80, 256 << 10)),
            Err(Exceeded::TooLarge)
        );
        // A control frame declaring more than 125 bytes.
        let mut meter = FrameMeter::new(budget.clone(), limits(0));
        assert_eq!(
            meter.handle_read(&header(0x89, 126)),
            Err(Exceeded::Control)
        );
        assert_eq!(meter.held(), (0, 0));
    }

    #[test]
    fn endless_empty_continuations_are_refused_by_count() {
        let budget = Budget::new(1 << 20);
        let four = Limits {
            max_frames: 4,
            ..limits(0)
        };
        let mut meter = FrameMeter::new(budget.clone(), four);
        meter.handle_read(&frame(0x01, b"")).unwrap();
        for _ in 0..3 {
            meter.handle_read(&frame(0x00, b"")).unwrap();
        }
        assert_eq!(meter.handle_read(&frame(0x00, b"")), Err(Exceeded::Frames));
        drop(meter);
        // Complete messages reset the count: four-frame messages pass forever.
        let mut meter = FrameMeter::new(budget.clone(), four);
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
        let mut meter = FrameMeter::new(budget.clone(), limits(0));
        // A reserved opcode: tungstenite's parser refuses it, so the meter lets it through.
        assert_eq!(meter.handle_read(&frame(0x83, &[0; 100])), Ok(()));
        assert_eq!(budget.in_use(), 0);
    }
}
