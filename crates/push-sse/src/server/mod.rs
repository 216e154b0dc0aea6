//! The server role: a `text/event-stream` [`Endpoint`] for any tower stack, and the one SSE
//! state type, [`EventStream`], that drives every response.
//!
//! ```text
//!   http::Request ──► Endpoint ──► Query::of(uri): the query, split once
//!                              ──► hooks.topics(parts, query) ──► Selector     (else the refusal)
//!                              ──► hooks.authorize(parts, selector) ──► Access (else the refusal)
//!                              ──► resume: Last-Event-ID, else the query (an id: Broker::place)
//!                              ──► broker.subscribe(selector, from, access) (else 503)
//!                              ──► 200 text/event-stream, Body(EventStream)
//!   EventStream: deliveries, keep-alives, access.until(), shutdown ──► Bytes frames
//! ```
//!
//! The endpoint answers every error with a text response of the error's status
//! ([`push_http::HttpStatus`]), so its `Service::Error` is `Infallible`. A server with its own
//! connection handling can skip the endpoint and drive an [`EventStream`] itself.

mod body;
mod config;
mod endpoint;
mod error;
mod resume;
mod stream;

pub use body::Body;
pub use config::{Config, DEFAULT_KEEP_ALIVE, EventId};
pub use endpoint::Endpoint;
pub use error::Error;
pub use resume::{LAST_EVENT_ID_PARAMS, resume};
pub use stream::{EventStream, SIGNALS_EVERY, encode_gap};
