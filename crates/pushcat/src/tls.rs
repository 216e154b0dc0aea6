//! `--cacert FILE`: extra certificate authorities for `https://` and `wss://` URLs, read and
//! trusted through push-http's one client TLS set-up.

use std::path::PathBuf;
use std::sync::Arc;

use push_http::client::{pem_certificates, tls_config};

/// The certificates of every `--cacert` file in `files` (DER each): a PEM file's `CERTIFICATE`
/// blocks, or the file itself as one DER certificate when it holds none. A malformed PEM block
/// is an error, never a silently shorter trust list.
pub(crate) fn cacerts(files: &[PathBuf]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| format!("--cacert {}: {e}", path.display()))?;
        let certificates =
            pem_certificates(&bytes).map_err(|e| format!("--cacert {}: {e}", path.display()))?;
        out.extend(certificates.into_iter().map(|c| c.to_vec()));
    }
    Ok(out)
}

/// The rustls client configuration trusting the Mozilla roots and `extra` (DER each).
pub(crate) fn client_config(extra: &[Vec<u8>]) -> Result<Arc<rustls::ClientConfig>, String> {
    let roots = extra.iter().map(|der| der.clone().into());
    tls_config(roots)
        .map(Arc::new)
        .map_err(|e| format!("--cacert: {e}"))
}
