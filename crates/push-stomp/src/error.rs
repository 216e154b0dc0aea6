//! The codec's error: malformed input, a limit passed, or a frame this version cannot carry.

use core::fmt;

/// What went wrong while decoding or encoding STOMP frames.
///
/// Decoding errors are fatal to the stream (STOMP has no way to find the next frame after a bad
/// one): a server answers them with an `ERROR` frame whose `message` is this error's text, then
/// closes. An incomplete frame is never an error. [`is_limit`](Self::is_limit) tells the three
/// limits apart from malformed input.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The command line names no STOMP command.
    UnknownCommand,
    /// A header line has no `:`.
    MissingColon,
    /// A header has an empty name.
    EmptyHeaderName,
    /// A header's name or value holds an escape the version does not define (`\t`, a lone `\`,
    /// `\r` in 1.1).
    InvalidEscape,
    /// The command or a header is not UTF-8.
    InvalidUtf8,
    /// A `content-length` header is not a decimal number of bytes.
    InvalidContentLength,
    /// The body that `content-length` announced is not followed by a NUL.
    MissingNul,
    /// A CR not followed by LF where an end of line belongs.
    StrayCr,
    /// A frame is larger than [`Limits::max_frame_size`](crate::Limits::max_frame_size).
    FrameTooLarge,
    /// A frame has more headers than [`Limits::max_headers`](crate::Limits::max_headers).
    TooManyHeaders,
    /// A header line is longer than
    /// [`Limits::max_header_len`](crate::Limits::max_header_len).
    HeaderTooLong,
    /// Encoding: a header name or value this version or command cannot carry (an end of line in
    /// a 1.0 or CONNECT header, a `:` in a name there, a CR ending a 1.1 value).
    Unencodable,
    /// Encoding: the body holds a NUL and no `content-length` header gives its length, or the
    /// first `content-length` header does not match the body.
    BodyLength,
}

impl Error {
    /// Whether the error is one of the configured limits (frame size, header count, header
    /// length) rather than malformed input.
    pub fn is_limit(self) -> bool {
        matches!(
            self,
            Self::FrameTooLarge | Self::TooManyHeaders | Self::HeaderTooLong
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownCommand => "the frame's command is not a STOMP command",
            Self::MissingColon => "a header line has no ':'",
            Self::EmptyHeaderName => "a header has an empty name",
            Self::InvalidEscape => "a header holds an undefined escape sequence",
            Self::InvalidUtf8 => "the frame's command or a header is not UTF-8",
            Self::InvalidContentLength => "the content-length header is not a number of bytes",
            Self::MissingNul => "the body of content-length bytes is not followed by NUL",
            Self::StrayCr => "a CR is not followed by LF",
            Self::FrameTooLarge => "the frame exceeds the maximum frame size",
            Self::TooManyHeaders => "the frame exceeds the maximum number of headers",
            Self::HeaderTooLong => "a header exceeds the maximum header length",
            Self::Unencodable => "a header cannot be written in this version or frame",
            Self::BodyLength => "the body's content-length is missing or wrong",
        })
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_told_apart_and_named() {
        let all = [
            Error::UnknownCommand,
            Error::MissingColon,
            Error::EmptyHeaderName,
            Error::InvalidEscape,
            Error::InvalidUtf8,
            Error::InvalidContentLength,
            Error::MissingNul,
            Error::StrayCr,
            Error::FrameTooLarge,
            Error::TooManyHeaders,
            Error::HeaderTooLong,
            Error::Unencodable,
            Error::BodyLength,
        ];
        let limits: Vec<_> = all.into_iter().filter(|e| e.is_limit()).collect();
        assert_eq!(
            limits,
            [
                Error::FrameTooLarge,
                Error::TooManyHeaders,
                Error::HeaderTooLong
            ]
        );
        assert!(Error::FrameTooLarge.to_string().contains("frame size"));
        assert!(
            Error::TooManyHeaders
                .to_string()
                .contains("number of headers")
        );
        assert!(Error::HeaderTooLong.to_string().contains("header length"));
    }
}
