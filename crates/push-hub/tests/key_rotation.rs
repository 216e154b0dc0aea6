//! Several keys active at once, from the hub's own flags: `--jwt-key` repeated, each as
//! `kid=ID:KEY`, and a token checked with the key its header names (key rotation).

mod support;

use std::net::SocketAddr;

use clap::Parser as _;
use push_hub::args::Args;
use push_hub::auth::{Algorithm, KeySpec};
use push_hub::token::{Claims, mint};
use push_test_support::http::RawClient as Raw;

const OLD: &str = "the-old-secret-that-is-long-enough-for-hs256";
const NEW: &str = "the-new-secret-that-is-long-enough-for-hs256";

/// The status of a publish with `token`.
async fn publish(addr: SocketAddr, token: &str) -> u16 {
    let form = "topic=rotation&data=hello";
    let request = format!(
        "POST /.well-known/mercure HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{form}",
        form.len()
    );
    let text = Raw::send(addr, &request).await.to_end().await;
    text[9..12].parse().unwrap()
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
