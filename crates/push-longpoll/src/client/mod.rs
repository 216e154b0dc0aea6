//! The client role (`client` feature): [`Client`], a `futures_core::Stream` of the events after
//! a cursor, polling again from each answer's `next`, retrying under a [`ReconnectPolicy`].

mod error;
mod poller;
mod stream;
#[cfg(feature = "tls")]
mod tls;

use push_core::Cursor;

pub use error::{BoxError, Error};
pub use push_http::client::ReconnectPolicy;
pub use stream::Client;

/// What a [`Client`] yields: an event, or the news that events were lost.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// An event.
    Event {
        /// The event's cursor.
        id: Cursor,
        /// The event type (`"message"` when the publisher gave none).
        event: String,
        /// The payload.
        data: String,
    },
    /// Events were lost before the events that follow (the server restarted, or history was
    /// evicted); `next` is the batch's continue cursor.
    Gap {
        /// The cursor the client continues from.
        next: Cursor,
    },
}
