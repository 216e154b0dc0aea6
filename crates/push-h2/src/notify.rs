//! Push + notify: on a connection that holds an SSE stream, push a resource, then send an event
//! naming it.

use core::future::poll_fn;

use bytes::{Bytes, BytesMut};
use h2::Reason;
use http::Uri;
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
    /// Sends the `200 text/event-stream` response head every SSE-speaking crate sends
    /// (`push_http::head::event_stream_response`: `cache-control: no-cache`,
    /// `x-accel-buffering: no` so proxies such as nginx pass each event on at once) and keeps the
    /// stream open for [`send_event`](Self::send_event).
    pub fn start_event_stream(&mut self) -> Result<(), Error> {
        self.send_response(push_http::head::event_stream_response(()), false)
    }

    /// Writes one SSE event (`push_sse::encode_event`) as body data, flow-controlled: see
    /// [`send_data_flowed`](Self::send_data_flowed).
    pub async fn send_event(&mut self, event: &Event) -> Result<(), Error> {
        let mut dst = BytesMut::new();
        push_sse::encode_event(event, &mut dst)?;
        self.send_data_flowed(dst.freeze(), false).await
    }

    /// Writes a broker event as SSE, its cursor as the `id` (`push_sse::encode_published`),
    /// flow-controlled: see [`send_data_flowed`](Self::send_data_flowed).
    pub async fn send_published(&mut self, published: &Published) -> Result<(), Error> {
        let bytes: Bytes = push_sse::encode_published(published)?;
        self.send_data_flowed(bytes, false).await
    }

    /// Queues body data only as the client's flow-control window takes it, in chunks of at most
    /// [`PushConfig::max_chunk`](crate::PushConfig::max_chunk) bytes: what h2 holds for a client
    /// that does not read stays within its window, instead of growing with every event (as
    /// [`send_data`](Self::send_data) lets it). A window that stays shut for
    /// [`PushConfig::stall_timeout`](crate::PushConfig::stall_timeout) resets the stream with
    /// CANCEL and fails with [`Error::Stalled`].
    ///
    /// # Cancel safety
    /// Dropping the future leaves the chunks queued so far queued and the rest unsent.
    pub async fn send_data_flowed(
        &mut self,
        mut data: Bytes,
        end_of_stream: bool,
    ) -> Result<(), Error> {
        let config = self.connection().config();
        let (max_chunk, stall) = (config.max_chunk, config.stall_timeout);
        if data.is_empty() {
            return self.send_data(data, end_of_stream);
        }
        while !data.is_empty() {
            self.reserve_capacity(data.len().min(max_chunk));
            let granted =
                match tokio::time::timeout(stall, poll_fn(|cx| self.poll_capacity(cx))).await {
                    Err(_) => {
                        self.send_reset(Reason::CANCEL);
                        return Err(Error::Stalled);
                    }
                    Ok(None) => {
                        // Not streaming: the state tells why (no response yet, or ended).
                        return self.send_data(data, end_of_stream);
                    }
                    Ok(Some(Err(error))) => {
                        self.send_reset(Reason::CANCEL);
                        return Err(error);
                    }
                    Ok(Some(Ok(granted))) => granted,
                };
            if granted == 0 {
                continue;
            }
            let chunk = data.split_to(granted.min(data.len()).min(max_chunk));
            self.send_data(chunk, end_of_stream && data.is_empty())?;
        }
        Ok(())
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
        self.send_event(&event).await?;
        Ok(Notified {
            url: request.uri().clone(),
            push,
        })
    }
}
