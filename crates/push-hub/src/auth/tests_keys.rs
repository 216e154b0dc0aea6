//! Public-key algorithms, the algorithm tied to its key, key rotation by `kid`, and the 1.0
//! `at+jwt` token.

use http::StatusCode;
use jsonwebtoken::Header;
use push_core::Topic;
use serde_json::json;

use super::tests::{SECRET, authorizer, bearer, hs256, raw, reason, request, signed};
use super::*;
use crate::token::{Claims, mint};

const RSA_KEY: &str = include_str!("../../testdata/keys/rsa.key");
const RSA_PUB: &str = include_str!("../../testdata/keys/rsa.pub");
const RSA2_PUB: &str = include_str!("../../testdata/keys/rsa2.pub");
const P256_KEY: &str = include_str!("../../testdata/keys/p256.key");
const P256_PUB: &str = include_str!("../../testdata/keys/p256.pub");
const P384_KEY: &str = include_str!("../../testdata/keys/p384.key");
const P384_PUB: &str = include_str!("../../testdata/keys/p384.pub");
const ED_KEY: &str = include_str!("../../testdata/keys/ed25519.key");
const ED_PUB: &str = include_str!("../../testdata/keys/ed25519.pub");

fn subscribe_all() -> Claims {
    Claims::new().subscribe("*").publish("*")
}

fn with_bearer(token: &str) -> http::request::Parts {
    request(
        "/.well-known/mercure?topic=a",
        &[("authorization", &bearer(token))],
    )
}

#[test]
fn every_public_key_algorithm_verifies_with_its_pem_key() {
    let cases = [
        (Algorithm::RS256, RSA_KEY, RSA_PUB),
        (Algorithm::RS384, RSA_KEY, RSA_PUB),
        (Algorithm::RS512, RSA_KEY, RSA_PUB),
        (Algorithm::PS256, RSA_KEY, RSA_PUB),
        (Algorithm::PS384, RSA_KEY, RSA_PUB),
        (Algorithm::PS512, RSA_KEY, RSA_PUB),
        (Algorithm::ES256, P256_KEY, P256_PUB),
        (Algorithm::ES384, P384_KEY, P384_PUB),
        (Algorithm::EdDSA, ED_KEY, ED_PUB),
    ];
    for (alg, private, public) in cases {
        let auth = authorizer(AuthConfig::with_key(KeySpec::new(public, alg)));
        let token = mint(&KeySpec::new(private, alg), &subscribe_all()).unwrap();
        let subscriber = auth.subscriber(&with_bearer(&token)).unwrap();
        assert!(subscriber.access().private().is_some(), "{alg:?}");
        auth.publisher(&with_bearer(&token)).unwrap();
    }
    // The right algorithm and the wrong key of it: a bad signature.
    let auth = authorizer(AuthConfig::with_key(KeySpec::new(
        RSA2_PUB,
        Algorithm::RS256,
    )));
    let token = mint(&KeySpec::new(RSA_KEY, Algorithm::RS256), &subscribe_all()).unwrap();
    assert_eq!(
        reason(auth.subscriber(&with_bearer(&token))),
        Reason::BadSignature
    );
}

