//! `--cacert FILE`: extra certificate authorities for `https://` URLs.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::args::Args;

/// The certificates of every `--cacert` file (DER each): a PEM file's `CERTIFICATE` blocks, or
/// the file itself as one DER certificate when it holds none.
pub(crate) fn cacerts(args: &Args) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for path in args.all("--cacert") {
        let bytes = std::fs::read(path).map_err(|e| format!("--cacert {path}: {e}"))?;
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
