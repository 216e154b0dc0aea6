//! Tokens never reach the log: the binary, logging everything at `trace` as JSON, is handed
//! tokens every way a client presents one (a publisher's `Authorization` header, a
//! subscriber's `authorization` query parameter and `mercureAuthorization` cookie, a token
//! signed with another key), and its log is read back.

use crate::support;

use std::time::Duration;

use push_hub::auth::{Algorithm, KeySpec};
use push_hub::token::{Claims, mint};
use support::Binary;

const KEY: &str = "the-log-test-secret-that-is-long-enough-for-hs256";

fn token(secret: &str, claims: &Claims) -> String {
    mint(&KeySpec::new(secret, Algorithm::HS256), claims).unwrap()
}

#[test]
fn no_token_reaches_the_log_even_at_trace() {
    let hub = Binary::start(
        &[],
        &[
            "--addr",
            "127.0.0.1:0",
            "--in-memory",
            "--jwt-key",
            KEY,
            "--log",
            "trace",
            "--log-format",
            "json",
        ],
    );
    let base = format!("http://{}/.well-known/mercure", hub.addr);
    let publisher = token(KEY, &Claims::new().publish("*"));
    let subscriber = token(KEY, &Claims::new().subscribe("*"));
    let forged = token(
        "another-secret-that-is-long-enough-for-hs256",
        &Claims::new().publish("*"),
    );
    let bearer = |t: &str| format!("Authorization: Bearer {t}");
    let timeout = ["--max-time", "1"];

    let (ok, id, _) = support::curl(&[
        "-sS",
        "-f",
        "-H",
        &bearer(&publisher),
        "-d",
        "topic=logs",
        "-d",
        "data=x",
        &base,
    ]);
    assert!(ok && id.starts_with("urn:"), "published: {id}");
    let (_, status, _) = support::curl(&[
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        &bearer(&forged),
        "-d",
        "topic=logs",
        &base,
    ]);
    assert_eq!(status, "401");
    // Subscribers: held until curl's time limit.
    let query = format!("{base}?topic=logs&authorization={subscriber}");
    support::curl(&[&timeout[..], &["-sS", "-N", &query]].concat());
    let cookie = format!("Cookie: mercureAuthorization={subscriber}");
    let subscribe = format!("{base}?topic=logs");
    support::curl(&[&timeout[..], &["-sS", "-N", "-H", &cookie, &subscribe]].concat());

    // Let the log be written, then stop the hub.
    std::thread::sleep(Duration::from_millis(200));
    hub.terminate();
    let log = std::fs::read_to_string(hub.dir().join("stderr.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    // One access line for each request, at least.
    let access = lines
        .iter()
        .filter(|l| l.contains("push_hub::access"))
        .count();
    assert!(access >= 4, "four requests, {access} access lines: {log}");
    for line in &lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not a JSON line: {line}"
        );
    }
    for (what, token) in [
        ("publisher", &publisher),
        ("subscriber", &subscriber),
        ("forged", &forged),
    ] {
        // The whole token, and its signature alone.
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !log.contains(token.as_str()) && !log.contains(signature),
            "the {what} token is in the log"
        );
    }
    assert!(!log.contains(KEY), "the key is in the log");
}
