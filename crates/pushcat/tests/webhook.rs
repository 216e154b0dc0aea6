//! `pushcat webhook serve` as a real process on loopback, fed by push-webhook's sender: it
//! verifies, fails the first attempts when told to, prints each delivery once however often it
//! arrives, and refuses a tampered body.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::StatusCode;
use push_webhook::sender::Sender;
use push_webhook::{AddressPolicy, Outcome, Secret, Signer, message_id};

fn status(outcome: Outcome) -> StatusCode {
    match outcome {
        Outcome::Status { status, .. } => status,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn serve_verifies_retries_and_prints_each_delivery_once() {
    let secret = Secret::generate().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args([
            "webhook",
            "serve",
            "127.0.0.1:0",
            "--fail-first",
            "2",
            "--secret",
        ])
        .arg(secret.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let url = format!("http://{addr}/hook");

    let sender = Sender::new(AddressPolicy::allow_private(), Duration::from_secs(5));
    let signer = Signer::new(secret);
    let id = message_id("reg", "5eed-1");
    let body = Bytes::from_static(br#"{"type":"push.event","data":{"data":"hi"}}"#);
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let headers = signer.headers(&id, now(), &body);
        let outcome = sender
            .attempt(&url, headers, body.clone(), SystemTime::now())
            .await
            .unwrap();
        statuses.push(status(outcome));
    }
    // Two failures asked for, then the delivery, then a duplicate answered without effect.
    assert_eq!(statuses, [503, 503, 204, 204]);
    // A tampered body is refused.
    let headers = signer.headers(&id, now(), &body);
    let tampered = Bytes::from_static(br#"{"type":"push.event","data":{"data":"HI"}}"#);
    let outcome = sender
        .attempt(&url, headers, tampered, SystemTime::now())
        .await
        .unwrap();
    assert_eq!(status(outcome), 401);
    // A second event is printed too.
    let id2 = message_id("reg", "5eed-2");
    let headers = signer.headers(&id2, now(), &body);
    let outcome = sender
        .attempt(&url, headers, body.clone(), SystemTime::now())
        .await
        .unwrap();
    assert_eq!(status(outcome), 204);

    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["id"], id.as_str());
    assert_eq!(lines[0]["body"]["data"]["data"], "hi");
    assert_eq!(lines[1]["id"], id2.as_str());
}
