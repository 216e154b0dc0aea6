//! Interop with implementations nobody here wrote: Python's `http_ece` decrypts what we
//! encrypt and encrypts what we decrypt (the way `pywebpush` calls it), `py_vapid` and
//! `cryptography` verify our VAPID tokens, and we load the PEM keys `cryptography` writes.
//! Installed into `.tools/venv` by `cargo xtask setup`.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use push_webpush::{Encoding, Receiver, Vapid, VapidKey, encrypt};
use serde_json::{Value, json};

/// One Python run: reads a JSON list of commands, answers a JSON list of results.
const SCRIPT: &str = r#"
import base64, json, sys, time
import http_ece, py_vapid
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

def d(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def e(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def point(key):
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

out = []
for cmd in json.load(sys.stdin):
    op = cmd["op"]
    if op == "decrypt":
        key = ec.derive_private_key(int.from_bytes(d(cmd["private"]), "big"), ec.SECP256R1())
        plain = http_ece.decrypt(d(cmd["body"]), private_key=key, auth_secret=d(cmd["auth"]), version="aes128gcm")
        out.append(e(plain))
    elif op == "encrypt":
        sender = ec.generate_private_key(ec.SECP256R1())
        import os
        body = http_ece.encrypt(d(cmd["plain"]), salt=os.urandom(16), private_key=sender,
                                dh=d(cmd["p256dh"]), auth_secret=d(cmd["auth"]), version="aes128gcm")
        out.append(e(body))
    elif op == "vapid":
        # RFC 8292 §3: the auth-params, with optional whitespace after the comma.
        scheme, params = cmd["header"].split(" ", 1)
        assert scheme == "vapid", scheme
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        ok_py_vapid = py_vapid.Vapid02.verify("vapid t=%s,k=%s" % (parts["t"], parts["k"]))
        signed, sig = parts["t"].rsplit(".", 1)
        sig = d(sig)
        pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), d(parts["k"]))
        pub.verify(utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
                   signed.encode(), ec.ECDSA(hashes.SHA256()))
        head, claims = (json.loads(d(p)) for p in signed.split("."))
        out.append({"py_vapid": ok_py_vapid, "header": head, "claims": claims})
    elif op == "pem":
        key = ec.generate_private_key(ec.SECP256R1())
        fmt = {"sec1": serialization.PrivateFormat.TraditionalOpenSSL,
               "pkcs8": serialization.PrivateFormat.PKCS8}[cmd["format"]]
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
        out.append({"pem": pem, "public": e(point(key))})
json.dump(out, sys.stdout)
"#;

fn python(commands: &Value) -> Vec<Value> {
    let python = push_test_support::tools::python(&["http_ece", "py_vapid", "cryptography"]);
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(commands.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn payloads() -> Vec<Vec<u8>> {
    let max = Encoding::default().max_plaintext();
    [0, 1, 41, 1000, max]
        .into_iter()
        .map(|len| (0..len).map(|i| (i * 7 % 251) as u8).collect())
        .collect()
}

#[test]
fn http_ece_decrypts_what_we_encrypt() {
    let receiver = Receiver::generate().unwrap();
    let mut commands = Vec::new();
    let mut expected = Vec::new();
    for payload in payloads() {
        for padding in [0, 37] {
            let encoding = Encoding::default().with_padding(padding);
            let Ok(body) = encrypt(receiver.recipient(), &payload, &encoding) else {
                assert!(
                    payload.len() > encoding.max_plaintext(),
                    "{} bytes",
                    payload.len()
                );
                continue;
            };
            commands.push(json!({
                "op": "decrypt",
                "private": B64.encode(receiver.private_key()),
                "auth": B64.encode(receiver.recipient().auth()),
                "body": B64.encode(&body),
            }));
            expected.push(B64.encode(&payload));
        }
    }
    assert_eq!(
        commands.len(),
        9,
        "every payload, padded too except the largest"
    );
    let answers = python(&Value::Array(commands));
    assert_eq!(
        answers,
        expected.into_iter().map(Value::from).collect::<Vec<_>>()
    );
}

#[test]
fn we_decrypt_what_http_ece_encrypts() {
    let receiver = Receiver::generate().unwrap();
    let commands: Vec<Value> = payloads()
        .iter()
        .map(|payload| {
            json!({
                "op": "encrypt",
                "plain": B64.encode(payload),
                "p256dh": B64.encode(receiver.recipient().p256dh()),
                "auth": B64.encode(receiver.recipient().auth()),
            })
        })
        .collect();
    let answers = python(&Value::Array(commands));
    assert_eq!(answers.len(), payloads().len());
    for (payload, body) in payloads().iter().zip(answers) {
        let body = B64.decode(body.as_str().unwrap()).unwrap();
        if payload.is_empty() {
            // http_ece writes no record at all for an empty plaintext (a bare 86-byte header);
            // RFC 8188 §2 requires a last record carrying delimiter 2, so it is refused.
            assert_eq!(body.len(), 86);
            assert!(receiver.decrypt(&body).is_err());
            continue;
        }
        assert_eq!(&receiver.decrypt(&body).unwrap(), payload);
    }
}

#[test]
fn py_vapid_and_cryptography_verify_our_tokens() {
    let vapid = Vapid::new(VapidKey::generate().unwrap(), "mailto:ops@example.com").unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let header = vapid.authorization("https://updates.push.services.mozilla.com", now);
    let answers = python(&json!([{ "op": "vapid", "header": header.to_str().unwrap() }]));
    let answer = &answers[0];
    assert_eq!(answer["py_vapid"], true);
    assert_eq!(answer["header"], json!({"typ": "JWT", "alg": "ES256"}));
    let claims = &answer["claims"];
    assert_eq!(claims["aud"], "https://updates.push.services.mozilla.com");
    assert_eq!(claims["sub"], "mailto:ops@example.com");
    let exp = claims["exp"].as_u64().unwrap();
    let now_secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(exp > now_secs && exp <= now_secs + Duration::from_secs(24 * 3600).as_secs());
}

#[test]
fn pem_keys_written_by_cryptography_load() {
    let answers =
        python(&json!([{ "op": "pem", "format": "sec1" }, { "op": "pem", "format": "pkcs8" }]));
    for answer in answers {
        let key = VapidKey::from_pem(answer["pem"].as_str().unwrap()).unwrap();
        assert_eq!(key.public_key(), answer["public"].as_str().unwrap());
    }
}
