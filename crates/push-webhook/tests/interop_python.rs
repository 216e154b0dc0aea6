//! Interoperation with an implementation nobody here wrote: the Python `standardwebhooks`
//! package (the specification's reference library, installed into `.tools/venv` by
//! `cargo xtask setup`) verifies what we sign, and we verify what it signs.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use push_webhook::{
    Payload, Secret, Signer, SigningKey, Trusted, Verifier, VerifyError, WEBHOOK_ID,
    WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, message_id,
};
use serde_json::{Value, json};

/// Reads a JSON list of cases on stdin; for each, `verify` (our signature → true/false) or
/// `sign` (its signature of the case).
const SCRIPT: &str = r#"
import json, sys
from datetime import datetime, timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

out = []
for case in json.load(sys.stdin):
    wh = Webhook(case["secret"])
    if case["op"] == "verify":
        try:
            wh.verify(case["body"].encode(), case["headers"], json_parse=False)
            out.append(True)
        except WebhookVerificationError as e:
            out.append(str(e))
    else:
        ts = datetime.fromtimestamp(case["timestamp"], tz=timezone.utc)
        out.append(wh.sign(case["id"], ts, case["body"]))
print(json.dumps(out))
"#;

fn python(cases: &Value) -> Vec<Value> {
    let python = push_test_support::tools::python(&["standardwebhooks"]);
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the Python script failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn now_secs() -> u64 {
    #[expect(
        clippy::disallowed_methods,
        reason = "the Python library checks timestamps against its own clock"
    )]
    let now = SystemTime::now();
    now.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn body(data: &str) -> Vec<u8> {
    Payload {
        kind: push_webhook::EVENT_TYPE,
        timestamp: UNIX_EPOCH,
        topic: "orders/é",
        cursor: "5eed-2a",
        registration: "client-1",
        event: None,
        data,
    }
    .to_json()
}

fn header_json(headers: &HeaderMap) -> Value {
    let mut map = serde_json::Map::new();
    for (name, value) in headers {
        map.insert(name.to_string(), value.to_str().unwrap().into());
    }
    Value::Object(map)
}

#[test]
fn python_verifies_what_we_sign() {
    let now = now_secs();
    let secret = Secret::generate().unwrap();
    let old = Secret::generate().unwrap();
    let rotation = Signer::new(old.clone())
        .with_key(SigningKey::generate().unwrap())
        .with_key(secret.clone());
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for (i, data) in ["hello", "", "multi\nline \"quoted\" ✓", &"x".repeat(20_000)]
        .into_iter()
        .enumerate()
    {
        let body = body(data);
        let id = message_id("reg", &format!("5eed-{i}"));
        let text = String::from_utf8(body.clone()).unwrap();
        // One key; and a rotation header (old secret, ed25519, new secret) checked with the new
        // secret: the library skips the `v1a` entry and finds its own.
        for (signer, key) in [
            (Signer::new(secret.clone()), &secret),
            (rotation.clone(), &secret),
        ] {
            let headers = signer.headers(&id, now, &body);
            cases.push(json!({"op": "verify", "secret": key.to_string(), "body": text, "headers": header_json(&headers)}));
            expected.push(Value::Bool(true));
        }
        // Tampered: Python must refuse it (so the check above can fail).
        let headers = Signer::new(secret.clone()).headers(&id, now, &body);
        let tampered = format!("{text} ");
        cases.push(json!({"op": "verify", "secret": secret.to_string(), "body": tampered, "headers": header_json(&headers)}));
        expected.push(Value::String("No matching signature found".into()));
    }
    // A stale timestamp.
    let headers = Signer::new(secret.clone()).headers("msg_old", now - 600, b"{}");
    cases.push(json!({"op": "verify", "secret": secret.to_string(), "body": "{}", "headers": header_json(&headers)}));
    expected.push(Value::String("Message timestamp too old".into()));
    assert_eq!(python(&Value::Array(cases)), expected);
}

#[test]
fn we_verify_what_python_signs() {
    let now = now_secs();
    let secret = Secret::generate().unwrap();
    let datas = ["hello", "", "multi\nline \"quoted\" ✓"];
    let cases: Vec<Value> = datas
        .iter()
        .enumerate()
        .map(|(i, data)| {
            let text = String::from_utf8(body(data)).unwrap();
            json!({"op": "sign", "secret": secret.to_string(), "id": format!("msg_py{i}"), "timestamp": now, "body": text})
        })
        .collect();
    let signatures = python(&Value::Array(cases));
    let verifier = Verifier::new([Trusted::from(secret)]);
    let at = UNIX_EPOCH + std::time::Duration::from_secs(now);
    for (i, (data, signature)) in datas.iter().zip(signatures).enumerate() {
        let body = body(data);
        let mut headers = HeaderMap::new();
        headers.insert(
            WEBHOOK_ID,
            HeaderValue::from_str(&format!("msg_py{i}")).unwrap(),
        );
        headers.insert(WEBHOOK_TIMESTAMP, HeaderValue::from(now));
        let signature = signature.as_str().unwrap();
        headers.insert(WEBHOOK_SIGNATURE, HeaderValue::from_str(signature).unwrap());
        let verified = verifier.verify(&headers, &body, at).unwrap();
        assert_eq!(verified.id, format!("msg_py{i}"));
        // And our check fails when the body changes.
        let mut tampered = body.clone();
        tampered.push(b' ');
        assert!(matches!(
            verifier.verify(&headers, &tampered, at),
            Err(VerifyError::NoMatchingSignature)
        ));
    }
}
