//! The response body of the [`Endpoint`](super::Endpoint): an event stream, or a short text.

use core::convert::Infallible;
use core::pin::Pin;
use core::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use push_core::Subscription;

use super::EventStream;

/// The body of every [`Endpoint`](super::Endpoint) response: the [`EventStream`] of a
/// subscription, or the text of a refusal or an error (400, 401, 403, 503…).
///
/// An `http_body::Body` of [`Bytes`] that never fails: hyper, axum and any tower stack take
/// it as it is.
pub struct Body<S> {
    kind: Kind<S>,
}

enum Kind<S> {
    Events(EventStream<S>),
    Text(Option<Bytes>),
}

impl<S> core::fmt::Debug for Body<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.kind {
            Kind::Events(events) => f.debug_tuple("Body").field(events).finish(),
            Kind::Text(text) => f.debug_tuple("Body").field(text).finish(),
        }
    }
}

impl<S> Body<S> {
    /// A body streaming `events`.
    pub fn events(events: EventStream<S>) -> Self {
        Self {
            kind: Kind::Events(events),
        }
    }

    /// A body of `text`, sent whole.
    pub fn text(text: impl Into<Bytes>) -> Self {
        Self {
            kind: Kind::Text(Some(text.into())),
        }
    }

    /// The event stream, when this body is one.
    pub fn as_events(&self) -> Option<&EventStream<S>> {
        match &self.kind {
            Kind::Events(events) => Some(events),
            Kind::Text(_) => None,
        }
    }
}

impl<S: Subscription> http_body::Body for Body<S> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().kind {
            Kind::Events(events) => events
                .poll_frame(cx)
                .map(|frame| frame.map(|bytes| Ok(Frame::data(bytes)))),
            Kind::Text(text) => Poll::Ready(text.take().map(|bytes| Ok(Frame::data(bytes)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Events(events) => events.is_done(),
            Kind::Text(text) => text.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Events(_) => SizeHint::default(),
            Kind::Text(text) => SizeHint::with_exact(text.as_ref().map_or(0, |t| t.len() as u64)),
        }
    }
}
