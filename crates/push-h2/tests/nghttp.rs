//! The push_server example against a real client: `nghttp -nv` (Debian's nghttp2-client).

use crate::push_server;

use std::process::Stdio;
use std::time::Duration;

use tokio::net::TcpListener;

const LIMIT: Duration = Duration::from_secs(20);

async fn nghttp(args: &[&str]) -> String {
    let run = tokio::process::Command::new("nghttp")
        .args(["-nv", "--timeout=10"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(LIMIT, run)
        .await
        .expect("nghttp finishes in time")
        .expect("nghttp is installed (cargo xtask ci installs Debian's nghttp2-client)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "nghttp failed: {text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nghttp_sees_push_promises_or_early_hints() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(push_server::run(listener, push_server::State::new()));

    let pushed = nghttp(&[&url]).await;
    assert_eq!(
        pushed.matches("recv PUSH_PROMISE frame").count(),
        2,
        "{pushed}"
    );
    assert!(
        pushed.contains(":path: /style.css") && pushed.contains(":path: /app.js"),
        "{pushed}"
    );
    assert!(!pushed.contains("GOAWAY frame <length=8, flags=0x00, stream_id=0>\n          (last_stream_id=0, error_code=PROTOCOL_ERROR"), "{pushed}");
    assert!(!pushed.contains("RST_STREAM"), "{pushed}");

    let hinted = nghttp(&["--no-push", &url]).await;
    assert!(!hinted.contains("PUSH_PROMISE"), "{hinted}");
    assert!(hinted.contains(":status: 103"), "{hinted}");
    assert!(
        hinted.contains("link: </style.css>; rel=preload"),
        "{hinted}"
    );
}
