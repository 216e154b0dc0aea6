//! Keys from the hub's own flags: several active at once (`--jwt-key` repeated, each as
//! `kid=ID:KEY`, and a token checked with the key its header names: key rotation), one key
//! per role (`--publisher-jwt-key`, `--subscriber-jwt-key`), and a PEM public key with
//! `--jwt-alg`.

use crate::support;

use std::net::SocketAddr;

use clap::Parser as _;
use push_hub::args::Args;
use push_hub::auth::{Algorithm, KeySpec};
use push_hub::token::{Claims, mint};

const OLD: &str = "the-old-secret-that-is-long-enough-for-hs256";
const NEW: &str = "the-new-secret-that-is-long-enough-for-hs256";

/// The status of a publish with `token`.
async fn publish(addr: SocketAddr, token: &str) -> u16 {
    support::post_form(addr, token, "topic=rotation&data=hello")
        .await
        .0
}

/// The status of a subscribe with `token`.
async fn subscribe(addr: SocketAddr, token: &str) -> u16 {
    let header = format!("Authorization: Bearer {token}\r\n");
    support::get_status(addr, "/.well-known/mercure?topic=rotation", &header)
        .await
        .0
}

/// The hub's flags with `--jwt-key` given once for each of `keys`.
fn with_keys(keys: [&str; 2]) -> Args {
    let mut flags = vec!["push-hub", "--addr", "127.0.0.1:0", "--in-memory"];
    for key in &keys {
        flags.extend(["--jwt-key", key]);
    }
    Args::parse_from(flags)
}

fn token(secret: &str, kid: Option<&str>) -> String {
    let mut key = KeySpec::new(secret, Algorithm::HS256);
    if let Some(kid) = kid {
        key = key.with_kid(kid);
    }
    mint(&key, &Claims::new().publish("*")).unwrap()
}

#[tokio::test]
async fn repeated_key_flags_are_all_active_and_kid_selects_one() {
    let args = with_keys([&format!("kid=old:{OLD}"), &format!("kid=new:{NEW}")]);
    assert_eq!(args.jwt_key.len(), 2);
    let hub = support::start(args);
    // Each key verifies the tokens that name it.
    assert_eq!(publish(hub.addr, &token(OLD, Some("old"))).await, 200);
    assert_eq!(publish(hub.addr, &token(NEW, Some("new"))).await, 200);
    // A token naming one key is checked with that key only.
    assert_eq!(publish(hub.addr, &token(OLD, Some("new"))).await, 401);
    // A key id no key has is refused.
    assert_eq!(publish(hub.addr, &token(NEW, Some("retired"))).await, 401);
    // A token that names no key is tried with every key.
    assert_eq!(publish(hub.addr, &token(NEW, None)).await, 200);
    assert_eq!(
        publish(
            hub.addr,
            &token("some-other-secret-long-enough-for-hs256", None)
        )
        .await,
        401
    );
    hub.task.abort();
}

#[test]
fn two_keys_with_one_id_do_not_start() {
    let args = with_keys([&format!("kid=same:{OLD}"), &format!("kid=same:{NEW}")]);
    let Err(refused) = push_hub::serve::Hub::new(args) else {
        panic!("a duplicate key id is refused");
    };
    // The error and its sources name the id.
    let mut said = refused.to_string();
    let mut source = std::error::Error::source(&refused);
    while let Some(inner) = source {
        said.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    assert!(said.contains("\"same\""), "{said}");
}

const PUBLISHER: &str = "the-publishers-secret-long-enough-for-hs256";
const SUBSCRIBER: &str = "the-subscribers-secret-long-enough-for-hs256";

fn minted(key: &KeySpec, claims: &Claims) -> String {
    mint(key, claims).unwrap()
}

#[tokio::test]
async fn each_role_takes_its_own_key_flag() {
    let args = Args::parse_from([
        "push-hub",
        "--addr",
        "127.0.0.1:0",
        "--in-memory",
        "--publisher-jwt-key",
        PUBLISHER,
        "--subscriber-jwt-key",
        SUBSCRIBER,
    ]);
    let hub = support::start(args);
    let publish_all = Claims::new().publish("*");
    let subscribe_all = Claims::new().subscribe("*");
    let (p, s) = (
        KeySpec::new(PUBLISHER, Algorithm::HS256),
        KeySpec::new(SUBSCRIBER, Algorithm::HS256),
    );
    assert_eq!(publish(hub.addr, &minted(&p, &publish_all)).await, 200);
    assert_eq!(subscribe(hub.addr, &minted(&s, &subscribe_all)).await, 200);
    // Each role's key is its own: the other role's does not verify.
    assert_eq!(publish(hub.addr, &minted(&s, &publish_all)).await, 401);
    assert_eq!(subscribe(hub.addr, &minted(&p, &subscribe_all)).await, 401);
    hub.task.abort();
}

#[tokio::test]
async fn jwt_alg_takes_a_pem_public_key() {
    let public = include_str!("../testdata/keys/rsa.pub");
    let private = KeySpec::new(include_str!("../testdata/keys/rsa.key"), Algorithm::RS256);
    let args = Args::parse_from([
        "push-hub",
        "--addr",
        "127.0.0.1:0",
        "--in-memory",
        "--jwt-alg",
        "RS256",
        &format!("--jwt-key={public}"),
    ]);
    let hub = support::start(args);
    let claims = Claims::new().publish("*").subscribe("*");
    assert_eq!(publish(hub.addr, &minted(&private, &claims)).await, 200);
    assert_eq!(subscribe(hub.addr, &minted(&private, &claims)).await, 200);
    // Another RSA key, and an HMAC token (the algorithm is the key's): refused.
    let other = KeySpec::new(include_str!("../testdata/keys/rsa2.key"), Algorithm::RS256);
    assert_eq!(publish(hub.addr, &minted(&other, &claims)).await, 401);
    let hmac = KeySpec::new(public, Algorithm::HS256);
    assert_eq!(publish(hub.addr, &minted(&hmac, &claims)).await, 401);
    hub.task.abort();
}

/// A key flag never takes the next flag for its value: `--jwt-key $UNSET --in-memory` must not
/// start a hub whose secret is the text `--in-memory`.
#[test]
fn a_key_flag_does_not_swallow_the_next_flag() {
    for flag in ["--jwt-key", "--publisher-jwt-key", "--subscriber-jwt-key"] {
        let parsed = Args::try_parse_from(["push-hub", flag, "--in-memory"]);
        assert!(parsed.is_err(), "{flag} took --in-memory as its key");
    }
}
