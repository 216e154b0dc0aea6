//! HTTP/1.1 response heads and short answers, written by the lean path itself.

use std::io;
use std::time::{Duration, SystemTime};

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{self, HeaderName};
use http::response::Parts;
use http::{Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// How the body after a head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// An event stream: no length, the body ends when the connection closes
    /// (`connection: close`).
    UntilClose,
    /// A body of this many bytes (or the answer to a `HEAD`, which has none but says how long
    /// it would be); the connection carries another request when `reusable`.
    Length { len: usize, reusable: bool },
    /// The answer to a `HEAD` of an event stream: no body and no length.
    NoBody { reusable: bool },
}

/// The fields the lean path writes itself or that describe a connection, not a response:
/// removed from the answer's own fields (RFC 9110 §7.6.1, and the length).
const CONNECTION_FIELDS: [HeaderName; 6] = [
    header::CONNECTION,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
    header::TRAILER,
];

/// The `keep-alive` and `proxy-connection` fields, connection-specific too.
fn is_connection_field(name: &HeaderName) -> bool {
    CONNECTION_FIELDS.contains(name) || name == "keep-alive" || name == "proxy-connection"
}

/// `parts` as an HTTP/1.1 response head, framed as `framing`, with a `date` field.
pub(crate) fn encode_head(parts: &Parts, framing: Framing) -> Bytes {
    let mut out = BytesMut::with_capacity(256);
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(parts.status.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(
        parts
            .status
            .canonical_reason()
            .unwrap_or_default()
            .as_bytes(),
    );
    out.put_slice(b"\r\n");
    // `HeaderValue`s hold no CR or LF: a field cannot end the head early.
    for (name, value) in &parts.headers {
        if is_connection_field(name) {
            continue;
        }
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    if !parts.headers.contains_key(header::DATE) {
        out.put_slice(b"date: ");
        out.put_slice(httpdate::fmt_http_date(SystemTime::now()).as_bytes());
        out.put_slice(b"\r\n");
    }
    let reusable = match framing {
        Framing::UntilClose => false,
        Framing::Length { len, reusable } => {
            if carries_length(parts.status) {
                out.put_slice(b"content-length: ");
                out.put_slice(len.to_string().as_bytes());
                out.put_slice(b"\r\n");
            }
            reusable
        }
        Framing::NoBody { reusable } => reusable,
    };
    if !reusable {
        out.put_slice(b"connection: close\r\n");
    }
    out.put_slice(b"\r\n");
    out.freeze()
}

/// Whether a response of `status` may have a body (and so a length): not 1xx, 204 or 304.
fn carries_length(status: StatusCode) -> bool {
    !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED)
}

/// Writes `response` whole: its body read within `limit` bytes and `timeout` (a text answer
/// is a few hundred bytes), sent after the head unless `head_only` (the answer to a `HEAD`).
/// A body that is too long, late or broken is replaced by a `500` that closes the connection.
///
/// Returns whether the connection carries another request: `reusable` and the body was read.
pub(crate) async fn write_answer<W, B>(
    io: &mut W,
    response: Response<B>,
    head_only: bool,
    reusable: bool,
    limit: usize,
    timeout: Duration,
) -> io::Result<bool>
where
    W: AsyncWrite + Unpin,
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = response.into_parts();
    let collected = tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await;
    let (parts, body, reusable) = match collected {
        Ok(Ok(collected)) => (parts, collected.to_bytes(), reusable),
        _ => {
            let (parts, ()) = Response::new(()).into_parts();
            let mut parts = parts;
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            (parts, Bytes::new(), false)
        }
    };
    let head = encode_head(
        &parts,
        Framing::Length {
            len: body.len(),
            reusable,
        },
    );
    let mut out = BytesMut::with_capacity(head.len() + body.len());
    out.put_slice(&head);
    if !head_only && carries_length(parts.status) {
        out.put_slice(&body);
    }
    io.write_all(&out).await?;
    io.flush().await?;
    Ok(reusable)
}

/// The answer to a head the lean path refuses before anyone sees it (`431`, `400`), closing
/// the connection.
pub(crate) fn refusal(status: StatusCode, message: &str) -> Response<http_body_util::Full<Bytes>> {
    let mut response = Response::new(http_body_util::Full::new(Bytes::from(format!(
        "{message}\n"
    ))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(push_http::head::TEXT_PLAIN_UTF8),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_text(parts: &Parts, framing: Framing) -> String {
        String::from_utf8(encode_head(parts, framing).to_vec()).unwrap()
    }

    #[test]
    fn an_event_stream_head_is_close_delimited_without_connection_fields() {
        let mut response = push_http::head::event_stream_response(());
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("keep-alive"),
        );
        response.headers_mut().insert(
            header::TRANSFER_ENCODING,
            header::HeaderValue::from_static("chunked"),
        );
        let (parts, ()) = response.into_parts();
        let text = head_text(&parts, Framing::UntilClose);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(
            text.contains("content-type: text/event-stream\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\ndate: "), "{text}");
        assert!(text.ends_with("connection: close\r\n\r\n"), "{text}");
        assert!(
            !text.contains("keep-alive") && !text.contains("chunked"),
            "{text}"
        );
    }

    #[test]
    fn a_length_framed_answer_keeps_the_connection_when_reusable() {
        let (mut parts, ()) = Response::new(()).into_parts();
        parts.status = StatusCode::UNAUTHORIZED;
        let text = head_text(
            &parts,
            Framing::Length {
                len: 12,
                reusable: true,
            },
        );
        assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{text}");
        assert!(text.ends_with("content-length: 12\r\n\r\n"), "{text}");
        let text = head_text(
            &parts,
            Framing::Length {
                len: 12,
                reusable: false,
            },
        );
        assert!(
            text.ends_with("content-length: 12\r\nconnection: close\r\n\r\n"),
            "{text}"
        );
        parts.status = StatusCode::NOT_MODIFIED;
        let text = head_text(
            &parts,
            Framing::Length {
                len: 12,
                reusable: true,
            },
        );
        assert!(!text.contains("content-length"), "{text}");
    }

    #[tokio::test]
    async fn an_answer_is_written_whole_and_a_head_answer_without_body() {
        let mut out = Vec::new();
        let response = refusal(StatusCode::BAD_REQUEST, "no topic");
        let kept = write_answer(
            &mut out,
            response,
            false,
            true,
            1024,
            Duration::from_secs(1),
        )
        .await
        .unwrap();
        assert!(kept);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
        assert!(
            text.ends_with("content-length: 9\r\n\r\nno topic\n"),
            "{text}"
        );

        let mut out = Vec::new();
        let response = refusal(StatusCode::BAD_REQUEST, "no topic");
        write_answer(&mut out, response, true, true, 1024, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .ends_with("content-length: 9\r\n\r\n")
        );

        let mut out = Vec::new();
        let response = refusal(StatusCode::BAD_REQUEST, "far too long a message");
        let kept = write_answer(&mut out, response, false, true, 8, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(!kept, "a body over the limit is not sent");
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with("content-length: 0\r\nconnection: close\r\n\r\n"),
            "{text}"
        );
    }
}
