//! The streaming decoder: frames and heart-beats out of bytes that arrive in any chunking.
//!
//! The grammar (STOMP 1.2 "Augmented BNF"; 1.1 and 1.0 are read the same way, only escaping
//! differs, see [`crate::escape`]):
//!
//! ```text
//! NULL         = %x00
//! LF           = %x0A
//! CR           = %x0D
//! EOL          = [CR] LF
//! frame-stream = 1*frame
//! frame        = *EOL command EOL *( header EOL ) EOL *OCTET NULL
//!                ; each EOL before a frame is a heart-beat
//! command      = client-command / server-command      ; case-sensitive
//! header       = header-name ":" header-value
//! header-name  = 1*<any OCTET except CR, LF or ":">
//! header-value = *<any OCTET except LF>                ; see below
//! ```
//!
//! Where we are more lenient than the grammar, the way STOMP servers are: a header value may
//! hold `:` (the first `:` of a line ends the name, as 1.0 said and as `CONNECT` passwords and
//! `host:port` values need) and a CR that does not end the line; CRLF ends lines in every
//! version (1.0 and 1.1 named only LF, but no 1.0 or 1.1 value can end in a CR unescaped, so
//! nothing is lost). The body is `content-length` octets then a NUL when the first
//! `content-length` header is present (the body may hold NULs), otherwise everything up to the
//! first NUL.

use bytes::{Bytes, BytesMut};
use nom::bytes::complete::{tag as tag_complete, take_till as take_till_complete};
use nom::bytes::streaming::{tag, take_till};
use nom::character::complete::digit1;
use nom::combinator::{all_consuming, rest};
use nom::sequence::{separated_pair, terminated};
use nom::{IResult, Parser};

use crate::escape::{Escaping, unescape};
use crate::{Command, Error, Frame, Item, Limits, Version};

/// One line up to its LF, without the LF and without one CR before it. Streaming: a line without
/// its LF yet is `Incomplete`.
fn line(input: &[u8]) -> IResult<&[u8], &[u8]> {
    let (after, line) = terminated(take_till(|b| b == b'\n'), tag(&b"\n"[..])).parse(input)?;
    Ok((after, line.strip_suffix(b"\r").unwrap_or(line)))
}

/// A complete header line split at its first `:`.
fn header(line: &[u8]) -> IResult<&[u8], (&[u8], &[u8])> {
    separated_pair(
        take_till_complete(|b| b == b':'),
        tag_complete(&b":"[..]),
        rest,
    )
    .parse(line)
}

/// A `content-length` value: decimal digits only (a number too large for memory saturates, so
/// it fails the frame size limit rather than the syntax).
pub(crate) fn content_length(value: &str) -> Result<usize, Error> {
    let (_, digits) = all_consuming(digit1::<_, nom::error::Error<&str>>)
        .parse(value)
        .map_err(|_| Error::InvalidContentLength)?;
    Ok(digits.parse().unwrap_or(usize::MAX))
}

/// Whether `partial` (a line without its LF yet) can still become a command line.
fn may_become_command(partial: &[u8]) -> bool {
    let name = partial.strip_suffix(b"\r").unwrap_or(partial);
    name.len() <= Command::MAX_LEN
        && Command::ALL
            .iter()
            .any(|c| c.as_str().as_bytes().starts_with(name))
}

/// A frame found in a buffer: its head decoded, its body's place, the bytes it took.
struct Found {
    frame: Frame,
    body: core::ops::Range<usize>,
    len: usize,
}

/// What one look at the buffer found.
enum Parsed {
    Heartbeat(usize),
    Frame(Found),
}

