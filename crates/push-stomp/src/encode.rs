//! The encoder: a [`Frame`] as its wire bytes for a version, and the heart-beat.

use crate::decode::content_length;
use crate::escape::{Escaping, escape_into};
use crate::{Error, Frame, Version};

/// The heart-beat: one end of line between frames.
pub const HEARTBEAT: &[u8] = b"\n";

/// Appends `frame` to `out` as `version` writes it: the command, each header escaped as the
/// version and the command require (never in `CONNECT`, `STOMP`, `CONNECTED`), a blank line,
/// the body and its NUL. Lines end with LF, which every version reads.
///
/// Headers are written as the frame holds them: the encoder adds none. A body holding a NUL
/// needs a `content-length` header (see [`Frame::with_body_and_length`]), and the first
/// `content-length` header must match the body, so that the decoder reads back exactly this
/// frame. On error `out` is left as it was.
///
/// # Errors
/// [`Error::Unencodable`] for a header the version or command cannot carry (an empty name, an
/// end of line in a 1.0 or `CONNECT` header…), [`Error::BodyLength`] for a body whose length
/// the decoder could not find.
///
/// ```
/// use push_stomp::{Command, Frame, Version, encode};
///
/// let frame = Frame::new(Command::Message)
///     .with_header("destination", "/topic/a:b")
///     .with_body("hi");
/// let mut out = Vec::new();
/// encode(&frame, Version::V1_2, &mut out)?;
/// assert_eq!(out, b"MESSAGE\ndestination:/topic/a\\cb\n\nhi\0");
/// # Ok::<(), push_stomp::Error>(())
/// ```
pub fn encode(frame: &Frame, version: Version, out: &mut Vec<u8>) -> Result<(), Error> {
    let start = out.len();
    let result = encode_unchecked(frame, version, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn encode_unchecked(frame: &Frame, version: Version, out: &mut Vec<u8>) -> Result<(), Error> {
    match frame.header("content-length") {
        Some(length) if content_length(length) != Ok(frame.body().len()) => {
            return Err(Error::BodyLength);
        }
        None if memchr::memchr(0, frame.body()).is_some() => return Err(Error::BodyLength),
        _ => {}
    }
    let escaping = Escaping::of(version, frame.command().is_unescaped());
    out.reserve(encoded_len_hint(frame));
    out.extend_from_slice(frame.command().as_str().as_bytes());
    out.push(b'\n');
    for (name, value) in frame.headers() {
        if name.is_empty() {
            return Err(Error::Unencodable);
        }
        escape_into(name, escaping, true, out)?;
        out.push(b':');
        escape_into(value, escaping, false, out)?;
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(frame.body());
    out.push(0);
    Ok(())
}

/// The frame's size when nothing needs escaping.
fn encoded_len_hint(frame: &Frame) -> usize {
    let headers: usize = frame.headers().map(|(n, v)| n.len() + v.len() + 2).sum();
    frame.command().as_str().len() + headers + frame.body().len() + 3
}
