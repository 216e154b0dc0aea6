//! The router's one response body type, and the wrapper that keeps a stream's quota permit and
//! gauge for exactly as long as its body is being sent.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use prometheus_client::metrics::gauge::Gauge;

/// An error a response body may end with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every response body the router sends.
pub type HubBody = UnsyncBoxBody<Bytes, BoxError>;

/// Boxes any body into a [`HubBody`].
pub(crate) fn boxed<B>(body: B) -> HubBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

/// Boxes a whole response.
pub(crate) fn boxed_response<B>(response: Response<B>) -> Response<HubBody>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    response.map(boxed)
}

/// A `text/plain` answer.
pub(crate) fn text(status: StatusCode, message: impl Into<String>) -> Response<HubBody> {
    let mut response = Response::new(boxed(http_body_util::Full::new(Bytes::from(
        message.into(),
    ))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A `text/plain` answer with `Retry-After` in whole seconds (at least 1).
pub(crate) fn retry_later(status: StatusCode, message: &str, after: Duration) -> Response<HubBody> {
    let mut response = text(status, format!("{message}\n"));
    let seconds = after.as_secs_f64().ceil().max(1.0);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds as u64));
    response
}

/// One stream counted in a gauge while it lives.
#[derive(Debug)]
pub(crate) struct StreamGauge(Gauge);

impl StreamGauge {
    /// Counts one more in `gauge` until dropped.
    pub(crate) fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A body that keeps `T` (a quota permit, a [`StreamGauge`]) until it is dropped.
#[derive(Debug)]
pub(crate) struct Holding<B, T> {
    body: B,
    _held: T,
}

impl<B, T> Holding<B, T> {
    /// `body`, keeping `held` alive with it.
    pub(crate) fn new(body: B, held: T) -> Self {
        Self { body, _held: held }
    }
}

impl<B, T> Body for Holding<B, T>
where
    B: Body + Unpin,
    T: Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn holding_keeps_its_gauge_until_the_body_is_dropped() {
        let gauge = Gauge::default();
        let body = Holding::new(
            http_body_util::Full::new(Bytes::from_static(b"x")),
            StreamGauge::new(&gauge),
        );
        assert_eq!(gauge.get(), 1);
        let bytes = boxed(body).collect().await.unwrap().to_bytes();
        assert_eq!(bytes.as_ref(), b"x");
        assert_eq!(gauge.get(), 0);
    }

    #[test]
    fn retry_after_is_whole_seconds() {
        let r = retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            "slow down",
            Duration::from_millis(1500),
        );
        assert_eq!(r.headers()[RETRY_AFTER], "2");
        let r = retry_later(StatusCode::SERVICE_UNAVAILABLE, "busy", Duration::ZERO);
        assert_eq!(r.headers()[RETRY_AFTER], "1");
    }
}
