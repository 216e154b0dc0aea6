//! The shared vocabulary of the `push-*` crates.
//!
//! Every server-push technique is one idea: the client says "I am ready" and the server answers
//! when the event happens. This crate names the pieces that idea needs, so that every transport
//! (SSE, long polling, WebSocket, HTTP/2) and every broker (in memory, Redis Streams) speaks the
//! same language:
//!
//! - [`Event`]: what is pushed (type, data, id, retry).
//! - [`Cursor`]: where a client is in a broker's history; **one opaque text token** used unchanged
//!   as the SSE `id`, the long-poll `since`/`next` and the WebSocket `from`.
//! - [`Topic`], [`Pattern`] and [`Selector`]: what a subscription receives (exact topics, `*`,
//!   RFC 6570 [URI templates](UriTemplate), and URL patterns with the `urlpattern` feature).
//! - [`Audience`] and [`Access`]: who may receive a private event, and until when.
//! - [`Delivery`]: what a subscription yields — a shared [`Published`] event, a [`Gap`] (a loss,
//!   announced, never silent) or the reason it [closed](CloseReason).
//! - [`Broker`] and [`Subscription`]: the traits between brokers and transports.
//!
//! It does no I/O, reads no clock and spawns nothing; it depends on `bytes` and `futures-core`
//! (and, with the `urlpattern` feature, on the `urlpattern` crate). It knows no transport: each
//! keys its own encodings in [`Published::encoded`].
//!
//! ```text
//!   publisher ──publish(&[topics], Event)──► Broker ──► Cursor (one per event)
//!   client ──subscribe(selector, from, access)──► Subscription ══► Delivery::{Event, Gap, Closed}
//! ```
//!
//! ```
//! use push_core::{Cursor, Event, Gap, GapReason, Selector, Topic};
//!
//! let topic = Topic::new("news").unwrap();
//! let selector = Selector::one(topic);
//! let event = Event::new("hello").with_event("greeting");
//! assert_eq!(event.event.as_deref(), Some("greeting"));
//!
//! // A client sends back the cursor it last saw; a malformed one is a clear error.
//! let from: Cursor = "5eed-2a".parse().unwrap();
//! assert_eq!(from.offset(), 42);
//! assert_eq!(
//!     "5eed-2A".parse::<Cursor>().unwrap_err().to_string(),
//!     "the cursor is not in canonical form (leading zero or uppercase digit)"
//! );
//! # let _ = (selector, Gap { reason: GapReason::Evicted, resume: from });
//! ```
//!
//! # Errors
//! One enum, [`Error`], with unit variants: malformed cursors and topics say which rule they
//! break; brokers report [`Error::BrokerClosed`], [`Error::BrokerUnavailable`], when a
//! publish would start a topic past their limit [`Error::TopicLimit`], and when they serve as
//! many pattern subscriptions as they may [`Error::SubscriptionLimit`].
//!
//! # Crate features
//! - `urlpattern`: [`Pattern::UrlPattern`] (WHATWG URL patterns, through the `urlpattern` crate).
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod access;
mod broker;
mod cursor;
mod delivery;
mod error;
mod event;
mod resume;
mod selector;
mod template;
mod topic;
#[cfg(feature = "urlpattern")]
mod url_pattern;

#[cfg(feature = "__fuzz")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;

pub use access::{Access, Audience};
pub use broker::{Broker, Subscription};
pub use cursor::{Cursor, CursorText, MAX_CURSOR_LEN};
pub use delivery::{CloseReason, Delivery, Gap, GapReason, Published};
pub use error::Error;
pub use event::Event;
pub use resume::Resume;
pub use selector::{MAX_SELECTOR_TOPICS, Pattern, Selector};
pub use template::UriTemplate;
pub use topic::{MAX_TOPIC_LEN, Topic};
#[cfg(feature = "urlpattern")]
pub use url_pattern::UrlPattern;
