//! The encoder: a [`Frame`] as its wire bytes for a version, and the heart-beat.

use crate::decode::content_length;
use crate::escape::{Escaping, escape_into};
use crate::{Command, Error, Frame, Version};

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
    check_length(frame.headers(), frame.body())?;
    out.reserve(encoded_len_hint(frame));
    head_unchecked(frame.command(), core::iter::empty(), version, out)?;
    tail_unchecked(frame.command(), frame.headers(), frame.body(), version, out)
}

/// The first `content-length` among `headers` matches `body`; without one, `body` holds no NUL.
fn check_length<'a>(
    mut headers: impl Iterator<Item = (&'a str, &'a str)>,
    body: &[u8],
) -> Result<(), Error> {
    match headers.find(|(name, _)| *name == "content-length") {
        Some((_, length)) if content_length(length) != Ok(body.len()) => Err(Error::BodyLength),
        None if memchr::memchr(0, body).is_some() => Err(Error::BodyLength),
        _ => Ok(()),
    }
}

/// Appends the first part of a frame written in two: the command line and `headers` (the
/// per-recipient ones, such as a `MESSAGE`'s `subscription` and `ack`). With [`encode_tail`]
/// after it, the bytes are exactly what [`encode`] writes for the frame whose headers are these
/// followed by the tail's, so a server encodes what every recipient shares once and writes
/// each recipient's head beside it (property-tested against [`encode`]). On error `out` is
/// left as it was.
///
/// # Errors
/// As [`encode`]; and [`Error::BodyLength`] for a `content-length` header here, away from the
/// body it measures (it belongs to the tail).
///
/// ```
/// use push_stomp::{Command, Version, encode_head, encode_tail};
///
/// let (mut head, mut tail) = (Vec::new(), Vec::new());
/// encode_tail(Command::Message, [("message-id", "7")], b"hi", Version::V1_2, &mut tail)?;
/// for subscription in ["0", "1"] {
///     head.clear();
///     encode_head(Command::Message, [("subscription", subscription)], Version::V1_2, &mut head)?;
///     let frame = [&head[..], &tail[..]].concat();
///     assert_eq!(frame, format!("MESSAGE\nsubscription:{subscription}\nmessage-id:7\n\nhi\0").as_bytes());
/// }
/// # Ok::<(), push_stomp::Error>(())
/// ```
pub fn encode_head<'a>(
    command: Command,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    version: Version,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let start = out.len();
    let result = head_unchecked(command, headers.into_iter(), version, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Appends the second part of a frame written in two (see [`encode_head`]): `headers`, the
/// blank line, `body` and its NUL. The first `content-length` among `headers` must match
/// `body`, and without one `body` may hold no NUL, as in [`encode`]. On error `out` is left as
/// it was.
///
/// # Errors
/// As [`encode`].
pub fn encode_tail<'a>(
    command: Command,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &[u8],
    version: Version,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let start = out.len();
    let headers: Vec<(&str, &str)> = headers.into_iter().collect();
    let result = check_length(headers.iter().copied(), body)
        .and_then(|()| tail_unchecked(command, headers.into_iter(), body, version, out));
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn head_unchecked<'a>(
    command: Command,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    version: Version,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    out.extend_from_slice(command.as_str().as_bytes());
    out.push(b'\n');
    for (name, value) in headers {
        if name == "content-length" {
            return Err(Error::BodyLength);
        }
        header(command, name, value, version, out)?;
    }
    Ok(())
}

fn tail_unchecked<'a>(
    command: Command,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    body: &[u8],
    version: Version,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    for (name, value) in headers {
        header(command, name, value, version, out)?;
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out.push(0);
    Ok(())
}

fn header(
    command: Command,
    name: &str,
    value: &str,
    version: Version,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::Unencodable);
    }
    let escaping = Escaping::of(version, command.is_unescaped());
    escape_into(name, escaping, true, out)?;
    out.push(b':');
    escape_into(value, escaping, false, out)?;
    out.push(b'\n');
    Ok(())
}

/// The frame's size when nothing needs escaping.
fn encoded_len_hint(frame: &Frame) -> usize {
    let headers: usize = frame.headers().map(|(n, v)| n.len() + v.len() + 2).sum();
    frame.command().as_str().len() + headers + frame.body().len() + 3
}
