//! A TLS acceptor with a fresh self-signed certificate for `localhost`, for the `https://` and
//! `wss://` tests, and that certificate as PEM (what `--cacert` reads).

use std::sync::Arc;

pub(crate) fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let certificate = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    (
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        certificate.pem(),
    )
}

/// `pem` written to a file of its own under the temporary directory.
pub(crate) fn pem_file(name: &str, pem: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("pushcat-{name}-{}.pem", std::process::id()));
    std::fs::write(&path, pem).unwrap();
    path
}
