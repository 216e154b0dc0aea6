//! Idle subscribers over the hub's other connection kinds, measured apart from plain
//! HTTP/1.1: HTTP/1.1 over TLS (rustls, ALPN `http/1.1`) and HTTP/2 cleartext with prior
//! knowledge (the h2 crate's client), each subscriber a connection of its own. They only hold
//! their stream open: what the hub's memory shows is its side of an idle connection.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// How the subscribers reach the hub.
#[derive(Clone)]
pub(crate) enum Via {
    /// HTTP/1.1 over TLS, trusting the certificate given.
    Tls(tokio_rustls::TlsConnector),
    /// HTTP/2 with prior knowledge, in the clear.
    H2c,
}

impl Via {
    /// `tls=CERT.pem` or `h2c`.
    pub(crate) fn parse(arg: &str) -> Result<Self, String> {
        if arg == "h2c" {
            return Ok(Self::H2c);
        }
        let cert = arg.strip_prefix("tls=").ok_or("via: tls=CERT.pem or h2c")?;
        Ok(Self::Tls(connector(Path::new(cert))?))
    }

    /// A self-signed certificate for `localhost` and its key, as PEM files in `dir`.
    pub(crate) fn make_certificate(dir: &Path) -> Result<(), String> {
        let identity = rcgen::generate_simple_self_signed(vec!["localhost".into()])
            .map_err(|e| format!("certificate: {e}"))?;
        std::fs::write(dir.join("cert.pem"), identity.cert.pem())
            .and_then(|()| std::fs::write(dir.join("key.pem"), identity.key_pair.serialize_pem()))
            .map_err(|e| format!("{}: {e}", dir.display()))
    }
}

fn connector(cert: &Path) -> Result<tokio_rustls::TlsConnector, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let der =
        CertificateDer::from_pem_file(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).map_err(|e| format!("certificate: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Opens subscribers `from..to` over `via`, each on `/idle/{i}`, and returns once all have
/// their response head; each then holds its stream until the process ends.
pub(crate) async fn hold(
    addr: SocketAddr,
    range: std::ops::Range<usize>,
    via: &Via,
    ready: &Arc<AtomicUsize>,
) {
    let gate = Arc::new(Semaphore::new(super::client::CONNECTING));
    let want = ready.load(Ordering::Acquire) + range.len();
    for i in range {
        let Ok(permit) = Arc::clone(&gate).acquire_owned().await else {
            return;
        };
        let (via, ready) = (via.clone(), Arc::clone(ready));
        tokio::spawn(async move {
            let target = format!("/.well-known/mercure?topic=/idle/{i}");
            let held = match via {
                Via::Tls(connector) => tls(addr, &connector, &target, &ready, permit).await,
                Via::H2c => h2c(addr, &target, &ready, permit).await,
            };
            if let Err(e) = held {
                eprintln!("subscriber {i}: {e}");
                std::process::exit(1);
            }
        });
    }
    super::client::wait_for(|| ready.load(Ordering::Acquire) >= want).await;
}

async fn tls(
    addr: SocketAddr,
    connector: &tokio_rustls::TlsConnector,
    target: &str,
    ready: &AtomicUsize,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = rustls_pki_types::ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let head = read_head(&mut stream).await?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("refused: {head}"));
    }
    ready.fetch_add(1, Ordering::AcqRel);
    drop(permit);
    let mut sink = [0u8; 1024];
    while stream.read(&mut sink).await.map_err(|e| e.to_string())? > 0 {}
    Ok(())
}

/// The response head, read a byte at a time (a few hundred bytes, once per subscriber).
async fn read_head(stream: &mut (impl AsyncRead + AsyncWrite + Unpin)) -> Result<String, String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err("a response head over 16 KiB".into());
        }
        let byte = stream.read_u8().await.map_err(|e| e.to_string())?;
        head.push(byte);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

async fn h2c(
    addr: SocketAddr,
    target: &str,
    ready: &AtomicUsize,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (send, connection) = h2::client::handshake(tcp)
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let mut send = send.ready().await.map_err(|e| e.to_string())?;
    let request = http::Request::get(format!("http://{addr}{target}"))
        .header("accept", "text/event-stream")
        .body(())
        .map_err(|e| e.to_string())?;
    let (response, _) = send
        .send_request(request, true)
        .map_err(|e| e.to_string())?;
    let response = response.await.map_err(|e| e.to_string())?;
    if response.status() != http::StatusCode::OK {
        return Err(format!("refused: {}", response.status()));
    }
    ready.fetch_add(1, Ordering::AcqRel);
    drop(permit);
    let mut body = response.into_body();
    while let Some(data) = body.data().await {
        let data = data.map_err(|e| e.to_string())?;
        let _ = body.flow_control().release_capacity(data.len());
    }
    driver.abort();
    Ok(())
}
