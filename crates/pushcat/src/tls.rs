//! `--cacert FILE`: extra certificate authorities for `https://` and `wss://` URLs.

use std::path::PathBuf;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The certificates of every `--cacert` file in `files` (DER each): a PEM file's `CERTIFICATE`
/// blocks, or the file itself as one DER certificate when it holds none.
pub(crate) fn cacerts(files: &[PathBuf]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| format!("--cacert {}: {e}", path.display()))?;
        let pem: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&bytes)
            .filter_map(Result::ok)
            .map(|c| c.to_vec())
            .collect();
        if pem.is_empty() {
            out.push(bytes);
        } else {
            out.extend(pem);
        }
    }
    Ok(out)
}

/// A rustls client configuration (ring) trusting the Mozilla roots and `extra` (DER each).
pub(crate) fn client_config(extra: &[Vec<u8>]) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for der in extra {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| format!("--cacert: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
