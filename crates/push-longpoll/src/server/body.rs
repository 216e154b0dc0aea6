//! The body of every response an [`Endpoint`](super::Endpoint) gives: the bytes of one answer,
//! whole (a long poll's answer is built before it is sent).

use core::convert::Infallible;
use core::pin::Pin;
use core::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// A response body of one buffer: the JSON batch, an error message, or nothing.
///
/// It implements [`http_body::Body`] (so hyper, axum and any tower stack can send it) and
/// converts from [`Bytes`], so a router can answer its own routes with the same type.
#[derive(Debug, Default)]
pub struct Body {
    data: Option<Bytes>,
}

impl Body {
    /// A body of `data`.
    pub fn new(data: Bytes) -> Self {
        Self {
            data: (!data.is_empty()).then_some(data),
        }
    }
}

impl From<Bytes> for Body {
    fn from(data: Bytes) -> Self {
        Self::new(data)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::new(Bytes::from(text))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;

    #[test]
    fn one_frame_then_the_end() {
        let mut body = Body::from(Bytes::from_static(b"hello"));
        assert_eq!(body.size_hint().exact(), Some(5));
        assert!(!body.is_end_stream());
        let mut cx = Context::from_waker(core::task::Waker::noop());
        let Poll::Ready(Some(Ok(frame))) = Pin::new(&mut body).poll_frame(&mut cx) else {
            panic!("one data frame");
        };
        assert_eq!(frame.into_data().unwrap(), "hello");
        assert!(body.is_end_stream());
        assert!(matches!(
            Pin::new(&mut body).poll_frame(&mut cx),
            Poll::Ready(None)
        ));
        assert!(Body::default().is_end_stream());
        assert_eq!(Body::new(Bytes::new()).size_hint().exact(), Some(0));
    }
}
