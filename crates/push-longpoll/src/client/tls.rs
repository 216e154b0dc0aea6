//! `https://` for the [`Client`](crate::client::Client) (`tls` feature): rustls with the ring provider,
//! trusting the Mozilla roots of `webpki-roots` and any roots the caller adds.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::Error;

/// What an `https://` client connects with.
#[derive(Clone)]
pub(crate) struct Tls {
    /// The certificate authorities trusted: the webpki roots and those added.
    roots: rustls::RootCertStore,
    connector: TlsConnector,
    name: ServerName<'static>,
}

impl Tls {
    /// For the server `host` (a name or an IP address, IPv6 with or without brackets), trusting
    /// the webpki roots.
    pub(crate) fn for_host(host: &str) -> Result<Self, Error> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_owned()).map_err(|e| Error::Tls(Box::new(e)))?;
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Self::new(roots, name)
    }

    /// The same, also trusting the certificate authority `der`.
    pub(crate) fn with_root(mut self, der: &[u8]) -> Result<Self, Error> {
        self.roots
            .add(CertificateDer::from(der.to_vec()))
            .map_err(|e| Error::Tls(Box::new(e)))?;
        Self::new(self.roots, self.name)
    }

    fn new(roots: rustls::RootCertStore, name: ServerName<'static>) -> Result<Self, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(Box::new(e)))?
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        Ok(Self {
            roots,
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
            .finish_non_exhaustive()
    }
}