fn parse_any(input: &[u8], version: Version, limits: &Limits) -> Result<Option<Parsed>, Error> {
    match input {
        [] | [b'\r'] => return Ok(None),
        [b'\n', ..] => return Ok(Some(Parsed::Heartbeat(1))),
        [b'\r', b'\n', ..] => return Ok(Some(Parsed::Heartbeat(2))),
        [b'\r', ..] => return Err(Error::StrayCr),
        _ => {}
    }
    let (mut rest, name) = match line(input) {
        Ok(found) => found,
        // An unfinished line that is still the start of a command (and its CR) waits; any
        // other names none, so a peer speaking another protocol is told at once.
        Err(nom::Err::Incomplete(_)) if may_become_command(input) => return Ok(None),
        Err(_) => return Err(Error::UnknownCommand),
    };
    let command = Command::parse(name).ok_or(Error::UnknownCommand)?;
    let escaping = Escaping::of(version, command.is_unescaped());
    let mut frame = Frame::new(command);
    let mut length = None;
    loop {
        if input.len() - rest.len() > limits.max_frame_size() {
            return Err(Error::FrameTooLarge);
        }
        let text = match line(rest) {
            Ok((after, text)) => {
                rest = after;
                text
            }
            Err(_) => {
                // The line is unfinished (`line` fails only for want of an LF).
                if rest.len() > limits.max_header_len().saturating_add(1) {
                    return Err(Error::HeaderTooLong);
                }
                if input.len() > limits.max_frame_size() {
                    return Err(Error::FrameTooLarge);
                }
                return Ok(None);
            }
        };
        if text.is_empty() {
            break;
        }
        if frame.headers().len() >= limits.max_headers() {
            return Err(Error::TooManyHeaders);
        }
        if text.len() > limits.max_header_len() {
            return Err(Error::HeaderTooLong);
        }
        let (_, (name, value)) = header(text).map_err(|_| Error::MissingColon)?;
        if name.is_empty() {
            return Err(Error::EmptyHeaderName);
        }
        let (name, value) = (unescape(name, escaping)?, unescape(value, escaping)?);
        if length.is_none() && name == "content-length" {
            length = Some(content_length(&value)?);
        }
        frame.push_header(name, value);
    }
    let head = input.len() - rest.len();
    // What the body may take: the frame's room minus the head and the NUL.
    let room = limits
        .max_frame_size()
        .saturating_sub(head.saturating_add(1));
    let body_len = match length {
        Some(n) if n > room => return Err(Error::FrameTooLarge),
        Some(n) => match rest.get(n) {
            None => return Ok(None),
            Some(0) => n,
            Some(_) => return Err(Error::MissingNul),
        },
        None => {
            let window = &rest[..rest.len().min(room.saturating_add(1))];
            match memchr::memchr(0, window) {
                Some(n) => n,
                None if rest.len() > room => return Err(Error::FrameTooLarge),
                None => return Ok(None),
            }
        }
    };
    Ok(Some(Parsed::Frame(Found {
        frame,
        body: head..head + body_len,
        len: head + body_len + 1,
    })))
}

/// Reads the first item of `input` with the header escaping of `version`: `Ok(None)` when
/// `input` holds only the beginning of one (never an error), otherwise the item and how many
/// bytes it took. The body is copied; [`Decoder`] shares it with its buffer instead.
///
/// # Errors
/// Malformed input or a passed limit: see [`Error`].
///
/// ```
/// use push_stomp::{Command, Item, Limits, Version, parse};
///
/// let wire = b"SEND\ndestination:/topic/a\n\nhi\0\n";
/// let limits = Limits::default();
/// assert_eq!(parse(&wire[..9], Version::V1_2, &limits), Ok(None));
/// let (Item::Frame(frame), used) = parse(wire, Version::V1_2, &limits)?.unwrap() else {
///     panic!("a frame");
/// };
/// assert_eq!((frame.command(), frame.header("destination")), (Command::Send, Some("/topic/a")));
/// assert_eq!((&frame.body()[..], used), (&b"hi"[..], wire.len() - 1));
/// # Ok::<(), push_stomp::Error>(())
/// ```
pub fn parse(
    input: &[u8],
    version: Version,
    limits: &Limits,
) -> Result<Option<(Item, usize)>, Error> {
    Ok(
        parse_any(input, version, limits)?.map(|parsed| match parsed {
            Parsed::Heartbeat(len) => (Item::Heartbeat, len),
            Parsed::Frame(Found { frame, body, len }) => {
                let body = Bytes::copy_from_slice(&input[body]);
                (Item::Frame(frame.with_body(body)), len)
            }
        }),
    )
}

/// The incremental decoder: [`feed`](Self::feed) it bytes as they arrive, then
/// [`poll`](Self::poll) items until it answers `Ok(None)` (it needs more bytes).
///
/// Its buffer holds at most the unfinished frame (bounded by the [`Limits`]) plus the bytes fed
/// after it. A decoding error is final: STOMP cannot find the next frame after a bad one, so
/// every later poll repeats the error.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    version: Version,
    limits: Limits,
    failed: Option<Error>,
}

impl Decoder {
    /// A decoder with `limits`, reading headers as STOMP 1.2 until told otherwise
    /// ([`set_version`](Self::set_version); the `CONNECT` frame is never escaped, so the
    /// version a server learns from it applies from the next frame).
    pub fn new(limits: Limits) -> Self {
        Self {
            buf: BytesMut::new(),
            version: Version::V1_2,
            limits,
            failed: None,
        }
    }

    /// Reads the following frames' headers as `version` escapes them.
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// The version headers are read as.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Appends received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// How many received bytes are not yet part of a polled item.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete item, `Ok(None)` when more bytes are needed. Call again after each
    /// `Ok(Some(_))`; after `Ok(None)`, only once more bytes were [`feed`](Self::feed)-ed.
    ///
    /// # Errors
    /// Malformed input or a passed limit (see [`Error`]); final, repeated by every later call.
    #[must_use = "a decoded item or error is lost if ignored"]
    pub fn poll(&mut self) -> Result<Option<Item>, Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let parsed = match parse_any(&self.buf, self.version, &self.limits) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.failed = Some(e);
                self.buf = BytesMut::new();
                return Err(e);
            }
        };
        Ok(Some(match parsed {
            Parsed::Heartbeat(len) => {
                let _ = self.buf.split_to(len);
                Item::Heartbeat
            }
            Parsed::Frame(Found { frame, body, len }) => {
                let bytes = self.buf.split_to(len).freeze();
                Item::Frame(frame.with_body(bytes.slice(body)))
            }
        }))
    }
}
