//! The one rustls client configuration of the push clients (`tls` feature): the ring provider,
//! the safe default protocol versions, the Mozilla roots of `webpki-roots`, and the roots a
//! caller adds (a private PKI, a test's self-signed certificate).

use core::fmt;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

/// Why a TLS client configuration could not be built.
#[non_exhaustive]
#[derive(Debug)]
pub enum TlsError {
    /// A PEM file's certificate block is malformed.
    Pem(pem::Error),
    /// An added certificate cannot be a trust anchor.
    Root(rustls::Error),
    /// rustls refused the configuration.
    Config(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pem(_) => f.write_str("a PEM certificate block is malformed"),
            Self::Root(_) => f.write_str("a certificate cannot be used as a trust anchor"),
            Self::Config(_) => f.write_str("rustls refused the client configuration"),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Pem(e) => Some(e),
            Self::Root(e) | Self::Config(e) => Some(e),
        }
    }
}

impl crate::HttpStatus for TlsError {
    /// 500: the client's own configuration is wrong (its certificates, its TLS set-up), nothing
    /// a server sent.
    fn status(&self) -> http::StatusCode {
        http::StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// The rustls client configuration every push client uses: ring, the safe default protocol
/// versions, no client certificate, trusting the Mozilla roots (`webpki-roots`) and
/// `extra_roots` (DER certificates, e.g. from [`pem_certificates`]).
///
/// Returned by value so a client can set what is its own (ALPN protocols) before sharing it in
/// an `Arc`.
///
/// # Errors
/// [`TlsError::Root`] when an extra root cannot be a trust anchor (not a certificate);
/// [`TlsError::Config`] if rustls refuses the protocol versions.
///
/// ```
/// use push_http::client::tls_config;
///
/// let config = tls_config([]).unwrap();
/// assert!(config.alpn_protocols.is_empty());
/// assert!(tls_config([b"not a certificate".to_vec().into()]).is_err());
/// ```
pub fn tls_config(
    extra_roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for der in extra_roots {
        roots.add(der).map_err(TlsError::Root)?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The certificates of a CA file: its PEM `CERTIFICATE` blocks in order, or, when it holds no
/// PEM block at all, the file itself as one DER certificate (what `--cacert`-style options
/// accept).
///
/// # Errors
/// [`TlsError::Pem`] when a PEM certificate block is malformed: a CA file that loses one of its
/// certificates silently would make a server fail verification for a reason nobody sees.
pub fn pem_certificates(file: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let mut certificates = Vec::new();
    for certificate in CertificateDer::pem_slice_iter(file) {
        certificates.push(certificate.map_err(TlsError::Pem)?);
    }
    if certificates.is_empty() && !file.is_empty() && !looks_like_pem(file) {
        certificates.push(CertificateDer::from(file.to_vec()));
    }
    Ok(certificates)
}

/// A PEM file without a certificate (a key, say) is not a DER certificate either.
fn looks_like_pem(file: &[u8]) -> bool {
    file.windows(11).any(|w| w == b"-----BEGIN ")
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use push_test_support::SelfSigned;
    use rustls::pki_types::ServerName;
    use rustls::{ClientConnection, ServerConnection};

    fn self_signed() -> rcgen::CertifiedKey {
        rcgen::generate_simple_self_signed(["localhost".to_owned()]).unwrap()
    }

    /// A TLS handshake in memory between a client with `config` and `server`: `Ok` once both
    /// sides are done, the client's error otherwise (bounded: a handshake is a few flights).
    fn handshake(config: rustls::ClientConfig, server: &SelfSigned) -> Result<(), rustls::Error> {
        let name = ServerName::try_from("localhost").unwrap();
        let mut client = ClientConnection::new(Arc::new(config), name).unwrap();
        let mut server = ServerConnection::new(server.config.clone()).unwrap();
        for _ in 0..16 {
            let mut bytes = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut bytes).unwrap();
            }
            server.read_tls(&mut &bytes[..]).unwrap();
            // The server's own verdict is not the question; the client's is.
            let _ = server.process_new_packets();
            let mut bytes = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut bytes).unwrap();
            }
            client.read_tls(&mut &bytes[..]).unwrap();
            client.process_new_packets()?;
            if !client.is_handshaking() && !server.is_handshaking() {
                return Ok(());
            }
        }
        panic!("the handshake did not finish");
    }

    #[test]
    fn the_config_trusts_the_added_root_and_only_then() {
        let server = SelfSigned::localhost();
        let roots = pem_certificates(server.pem.as_bytes()).unwrap();
        assert_eq!(roots.len(), 1);
        handshake(tls_config(roots).unwrap(), &server).unwrap();
        let refused = handshake(tls_config([]).unwrap(), &server).unwrap_err();
        assert!(
            matches!(refused, rustls::Error::InvalidCertificate(_)),
            "{refused:?}"
        );
    }

    #[test]
    fn pem_and_der_files_become_roots() {
        let (a, b) = (self_signed(), self_signed());
        let pem = format!("{}\n{}", a.cert.pem(), b.cert.pem());
        let read = pem_certificates(pem.as_bytes()).unwrap();
        assert_eq!(read, [a.cert.der().clone(), b.cert.der().clone()]);
        let der = pem_certificates(a.cert.der()).unwrap();
        assert_eq!(der, [a.cert.der().clone()]);
        assert!(pem_certificates(b"").unwrap().is_empty());
        let key_only = a.key_pair.serialize_pem();
        assert!(pem_certificates(key_only.as_bytes()).unwrap().is_empty());
        let config = tls_config(read).unwrap();
        assert!(config.alpn_protocols.is_empty());
    }

    #[test]
    fn a_broken_certificate_is_an_error_with_its_source() {
        let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let error = pem_certificates(broken.as_bytes()).unwrap_err();
        assert!(matches!(error, TlsError::Pem(_)), "{error:?}");
        assert!(std::error::Error::source(&error).is_some());
        let error = tls_config([CertificateDer::from(b"junk".to_vec())]).unwrap_err();
        assert!(matches!(error, TlsError::Root(_)), "{error:?}");
        assert!(std::error::Error::source(&error).is_some());
        assert_eq!(
            crate::HttpStatus::status(&error),
            http::StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
