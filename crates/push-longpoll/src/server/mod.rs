//! The server role: the limits ([`Config`]), the refusals ([`Error`]) and, with the `server`
//! feature, the [`Endpoint`], a `tower_service::Service` that answers long polls, its response
//! [`Body`], and push-http's [`Hooks`] (re-exported with [`Open`], [`Refusal`] and the
//! [`Query`] that `Hooks::topics` reads).
//!
//! `Config` and `Error` are here without the feature too: the sans-IO core
//! ([`Exchange`](crate::Exchange), [`PollRequest`](crate::PollRequest)) uses them.

#[cfg(feature = "server")]
mod body;
mod config;
#[cfg(feature = "server")]
mod endpoint;
mod error;
#[cfg(feature = "server")]
mod respond;

#[cfg(feature = "server")]
pub use body::Body;
pub use config::Config;
#[cfg(feature = "server")]
pub use endpoint::Endpoint;
pub use error::Error;
#[cfg(feature = "server")]
pub use push_http::{Hooks, Open, Refusal, query::Query};
