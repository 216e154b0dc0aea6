//! What every push client shares (feature `client`): the one reconnect policy, and (feature
//! `tls`) the one rustls client configuration.

mod backoff;
#[cfg(feature = "tls")]
mod tls;

pub use backoff::{Backoff, DEFAULT_MIN_DELAY, ReconnectPolicy};
#[cfg(feature = "tls")]
pub use tls::{TlsError, pem_certificates, tls_config};
