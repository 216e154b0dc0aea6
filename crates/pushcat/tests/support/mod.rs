//! What the pushcat tests share: a TLS acceptor whose certificate `--cacert` can read, and
//! pushcat's output as JSON values. (Each test file uses some of it.)
#![allow(dead_code)]

/// A TLS acceptor for `localhost` with a fresh self-signed certificate, and that certificate as
/// a PEM file of its own under the temporary directory (`name` tells the tests' files apart).
pub(crate) fn tls_acceptor(name: &str) -> (push_test_support::TlsAcceptor, std::path::PathBuf) {
    let identity = push_test_support::SelfSigned::localhost();
    let path = std::env::temp_dir().join(format!("pushcat-{name}-{}.pem", std::process::id()));
    std::fs::write(&path, &identity.pem).unwrap();
    (identity.acceptor(), path)
}

/// Each line of a successful run's standard output, parsed as JSON.
pub(crate) fn json_lines(output: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs `pushcat` with `args` off the async runtime, bounded at 30 s (it must stop by itself:
/// the tests pass `--count`).
pub(crate) async fn run(args: Vec<std::ffi::OsString>) -> std::process::Output {
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pushcat"))
            .args(args)
            .output()
            .unwrap()
    });
    tokio::time::timeout(std::time::Duration::from_secs(30), run)
        .await
        .expect("pushcat stops by itself")
        .unwrap()
}
