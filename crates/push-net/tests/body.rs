//! `read_body`: a size limit and a time limit, each with the status to answer.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body::Frame;
use http_body_util::Full;
use push_net::{BodyError, ServerConfig, read_body};

/// A body that sends one chunk and then nothing, forever (a peer trickling its upload).
struct Trickle(Option<Bytes>);

impl http_body::Body for Trickle {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.0.take() {
            Some(chunk) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            None => Poll::Pending,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_within_both_limits_is_read() {
    let body = Full::new(Bytes::from_static(b"hello"));
    let read = read_body(body, 5, &ServerConfig::default()).await.unwrap();
    assert_eq!(read, "hello");
}

#[tokio::test(start_paused = true)]
async fn a_body_over_the_size_limit_is_a_413() {
    let body = Full::new(Bytes::from_static(b"hello!"));
    let error = read_body(body, 5, &ServerConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(error, BodyError::TooLarge(5)), "{error:?}");
    assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_ends_is_a_408_at_the_body_timeout() {
    let config = ServerConfig::default().with_body_timeout(Duration::from_secs(7));
    let started = tokio::time::Instant::now();
    let body = Trickle(Some(Bytes::from_static(b"par")));
    let read = tokio::time::timeout(Duration::from_secs(3600), read_body(body, 1 << 20, &config));
    let error = read.await.expect("read_body gave up").unwrap_err();
    assert!(matches!(error, BodyError::TimedOut(_)), "{error:?}");
    assert_eq!(error.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(started.elapsed(), Duration::from_secs(7));
}

/// Any push error maps to its answer through `push_http::HttpStatus`, `BodyError` included.
fn answer(error: &dyn push_http::HttpStatus) -> StatusCode {
    error.status()
}

#[test]
fn a_body_error_answers_through_http_status_as_its_own_status_says() {
    let broken: push_net::BoxError = "a malformed chunk".into();
    for (error, status) in [
        (BodyError::TooLarge(5), StatusCode::PAYLOAD_TOO_LARGE),
        (
            BodyError::TimedOut(Duration::from_secs(30)),
            StatusCode::REQUEST_TIMEOUT,
        ),
        (BodyError::Broken(broken), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(answer(&error), status, "{error:?}");
        assert_eq!(answer(&error), error.status());
    }
}
