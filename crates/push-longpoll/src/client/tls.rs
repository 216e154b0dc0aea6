//! `https://` for the [`Client`](crate::client::Client) (`tls` feature): push-http's one rustls
//! client configuration (ring, the Mozilla roots of `webpki-roots`, and the roots the caller
//! adds), connected with tokio-rustls.

use std::sync::Arc;

use push_http::client::tls_config;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use super::Error;

/// What an `https://` client connects with.
#[derive(Clone)]
pub(crate) struct Tls {
    /// The certificate authorities added to the webpki roots.
    extra_roots: Vec<CertificateDer<'static>>,
    connector: TlsConnector,
    name: ServerName<'static>,
}

impl Tls {
    /// For the server `host` (a name or an IP address, IPv6 with or without brackets), trusting
    /// the webpki roots.
    pub(crate) fn for_host(host: &str) -> Result<Self, Error> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name =
            ServerName::try_from(host.to_owned()).map_err(|e| Error::InvalidUrl(Box::new(e)))?;
        Self::new(Vec::new(), name)
    }

    /// The same, also trusting the certificate authority `der`.
    pub(crate) fn with_root(mut self, der: &[u8]) -> Result<Self, Error> {
        self.extra_roots.push(CertificateDer::from(der.to_vec()));
        Self::new(self.extra_roots, self.name)
    }

    fn new(
        extra_roots: Vec<CertificateDer<'static>>,
        name: ServerName<'static>,
    ) -> Result<Self, Error> {
        let config =
            tls_config(extra_roots.iter().cloned()).map_err(|e| Error::Tls(Box::new(e)))?;
        Ok(Self {
            extra_roots,
            connector: TlsConnector::from(Arc::new(config)),
            name,
        })
    }

    /// `stream` after the TLS handshake, the server's certificate checked.
    pub(crate) async fn connect(&self, stream: TcpStream) -> Result<TlsStream<TcpStream>, Error> {
        self.connector
            .connect(self.name.clone(), stream)
            .await
            // A handshake that fails (a certificate not trusted, say) is the peer's doing.
            .map_err(|e| Error::Transport(Box::new(e)))
    }
}

impl core::fmt::Debug for Tls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tls")
            .field("name", &self.name)
            .field("extra_roots", &self.extra_roots.len())
            .finish_non_exhaustive()
    }
}
