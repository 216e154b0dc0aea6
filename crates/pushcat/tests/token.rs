//! `pushcat token`: what it mints is verified by push-hub's own authorizer.

use std::process::Command;

use http::request::Parts;
use push_core::Topic;
use push_hub::auth::{Algorithm, AuthConfig, Authorizer, KeySpec, Reason};

const SECRET: &str = "a shared secret of thirty-two bytes";

fn pushcat(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(args)
        .output()
        .unwrap()
}

fn minted(args: &[&str]) -> String {
    let output = pushcat(args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "{text:?}"
    );
    text.trim_end().to_owned()
}

fn with_token(token: &str) -> Parts {
    http::Request::get("/.well-known/mercure?topic=a")
        .header("host", "hub.example")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

fn keys_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../push-hub/testdata/keys")
}

#[test]
fn an_hs256_token_grants_what_was_asked() {
    let token = minted(&[
        "token",
        "--key",
        SECRET,
        "--publish",
        "books/{id}",
        "--subscribe",
        "users/7",
        "users/8",
        "--exp",
        "1h",
        "--payload",
        "{\"user\":7}",
    ]);
    let auth =
        Authorizer::new(AuthConfig::with_key(KeySpec::new(SECRET, Algorithm::HS256))).unwrap();
    let subscriber = auth.subscriber(&with_token(&token)).unwrap();
    let access = subscriber.access();
    assert!(access.grants(&[Topic::new("users/8").unwrap()]));
    assert!(!access.grants(&[Topic::new("users/9").unwrap()]));
    assert!(access.until().is_some(), "--exp sets exp");
    assert_eq!(subscriber.payload(), Some(&serde_json::json!({"user": 7})));
    let publisher = auth.publisher(&with_token(&token)).unwrap();
    publisher.check(&[Topic::new("books/1").unwrap()]).unwrap();
    assert!(publisher.check(&[Topic::new("users/7").unwrap()]).is_err());
    // Another secret does not verify it.
    let other = Authorizer::new(AuthConfig::with_key(KeySpec::new("x", Algorithm::HS256))).unwrap();
    let error = other.subscriber(&with_token(&token)).unwrap_err();
    assert_eq!(error.reason(), &Reason::BadSignature);
}

#[test]
fn a_pem_private_key_signs_for_its_public_key_with_the_kid() {
    let dir = keys_dir();
    let private = dir.join("p256.key");
    let token = minted(&[
        "token",
        "--key",
        private.to_str().unwrap(),
        "--alg",
        "ES256",
        "--kid",
        "2026",
        "--subscribe",
        "*",
    ]);
    let public = std::fs::read_to_string(dir.join("p256.pub")).unwrap();
    let config = AuthConfig {
        subscriber: vec![
            KeySpec::new(SECRET, Algorithm::HS256).with_kid("2025"),
            KeySpec::new(public, Algorithm::ES256).with_kid("2026"),
        ],
        ..AuthConfig::default()
    };
    let auth = Authorizer::new(config).unwrap();
    let access = auth.subscriber(&with_token(&token)).unwrap().access();
    assert!(access.grants(&[Topic::new("anything").unwrap()]));
    assert_eq!(access.until(), None, "no --exp, no exp");
}

#[test]
fn a_v1_access_token_with_issuer_and_audience() {
    let token = minted(&[
        "token",
        "--key",
        SECRET,
        "--subscribe",
        "a",
        "--issuer",
        "https://issuer.example",
        "--audience",
        "https://hub.example/.well-known/mercure",
    ]);
    let auth =
        Authorizer::new(AuthConfig::with_key(KeySpec::new(SECRET, Algorithm::HS256))).unwrap();
    let subscriber = auth.subscriber(&with_token(&token)).unwrap();
    assert_eq!(subscriber.revision(), push_hub::auth::Revision::V1);
    assert!(subscriber.access().until().is_some(), "1.0 tokens expire");
}

#[test]
fn bad_keys_and_values_are_usage_errors_naming_the_flag() {
    for (args, flag) in [
        (
            &["token", "--key", "/nonexistent/key.pem", "--alg", "RS256"][..],
            "--key",
        ),
        (&["token", "--key", SECRET, "--alg", "ES256"], "--key"),
        (&["token", "--key", SECRET, "--alg", "none"], "--alg"),
        (&["token", "--key", SECRET, "--exp", "soon"], "--exp"),
        (&["token", "--key", SECRET, "--exp", "0"], "--exp"),
        (&["token", "--key", SECRET, "--payload", "{"], "--payload"),
        (&["token", "--key", SECRET, "--issuer", "i"], "--audience"),
        (&["token", "--key", "", "--publish", "*"], "--key"),
    ] {
        let output = pushcat(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains(flag), "{args:?}: {said}");
    }
}
