//! The HTTP pieces the push transports share, in one place so that every transport reads a
//! query, answers an error and writes an event-stream head the same way — and push-core stays
//! free of HTTP.
//!
//! ```text
//!   request head ──► Hooks::topics ──► Selector ──► Hooks::authorize ──► Access ──► broker
//!        │                 │                               │
//!        │             query (strict form decoding)     Refusal ──► text response (401/403/…)
//!        ▼
//!   header values ──► grammar (token, quoted-string, lists, Link, Prefer, ETags, Cookie)
//!
//!   any error ──► HttpStatus::status() ──► head::text_response
//!   SSE body  ──► head::event_stream_response
//! ```
//!
//! It performs no I/O, reads no clock and starts no runtime: every function here is a pure
//! function of its input ([`client::Backoff`] is given the time).
//!
//! ```
//! use http::{Request, StatusCode};
//! use push_http::query::Query;
//! use push_http::{Hooks, HttpStatus, Open, head};
//!
//! # fn main() {
//! let (parts, ()) = Request::get("/events?topic=news&topic=sport")
//!     .body(())
//!     .unwrap()
//!     .into_parts();
//! let selector = Open.topics(&parts, &Query::of(&parts.uri)).unwrap();
//! assert_eq!(selector.topics().len(), 2);
//!
//! // Errors of every push crate answer with their status:
//! let error = "01-2".parse::<push_core::Cursor>().unwrap_err();
//! let response = head::text_response(error.status(), error);
//! assert_eq!(response.status(), StatusCode::BAD_REQUEST);
//! # }
//! ```
//!
//! # Crate features
//! - `client`: [`client::ReconnectPolicy`] and its running state [`client::Backoff`], the one
//!   reconnect policy of every push client.
//! - `tls` (implies `client`): [`client::tls_config`], the one rustls client configuration
//!   (ring, webpki roots plus added roots), and [`client::pem_certificates`] to read a CA file.
//!
//! # Errors
//! Query parsing answers [`push_core::Error`]; the hooks answer a [`Refusal`]; every error
//! type of the push crates implements [`HttpStatus`].

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "client")]
pub mod client;
pub mod grammar;
pub mod head;
mod hooks;
pub mod json;
pub mod query;
mod status;

#[cfg(feature = "__fuzz")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;

pub use hooks::{Hooks, Open, Refusal};
pub use status::HttpStatus;
