//! The tokio adapters: the async handler, the hyper server and the client. Only this module
//! (and its children) import tokio.

#[cfg(feature = "client")]
pub(crate) mod client;
pub(crate) mod handler;
#[cfg(feature = "hyper")]
pub(crate) mod server;
#[cfg(feature = "tls")]
pub(crate) mod tls;
