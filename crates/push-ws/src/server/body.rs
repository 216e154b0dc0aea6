//! The body of the responses an [`Endpoint`](super::Endpoint) answers with: empty for the `101`,
//! a short text for a refusal.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use core::convert::Infallible;
use http_body::{Frame, SizeHint};

/// A response body of at most one chunk, known in advance.
#[derive(Clone, Debug, Default)]
pub struct Body(Option<Bytes>);

impl Body {
    /// A body with no bytes (the `101 Switching Protocols` answer).
    pub fn empty() -> Self {
        Self(None)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::from(Bytes::from(text))
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self((!bytes.is_empty()).then_some(bytes))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().0.take().map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn one_chunk_then_the_end() {
        let body = Body::from(String::from("refused\n"));
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(8));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes, "refused\n");
        assert!(http_body::Body::is_end_stream(&Body::empty()));
    }
}
