//! `pushcat sse listen` receives what a Mercure publisher nobody here wrote sends: Symfony's
//! Mercure component (Debian's `php-symfony-mercure`, push-hub's
//! `tests/interop/symfony_publish.php`) publishes a public and a private update to a push-hub
//! on loopback with a token from `pushcat token`; pushcat, subscribed with a token that grants
//! the private one (minted the same way), prints both.

use std::process::Stdio;
use std::time::Duration;

use clap::Parser as _;
use push_hub::args::Args;

/// The hub's key in this test (HS256, both roles).
const KEY: &str = "pushcat's Symfony interop test secret";

/// A token from `pushcat token` for the hub's key, granting `selector` in `role` (`--publish`
/// or `--subscribe`), as the Symfony component's static token provider would hold it.
fn token(role: &str, selector: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(["token", "--key", KEY, role, selector])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushcat_receives_the_updates_symfony_publishes() {
    let php = push_test_support::tools::php_symfony_mercure();
    let args = Args::parse_from([
        "push-hub",
        "--addr",
        "127.0.0.1:0",
        "--in-memory",
        "--jwt-key",
        KEY,
    ]);
    let bound = push_hub::serve::Hub::new(args).unwrap().bind().unwrap();
    let addr = bound.local_addr();
    let broker = bound.hub().broker().inner().memory().unwrap().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(bound.run(async move {
        let _ = stopped.await;
    }));

    // The subscriber token in the `authorization` query parameter, as Mercure allows.
    let subscriber = token("--subscribe", "https://example.com/users/{name}");
    let url = format!(
        "http://{addr}/.well-known/mercure?topic=https://example.com/books/1\
         &topic=https://example.com/users/alice&authorization={subscriber}"
    );
    let listen = tokio::process::Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(["sse", "listen", &url, "--count", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let books = push_core::Topic::new("https://example.com/books/1").unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        while broker.subscriber_count(&books) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("pushcat subscribed");

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../push-hub/tests/interop/symfony_publish.php"
    );
    let publisher = token("--publish", "https://example.com/{+path}");
    let output = tokio::process::Command::new(&php)
        .arg(script)
        .arg(format!("http://{addr}/.well-known/mercure"))
        .arg(&publisher)
        .output()
        .await
        .expect("php runs");
    assert!(
        output.status.success(),
        "Symfony's publish failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let ids: Vec<&str> = stdout.lines().collect();
    assert_eq!(ids.len(), 2, "{stdout}");

    let out = tokio::time::timeout(Duration::from_secs(20), listen.wait_with_output())
        .await
        .expect("pushcat stops after --count 2")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            serde_json::json!({
                "event": "message",
                "data": r#"{"status":"OutOfStock"}"#,
                "id": "urn:example:books:1:v2",
            }),
            serde_json::json!({
                "event": "secret",
                "data": r#"{"message":"for alice only"}"#,
                "id": ids[1],
            }),
        ]
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), serving)
        .await
        .expect("the hub stops")
        .unwrap()
        .unwrap();
}
