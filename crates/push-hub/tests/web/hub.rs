//! The `push-hub` binary as the browser tests run it: started on a loopback port with a known
//! signing key, stopped with SIGTERM (a graceful shutdown, as an operator stops it) and started
//! again on the same port and data directory; and a minimal HTTP/1.1 client for publishing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use push_hub::auth::{Algorithm, KeySpec};
use push_hub::token::{Claims, mint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::browser::LIMIT;

/// The HS256 secret the tests' hubs verify tokens with.
pub(crate) const SECRET: &str = "push-hub browser tests: a 32+ byte secret";

/// A token signed with [`SECRET`] granting `claims`.
pub(crate) fn token(claims: Claims) -> String {
    mint(&KeySpec::new(SECRET, Algorithm::HS256), &claims).expect("token")
}

/// A running hub; killed if dropped while running.
pub(crate) struct Hub {
    child: tokio::process::Child,
    pub(crate) addr: SocketAddr,
}

impl Hub {
    /// Starts the hub on `addr` (port 0: a free one) with `args` beside `--addr` and the key,
    /// and waits until `/healthz` answers.
    pub(crate) async fn start(addr: SocketAddr, args: &[&str]) -> Self {
        let addr = if addr.port() == 0 {
            // A free port, released for the hub (which may then be restarted on it).
            std::net::TcpListener::bind(addr)
                .and_then(|l| l.local_addr())
                .expect("a free port")
        } else {
            addr
        };
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_push-hub"))
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--jwt-key")
            .arg(SECRET)
            .args([
                "--shutdown-timeout",
                "2s",
                "--shutdown-retry",
                "1s",
                "--log",
                "warn",
            ])
            .args(args)
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("push-hub starts");
        let hub = Self { child, addr };
        let deadline = tokio::time::Instant::now() + LIMIT;
        loop {
            if let Ok((200, _)) = request(addr, "GET /healthz HTTP/1.1", &[], "").await {
                return hub;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "push-hub did not answer /healthz on {addr}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the hub with SIGTERM and waits for it to exit.
    pub(crate) async fn stop(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let killed = tokio::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(killed.success(), "SIGTERM delivered");
        tokio::time::timeout(LIMIT, self.child.wait())
            .await
            .expect("push-hub exits after SIGTERM")
            .expect("exit status");
    }
}

/// Publishes a form to the hub's Mercure endpoint with a publisher token; returns the status and
/// the body (the update's id on success).
pub(crate) async fn publish(addr: SocketAddr, token: &str, form: &[(&str, &str)]) -> (u16, String) {
    let body = form
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let authorization = format!("Bearer {token}");
    request(
        addr,
        "POST /.well-known/mercure HTTP/1.1",
        &[
            ("authorization", authorization.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        &body,
    )
    .await
    .expect("publish request")
}

/// One request on a fresh connection (`Connection: close`); the status and the body.
async fn request(
    addr: SocketAddr,
    request_line: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut head = format!(
        "{request_line}\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(LIMIT, stream.read_to_end(&mut answer))
        .await
        .map_err(|_| std::io::Error::other("no answer"))??;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no complete head"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    ))
}

/// The payload of a chunked body (the tests' answers are small text).
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fresh data directory for a test's hub, removed when dropped.
pub(crate) struct DataDir(pub(crate) PathBuf);

impl DataDir {
    pub(crate) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("push-hub-data-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
