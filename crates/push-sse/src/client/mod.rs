//! The client role: a reconnecting `EventSource` like the browser's, and its sans-IO state.
//!
//! ```text
//!   Config (ReconnectPolicy, decoder limits) ──► EventSource::with_config(url, config)
//!   EventSource: futures_core::Stream<Item = Result<Item, Error>>
//!       └─ decisions by EventSourceState (sans-IO): bytes, ends, now in; Items, Reconnect out
//! ```
//!
//! [`EventSource`] moves bytes and sleeps (hyper, tokio's timer); every decision is
//! [`EventSourceState`]'s, which reads no clock and does no I/O: stream bytes, connection
//! outcomes and the current time go in, [`Item`]s and [`Reconnect`] decisions (the delay, the
//! `Last-Event-ID` to send) come out.
//!
//! The words: an [`Item`] is what a client yields (an event, or the server's `retry`); the
//! decoder's output is a [`Decoded`](crate::Decoded), which a client turns into items.

mod config;
mod error;
mod event_source;
mod state;

pub use config::Config;
pub use error::Error;
pub use event_source::EventSource;
/// The one reconnect policy of the push clients (push-http's), re-exported for convenience.
pub use push_http::client::ReconnectPolicy;
pub use state::{EventSourceState, Item, Reconnect};
