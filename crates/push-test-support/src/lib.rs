//! Helpers for the push crates' own tests; not published, not an API.
//!
//! [`tools`]: the external programs and packages tests drive, found where `cargo xtask setup`
//! installs them, or a failure that says to run it.
//!
//! [`SelfSigned`]: a fresh self-signed certificate for `localhost` and the rustls server
//! configuration that presents it, so that a test can run an `https://` or `wss://` server on
//! loopback and hand the certificate to the client under test as its trust anchor.
//!
//! [`redis::RedisServer`]: a real `redis-server` on an ephemeral loopback port (push-redis' tests),
//! killed and restarted at will.
//!
//! [`replay_seeds`]: runs a fuzz target's hook on its committed seeds, so CI exercises them on
//! stable without libFuzzer.
//!
//! [`deliveries`]: what a subscriber got, as short strings to compare.
//!
//! [`gate`]: a door blocking code waits at while a test holds it shut.
//!
//! [`http`]: a loopback HTTP/1.1 server for a hyper service, and a raw client that reads a
//! response as it streams.
#![forbid(unsafe_code)]

pub mod deliveries;
pub mod gate;
pub mod http;
pub mod redis;
pub mod tools;

use std::path::Path;
use std::sync::Arc;

pub use tokio_rustls::TlsAcceptor;

/// A TLS server identity for `localhost`, made fresh for each test.
#[derive(Debug)]
pub struct SelfSigned {
    /// The server configuration (ring provider) presenting the certificate.
    pub config: Arc<rustls::ServerConfig>,
    /// The certificate, DER (what the clients' `with_root_certificate` takes).
    pub der: Vec<u8>,
    /// The certificate, PEM (what `pushcat --cacert` reads).
    pub pem: String,
}

impl SelfSigned {
    /// A new key pair and a certificate for `localhost` signed by it.
    ///
    /// # Panics
    /// If the key or certificate cannot be made (a broken build, not a test failure to handle).
    pub fn localhost() -> Self {
        let key = rcgen::KeyPair::generate().expect("key pair");
        let certificate = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("certificate parameters")
            .self_signed(&key)
            .expect("self-signed certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![certificate.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("server configuration");
        Self {
            config: Arc::new(config),
            der: certificate.der().to_vec(),
            pem: certificate.pem(),
        }
    }

    /// An acceptor that wraps accepted TCP streams in TLS with this identity.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.config))
    }
}

/// Runs `run` on every committed seed of the fuzz target `target` (the files in
/// `fuzz/seeds/TARGET` of the workspace whose member lives at `manifest_dir`), and checks that
/// there are at least `min` of them. Each crate's `tests/fuzz_seeds.rs` calls it with its
/// `CARGO_MANIFEST_DIR` and the hook its `__fuzz` feature exposes.
///
/// # Panics
/// When the seed directory is missing or unreadable, holds fewer than `min` seeds, or `run`
/// panics on a seed (a regression the fuzzer once found).
pub fn replay_seeds(manifest_dir: &str, target: &str, min: usize, run: impl Fn(&[u8])) {
    let dir = Path::new(manifest_dir)
        .join("../../fuzz/seeds")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory exists") {
        let data = std::fs::read(entry.expect("readable entry").path()).expect("readable seed");
        run(&data);
        count += 1;
    }
    assert!(
        count >= min,
        "expected committed seeds in {}",
        dir.display()
    );
}
