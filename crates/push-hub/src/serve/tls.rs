//! TLS on the shared port: rustls (with the `ring` provider, as every TLS path of the
//! workspace), the certificate chain and key from PEM files, and ALPN offering `h2` then
//! `http/1.1`. A TLS connection is recognised by its first byte (see `sniff`), so plain HTTP
//! and TLS share the one listening port.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The ALPN protocol ids, most preferred first.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate file could not be read or holds no certificate.
    #[error("the TLS certificate {path}: {message}")]
    Certificate {
        /// The file.
        path: String,
        /// What was wrong.
        message: String,
        /// The PEM reader's error, if any.
        #[source]
        source: Option<rustls_pki_types::pem::Error>,
    },
    /// The key file could not be read or holds no private key.
    #[error("the TLS key {path}: {source}")]
    Key {
        /// The file.
        path: String,
        /// The PEM reader's error.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// rustls refused the pair (the key does not match the certificate, an unsupported key).
    #[error("TLS configuration")]
    Rustls(#[from] rustls::Error),
}

/// A TLS acceptor for the certificate chain at `cert` and the key at `key` (PEM), with ALPN.
///
/// # Errors
/// [`TlsError`], naming the file that is wrong.
pub(crate) fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|source| TlsError::Certificate {
            path: cert.display().to_string(),
            message: source.to_string(),
            source: Some(source),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificate {
            path: cert.display().to_string(),
            message: "no CERTIFICATE block".to_owned(),
            source: None,
        });
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key {
        path: key.display().to_string(),
        source,
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_name_themselves() {
        let dir = std::env::temp_dir().join(format!("push-hub-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let error = acceptor(&dir.join("none.pem"), &empty).err().unwrap();
        assert!(error.to_string().contains("none.pem"), "{error}");
        let error = acceptor(&empty, &empty).err().unwrap();
        assert!(error.to_string().contains("no CERTIFICATE"), "{error}");
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert_file = dir.join("cert.pem");
        std::fs::write(&cert_file, cert.cert.pem()).unwrap();
        let error = acceptor(&cert_file, &empty).err().unwrap();
        assert!(matches!(error, TlsError::Key { .. }), "{error}");
        let key_file = dir.join("key.pem");
        std::fs::write(&key_file, cert.key_pair.serialize_pem()).unwrap();
        assert!(acceptor(&cert_file, &key_file).is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
