//! The hub: the server people run. It speaks the Mercure protocol (both revisions) for
//! publishing and SSE, and serves the same topics, cursors and authorization over WebSocket
//! (`/ws`), long polling (`/poll`) and HTTP/2, all on one port.
//!
//! The design and the file map are in the workspace's `ARCHITECTURE.md`, section `push-hub`.

#![forbid(unsafe_code)]

pub mod auth;
pub mod lean;
pub mod token;

#[cfg(feature = "__fuzz")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;
