//! The hub: the server people run. It speaks the Mercure protocol (both revisions) for
//! publishing and SSE, and serves the same topics, cursors and authorization over WebSocket
//! (`/ws`, also over HTTP/2 as an RFC 8441 extended CONNECT), long polling (`/poll`) and
//! HTTP/2, all on one port. Mercure 1.0's `QUERY` subscribe takes its parameters in the body.
//!
//! ```text
//!                 ┌──────────── one port ────────────┐
//!  TLS (ALPN) ──┐ │ sniff ─► TLS ─► h2 / http/1.1    │      /.well-known/mercure  Mercure
//!  h2c ─────────┼►│       ─► h2c ─► push-h2 drive ───┼─►    /ws                   push-ws
//!  HTTP/1.1 ────┘ │       ─► HTTP/1.1 ─► hyper ──────┼─► Router: /poll            push-longpoll
//!                 └──────────────────────────────────┘      /healthz /metrics / /login /push.js
//!          all on one broker (MemoryBroker, or Redis with --redis: ops::backend; counted by ops::metered)
//! ```
//!
//! The binary `push-hub` parses [`args::Args`] and runs a [`serve::Hub`]; the library exposes
//! the same pieces so tests and other programs can start a hub in-process:
//!
//! ```no_run
//! use push_hub::args::Args;
//! use push_hub::serve::Hub;
//!
//! # #[allow(dead_code)]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut args = Args::defaults();
//! args.addr = "127.0.0.1:0".parse()?;
//! let bound = Hub::new(args)?.bind()?;
//! println!("{}", bound.banner());
//! bound.run(async { let _ = push_hub::ops::shutdown::signals().await; }).await?;
//! # Ok(()) }
//! ```
//!
//! The design and the file map are in the workspace's `ARCHITECTURE.md`, section `push-hub`.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

pub mod args;
pub mod auth;
pub mod callbacks;
pub mod lean;
pub mod mercure;
pub mod ops;
pub mod pages;
pub mod serve;
pub mod store;
pub mod token;
pub mod webpush;

#[cfg(feature = "__fuzz")]
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;