#[test]
fn an_hmac_token_signed_with_the_public_key_as_secret_is_refused() {
    let auth = authorizer(AuthConfig::with_key(KeySpec::new(
        RSA_PUB,
        Algorithm::RS256,
    )));
    // The classic confusion attack: the public key's PEM text used as an HMAC secret.
    let forged = mint(&KeySpec::new(RSA_PUB, Algorithm::HS256), &subscribe_all()).unwrap();
    let error = auth.subscriber(&with_bearer(&forged)).unwrap_err();
    assert_eq!(
        error.reason(),
        &Reason::WrongAlg {
            token: "HS256".into(),
            expected: "RS256".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "the token is signed with HS256, but the hub's key expects RS256"
    );
    // And the other way: an RS256 token where the hub holds a secret.
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let token = mint(&KeySpec::new(RSA_KEY, Algorithm::RS256), &subscribe_all()).unwrap();
    assert!(matches!(
        reason(auth.subscriber(&with_bearer(&token))),
        Reason::WrongAlg { .. }
    ));
    // Another algorithm of the same family is refused as well.
    let auth = authorizer(AuthConfig::with_key(KeySpec::new(
        RSA_PUB,
        Algorithm::RS256,
    )));
    let token = mint(&KeySpec::new(RSA_KEY, Algorithm::PS256), &subscribe_all()).unwrap();
    assert!(matches!(
        reason(auth.subscriber(&with_bearer(&token))),
        Reason::WrongAlg { .. }
    ));
}

#[test]
fn a_key_that_cannot_verify_is_refused_at_startup() {
    let config = |spec: KeySpec| Authorizer::new(AuthConfig::with_key(spec)).unwrap_err();
    assert!(matches!(
        config(KeySpec::new(RSA_PUB, Algorithm::HS256)),
        ConfigError::PemAsSecret(Role::Publisher)
    ));
    assert!(matches!(
        config(KeySpec::new("", Algorithm::HS256)),
        ConfigError::EmptySecret(_)
    ));
    let bad = config(KeySpec::new("not a pem", Algorithm::RS256));
    assert!(matches!(bad, ConfigError::BadPem(_, Algorithm::RS256, _)));
    assert!(
        std::error::Error::source(&bad).is_some(),
        "the PEM error is kept"
    );
    let twice = Authorizer::new(AuthConfig {
        subscriber: vec![hs256().with_kid("k"), hs256().with_kid("k")],
        ..AuthConfig::default()
    })
    .unwrap_err();
    assert_eq!(
        twice.to_string(),
        "two subscriber keys share the key id \"k\""
    );
}

#[test]
fn several_keys_are_active_at_once_and_kid_selects_one() {
    let old = hs256().with_kid("2025");
    let new = KeySpec::new(RSA_PUB, Algorithm::RS256).with_kid("2026");
    let auth = authorizer(AuthConfig {
        subscriber: vec![old.clone(), new],
        ..AuthConfig::default()
    });
    let by_old = mint(&old, &subscribe_all()).unwrap();
    auth.subscriber(&with_bearer(&by_old)).unwrap();
    let signer = KeySpec::new(RSA_KEY, Algorithm::RS256).with_kid("2026");
    let by_new = mint(&signer, &subscribe_all()).unwrap();
    auth.subscriber(&with_bearer(&by_new)).unwrap();
    // A kid no key has.
    let unknown = mint(&hs256().with_kid("2027"), &subscribe_all()).unwrap();
    assert_eq!(
        reason(auth.subscriber(&with_bearer(&unknown))),
        Reason::UnknownKid
    );
    // The kid of the HMAC key on an RS256 token: that key's algorithm decides.
    let crossed = mint(
        &KeySpec::new(RSA_KEY, Algorithm::RS256).with_kid("2025"),
        &subscribe_all(),
    )
    .unwrap();
    assert!(matches!(
        reason(auth.subscriber(&with_bearer(&crossed))),
        Reason::WrongAlg { .. }
    ));
    // No kid: tried against each key of its algorithm.
    let plain = mint(&KeySpec::new(RSA_KEY, Algorithm::RS256), &subscribe_all()).unwrap();
    auth.subscriber(&with_bearer(&plain)).unwrap();
    // A key without an id verifies tokens naming unknown ids (issuers that set any kid).
    let open = authorizer(AuthConfig::with_key(hs256()));
    open.subscriber(&with_bearer(&unknown)).unwrap();
}

fn v1_auth() -> Authorizer {
    authorizer(AuthConfig {
        issuers: vec!["https://issuer.example".into()],
        ..AuthConfig::with_key(hs256())
    })
}

fn v1_request(token: &str) -> http::request::Parts {
    request(
        "/.well-known/mercure?match=https%3A%2F%2Fexample.com%2Fbooks%2F1",
        &[("host", "hub.example"), ("authorization", &bearer(token))],
    )
}

fn at_jwt() -> Header {
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header
}

#[test]
fn a_v1_access_token_grants_its_authorization_details() {
    let claims = Claims::new()
        .subscribe("https://example.com/books/1")
        .publish("https://example.com/books/1")
        .payload(json!({"name": "reader"}))
        .access_token(
            "https://issuer.example",
            "https://hub.example/.well-known/mercure",
        );
    let token = mint(&hs256(), &claims).unwrap();
    let auth = v1_auth();
    let subscriber = auth.subscriber(&v1_request(&token)).unwrap();
    assert_eq!(subscriber.revision(), Revision::V1);
    assert_eq!(subscriber.payload(), Some(&json!({"name": "reader"})));
    let access = subscriber.access();
    assert!(access.grants(&[Topic::new("https://example.com/books/1").unwrap()]));
    assert!(!access.grants(&[Topic::new("https://example.com/books/2").unwrap()]));
    assert!(access.until().is_some(), "1.0 tokens always expire");
    let publisher = auth.publisher(&v1_request(&token)).unwrap();
    publisher
        .check(&[Topic::new("https://example.com/books/1").unwrap()])
        .unwrap();
    // The token alone makes the request 1.0 (the at+jwt type).
    let plain = request(
        "/?topic=a",
        &[("host", "hub.example"), ("authorization", &bearer(&token))],
    );
    assert_eq!(Revision::of(&plain), Revision::V1);
    // The 1.0 cookie.
    let cookie = format!("__Secure-mercure_access_token={token}");
    let by_cookie = request("/?match=a", &[("host", "hub.example"), ("cookie", &cookie)]);
    auth.subscriber(&by_cookie).unwrap();
}

#[test]
fn v1_url_patterns_and_other_details() {
    let claims = json!({
        "iss": "https://issuer.example", "aud": ["x", "https://hub.example/.well-known/mercure"],
        "exp": 4_000_000_000u64,
        "authorization_details": [
            {"type": "https://other.example/payments", "actions": ["pay"]},
            {"type": DETAIL_TYPE, "actions": ["subscribe", "read"], "topics": [
                {"match": "https://example.com/books/:id", "match_type": "urlpattern"}]}
        ]
    });
    let token = signed(&at_jwt(), &claims, SECRET);
    let access = v1_auth().subscriber(&v1_request(&token)).unwrap().access();
    assert!(access.grants(&[Topic::new("https://example.com/books/42").unwrap()]));
    assert!(!access.grants(&[Topic::new("https://example.com/users/42").unwrap()]));
}

#[test]
fn v1_tokens_are_checked_for_issuer_audience_expiry_and_shape() {
    let good = json!({
        "iss": "https://issuer.example", "aud": "https://hub.example/.well-known/mercure",
        "exp": 4_000_000_000u64,
        "authorization_details": [{"type": DETAIL_TYPE, "actions": ["subscribe"],
            "topics": [{"match": "a", "match_type": "exact"}]}]
    });
    let auth = v1_auth();
    auth.subscriber(&v1_request(&signed(&at_jwt(), &good, SECRET)))
        .unwrap();
    let changed = |key: &str, value: serde_json::Value| {
        let mut claims = good.clone();
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(key);
        } else {
            claims[key] = value;
        }
        signed(&at_jwt(), &claims, SECRET)
    };
    let cases = [
        (
            changed("iss", json!("https://evil.example")),
            "issuer (iss) is not one the hub trusts",
        ),
        (changed("iss", json!(null)), "needs an issuer (iss)"),
        (
            changed("aud", json!("https://other.example/.well-known/mercure")),
            "does not name this hub",
        ),
        (changed("aud", json!(null)), "needs an audience (aud)"),
        (changed("exp", json!(null)), "needs an expiry (exp)"),
        (
            changed(
                "authorization_details",
                json!([{"type": DETAIL_TYPE, "actions": ["subscribe"],
                "topics": [{"match": "a", "match_type": "regex"}]}]),
            ),
            "unknown match_type",
        ),
        (
            changed(
                "authorization_details",
                json!([{"type": DETAIL_TYPE, "topics": []}]),
            ),
            "no list of actions",
        ),
        (
            changed("authorization_details", json!({"type": DETAIL_TYPE})),
            "is not a list",
        ),
        (
            changed("authorization_details", json!([7])),
            "not a JSON object",
        ),
    ];
    for (token, expected) in cases {
        let error = auth.subscriber(&v1_request(&token)).unwrap_err();
        assert!(error.to_string().contains(expected), "{expected}: {error}");
        let refusal = error.into_refusal();
        assert_eq!(refusal.status(), StatusCode::UNAUTHORIZED);
        assert!(
            refusal.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    }
    // A configured audience replaces the derived one.
    let fixed = authorizer(AuthConfig {
        audience: vec!["urn:hub".into()],
        ..AuthConfig::with_key(hs256())
    });
    assert!(
        fixed
            .subscriber(&v1_request(&signed(&at_jwt(), &good, SECRET)))
            .is_err()
    );
    let token = changed("aud", json!("urn:hub"));
    fixed.subscriber(&v1_request(&token)).unwrap();
}

#[test]
fn an_at_jwt_header_without_a_signature_is_still_alg_none() {
    let claims = json!({"iss": "https://issuer.example", "exp": 4_000_000_000u64});
    let token = raw(r#"{"alg":"none","typ":"at+jwt"}"#, &claims, "");
    let error = v1_auth().subscriber(&v1_request(&token)).unwrap_err();
    assert!(error.to_string().contains("alg none"), "{error}");
}
