//! Push + notify: on a connection that holds an SSE stream, push a resource, then send an event
//! naming it.

use bytes::{Bytes, BytesMut};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, Uri};
use push_core::{Event, Published};

use crate::{
    Error, ParentState, ParentStream, PushDelivery, PushOutcome, PushRequest, Resource, SkipReason,
};

/// The event type [`notify_event`] gives.
pub const PUSHED_EVENT: &str = "pushed";

/// What [`ParentStream::push_and_notify`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notified {
    /// The URL the event names.
    pub url: Uri,
    /// How the push went: delivered (or cancelled by the client), or skipped and why. The event
    /// is sent either way; without a push the client fetches the URL itself.
    pub push: Result<PushDelivery, SkipReason>,
}

/// The default notification for a pushed `request`: type [`PUSHED_EVENT`], data the absolute URL.
pub fn notify_event(request: &PushRequest) -> Event {
    Event::new(request.uri().to_string()).with_event(PUSHED_EVENT)
}

impl ParentStream {
    /// Sends the `200 text/event-stream` response head (`cache-control: no-cache`) and keeps the
    /// stream open for [`send_event`](Self::send_event).
    pub fn start_event_stream(&mut self) -> Result<(), Error> {
        let mut response = Response::new(());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        self.send_response(response, false)
    }

    /// Writes one SSE event (`push_sse::encode_event`) as body data.
    pub fn send_event(&mut self, event: &Event) -> Result<(), Error> {
        let mut dst = BytesMut::new();
        push_sse::encode_event(event, &mut dst)?;
        self.send_data(dst.freeze(), false)
    }

    /// Writes a broker event as SSE, its cursor as the `id` (`push_sse::encode_published`).
    pub fn send_published(&mut self, published: &Published) -> Result<(), Error> {
        let bytes: Bytes = push_sse::encode_published(published)?;
        self.send_data(bytes, false)
    }

    /// Pushes `resource` as `request` on this event stream, waits until its body is queued (or the
    /// client cancelled it), then sends `event`, whose empty data is replaced by the pushed URL
    /// (see [`notify_event`]).
    ///
    /// The `PUSH_PROMISE` goes out on this stream before the event, so a client that sees the
    /// event has already seen the promise and finds the resource in its push cache. A skipped
    /// push still sends the event: the client then fetches the URL.
    ///
    /// # Errors
    /// [`Error::NoResponse`] before [`start_event_stream`](Self::start_event_stream),
    /// [`Error::StreamEnded`] after the stream ended; nothing is sent then.
    ///
    /// # Cancel safety
    /// Dropping the future after the promise went out leaves the event unsent; the pushed stream
    /// is reset if its body was not fully queued.
    pub async fn push_and_notify(
        &mut self,
        request: &PushRequest,
        resource: Resource,
        mut event: Event,
    ) -> Result<Notified, Error> {
        match self.state() {
            ParentState::Streaming => {}
            ParentState::AwaitingResponse => return Err(Error::NoResponse),
            ParentState::Ended => return Err(Error::StreamEnded),
        }
        let push = match self.push_resource(request, &resource)? {
            PushOutcome::Pushed(stream) => {
                Ok(stream.send(resource.response, resource.body).await?)
            }
            PushOutcome::NotPushed(reason) => Err(reason),
        };
        if event.data.is_empty() {
            event.data = Bytes::from(request.uri().to_string());
        }
        self.send_event(&event)?;
        Ok(Notified {
            url: request.uri().clone(),
            push,
        })
    }
}
