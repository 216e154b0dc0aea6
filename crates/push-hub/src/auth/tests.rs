//! The authorizer's rules, one test per rule, with HMAC keys (public-key algorithms and key
//! rotation: `tests_keys`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use http::request::Parts;
use jsonwebtoken::{EncodingKey, Header};
use push_core::Topic;
use serde_json::{Value, json};

use super::*;
use crate::token::{Claims, mint};

pub(super) const SECRET: &str = "!ChangeThisMercureHubJWTSecretKey!";

pub(super) fn hs256() -> KeySpec {
    KeySpec::new(SECRET, Algorithm::HS256)
}

pub(super) fn authorizer(config: AuthConfig) -> Authorizer {
    Authorizer::new(config).unwrap()
}

pub(super) fn request(uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = http::Request::get(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

pub(super) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A token with any header and claims, signed with the HMAC `secret`.
pub(super) fn signed(header: &Header, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// `header.payload.signature` from raw JSON texts (for headers jsonwebtoken will not write).
pub(super) fn raw(header: &str, claims: &Value, signature: &str) -> String {
    let h = URL_SAFE_NO_PAD.encode(header);
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{h}.{c}.{signature}")
}

fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub(super) fn reason(result: Result<impl core::fmt::Debug, AuthError>) -> Reason {
    result.unwrap_err().reason().clone()
}

#[test]
fn a_draft07_token_in_the_bearer_header_grants_its_selectors() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let token = mint(
        &hs256(),
        &Claims::new()
            .subscribe("https://example.com/books/{id}")
            .subscribe("users/7")
            .payload(json!({"user": 7})),
    )
    .unwrap();
    let parts = request(
        "/.well-known/mercure?topic=a",
        &[("authorization", &bearer(&token))],
    );
    let subscriber = auth.subscriber(&parts).unwrap();
    assert_eq!(subscriber.revision(), Revision::V0);
    assert_eq!(subscriber.payload(), Some(&json!({"user": 7})));
    assert!(!subscriber.is_anonymous());
    let access = subscriber.access();
    let private = access.private().expect("a private grant");
    assert!(private.matches(&Topic::new("https://example.com/books/1").unwrap()));
    assert!(private.matches(&Topic::new("users/7").unwrap()));
    assert!(!private.matches(&Topic::new("users/8").unwrap()));
    assert_eq!(access.until(), None, "no exp, no deadline");
}

#[test]
fn the_namespaced_claim_is_read_too() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let claims = json!({"https://mercure.rocks/": {"publish": ["a"], "subscribe": ["*"]}});
    let token = signed(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        SECRET,
    );
    let parts = request("/", &[("authorization", &bearer(&token))]);
    let access = auth.subscriber(&parts).unwrap().access();
    assert!(access.private().unwrap().matches(&Topic::new("x").unwrap()));
    let publisher = auth.publisher(&parts).unwrap();
    publisher.check(&[Topic::new("a").unwrap()]).unwrap();
}

#[test]
fn exp_becomes_the_deadline_and_an_expired_token_is_refused() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let claims = json!({"exp": 2_000_000_100u64, "mercure": {"subscribe": ["a"]}});
    let token = signed(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        SECRET,
    );
    let parts = request("/", &[("authorization", &bearer(&token))]);
    let before = std::time::Instant::now();
    let subscriber = auth.subscriber_at(&parts, unix(2_000_000_000)).unwrap();
    let until = subscriber.access().until().expect("exp is the deadline");
    let left = until.duration_since(before);
    assert!(left >= Duration::from_secs(100), "{left:?}");
    // Bounded by the test's own duration, not a wall-clock assertion on speed.
    assert!(
        left <= Duration::from_secs(100) + before.elapsed(),
        "{left:?}"
    );
    assert_eq!(
        reason(auth.subscriber_at(&parts, unix(2_000_000_100))),
        Reason::Expired
    );
    let error = auth.subscriber_at(&parts, unix(2_000_000_101)).unwrap_err();
    let response = error.into_response(Revision::V0);
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.body(), "the token has expired (exp)\n");
}

#[test]
fn nbf_in_the_future_is_refused_and_leeway_admits_skew() {
    let claims = json!({"nbf": 2_000_000_010u64, "mercure": {}});
    let token = signed(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        SECRET,
    );
    let parts = request("/", &[("authorization", &bearer(&token))]);
    let strict = authorizer(AuthConfig::with_key(hs256()));
    assert_eq!(
        reason(strict.subscriber_at(&parts, unix(2_000_000_000))),
        Reason::NotYetValid
    );
    let lenient = authorizer(AuthConfig {
        leeway: Duration::from_secs(30),
        ..AuthConfig::with_key(hs256())
    });
    lenient.subscriber_at(&parts, unix(2_000_000_000)).unwrap();
}

#[test]
fn anonymous_subscribers_get_public_access_only_when_allowed() {
    let closed = authorizer(AuthConfig::with_key(hs256()));
    let parts = request("/.well-known/mercure?topic=a", &[]);
    let error = closed.subscriber(&parts).unwrap_err();
    assert_eq!(error.reason(), &Reason::Missing);
    let refusal = error.into_refusal();
    assert_eq!(refusal.status(), StatusCode::UNAUTHORIZED);
    assert!(
        refusal.message().contains("Authorization: Bearer"),
        "{refusal}"
    );

    let open = authorizer(AuthConfig {
        anonymous: true,
        ..AuthConfig::with_key(hs256())
    });
    let subscriber = open.subscriber(&parts).unwrap();
    assert!(subscriber.is_anonymous());
    assert_eq!(subscriber.access(), push_core::Access::public());
}

#[test]
fn a_present_but_invalid_token_is_refused_even_when_anonymous_is_allowed() {
    let open = authorizer(AuthConfig {
        anonymous: true,
        ..AuthConfig::with_key(hs256())
    });
    let forged = mint(
        &KeySpec::new("someone else's secret", Algorithm::HS256),
        &Claims::new().subscribe("*"),
    )
    .unwrap();
    for headers in [
        vec![("authorization", bearer(&forged))],
        vec![("cookie", format!("mercureAuthorization={forged}"))],
        vec![("authorization", "Bearer not-a-token".to_owned())],
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let error = open
            .subscriber(&request("/?topic=a", &headers))
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::UNAUTHORIZED, "{headers:?}");
    }
}

#[test]
fn no_subscriber_key_says_so() {
    let auth = authorizer(AuthConfig {
        publisher: vec![hs256()],
        anonymous: true,
        ..AuthConfig::default()
    });
    let token = mint(&hs256(), &Claims::new().subscribe("*")).unwrap();
    let parts = request("/", &[("authorization", &bearer(&token))]);
    let error = auth.subscriber(&parts).unwrap_err();
    assert_eq!(error.reason(), &Reason::NoKey(Role::Subscriber));
    assert_eq!(
        error.to_string(),
        "no subscriber key is configured on this hub, so no subscriber token can be verified"
    );
}

#[test]
fn each_hostile_header_is_refused_with_its_own_message() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let claims = json!({"mercure": {"subscribe": ["*"], "publish": ["*"]}});
    let mut with_jku = Header::new(jsonwebtoken::Algorithm::HS256);
    with_jku.jku = Some("https://evil.example/keys.json".into());
    let mut with_x5u = Header::new(jsonwebtoken::Algorithm::HS256);
    with_x5u.x5u = Some("https://evil.example/cert.pem".into());
    let mut with_x5c = Header::new(jsonwebtoken::Algorithm::HS256);
    with_x5c.x5c = Some(vec!["MIIB".into()]);
    let mut with_crit = Header::new(jsonwebtoken::Algorithm::HS256);
    with_crit.crit = Some(vec!["exp".into()]);
    let cases = [
        (
            raw(r#"{"alg":"none","typ":"JWT"}"#, &claims, ""),
            "alg none",
        ),
        (raw(r#"{"alg":"None"}"#, &claims, ""), "alg none"),
        (raw(r#"{"typ":"JWT"}"#, &claims, "x"), "names no algorithm"),
        (
            raw(r#"{"alg":"HS1"}"#, &claims, "x"),
            "is not one the hub knows",
        ),
        (
            raw(
                r#"{"alg":"HS256","jwk":{"kty":"oct","k":"AA"}}"#,
                &claims,
                "x",
            ),
            "(jwk)",
        ),
        (signed(&with_jku, &claims, SECRET), "(jku)"),
        (signed(&with_x5u, &claims, SECRET), "(x5u)"),
        (signed(&with_x5c, &claims, SECRET), "(x5c)"),
        (signed(&with_crit, &claims, SECRET), "(crit)"),
        ("a.b.c.d.e".to_owned(), "encrypted token (JWE)"),
        ("a.b".to_owned(), "three base64url segments"),
        ("***.b.c".to_owned(), "header is not base64url"),
        (raw("[1]", &claims, "x"), "not a JSON object"),
        (
            raw(r#"{"alg":"HS256","kid":7}"#, &claims, "x"),
            "kid) is not a string",
        ),
    ];
    for (token, expected) in cases {
        let parts = request("/", &[("authorization", &bearer(&token))]);
        let error = auth.subscriber(&parts).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(
            !message.contains(&token),
            "the token is never echoed: {message}"
        );
        assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
    }
}

#[test]
fn a_bad_signature_and_a_tampered_payload_are_refused() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let token = mint(&hs256(), &Claims::new().subscribe("users/7")).unwrap();
    let mut parts: Vec<&str> = token.split('.').collect();
    let wider = URL_SAFE_NO_PAD.encode(json!({"mercure": {"subscribe": ["*"]}}).to_string());
    parts[1] = &wider;
    let tampered = parts.join(".");
    for token in [tampered, format!("{token}x")] {
        let parts = request("/", &[("authorization", &bearer(&token))]);
        let error = auth.subscriber(&parts).unwrap_err();
        assert!(
            matches!(error.reason(), Reason::BadSignature | Reason::Malformed(_)),
            "{error}"
        );
    }
    let forged = mint(&KeySpec::new("wrong", Algorithm::HS256), &Claims::new()).unwrap();
    let parts = request("/", &[("authorization", &bearer(&forged))]);
    assert_eq!(reason(auth.subscriber(&parts)), Reason::BadSignature);
    assert!(
        auth.subscriber(&parts)
            .unwrap_err()
            .into_refusal()
            .message()
            .contains("signature")
    );
}

#[test]
fn an_oversized_token_is_refused_before_it_is_decoded() {
    let auth = authorizer(AuthConfig {
        max_token_len: 100,
        ..AuthConfig::with_key(hs256())
    });
    let token = "a".repeat(101);
    let parts = request("/", &[("authorization", &bearer(&token))]);
    assert_eq!(
        reason(auth.subscriber(&parts)),
        Reason::TooLong { len: 101, max: 100 }
    );
}

#[test]
fn more_than_1000_selectors_are_refused() {
    let auth = authorizer(AuthConfig {
        max_token_len: 1 << 20,
        ..AuthConfig::with_key(hs256())
    });
    let many: Vec<String> = (0..=MAX_CLAIM_SELECTORS).map(|i| format!("t{i}")).collect();
    let claims = json!({"mercure": {"publish": many}});
    let token = signed(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        SECRET,
    );
    let parts = request("/", &[("authorization", &bearer(&token))]);
    let error = auth.publisher(&parts).unwrap_err();
    assert!(error.to_string().contains("more than 1000"), "{error}");
    // 1000 is accepted for publishing (no Selector limit on a publish grant).
    let claims = json!({"mercure": {"publish": &many[..1000]}});
    let token = signed(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        SECRET,
    );
    let parts = request("/", &[("authorization", &bearer(&token))]);
    auth.publisher(&parts)
        .unwrap()
        .check(&[Topic::new("t999").unwrap()])
        .unwrap();
}

#[test]
fn malformed_claims_say_what_is_wrong() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    for (claims, expected) in [
        (json!([1, 2]), "claims are not a JSON object"),
        (
            json!({"mercure": "all"}),
            "mercure claim is not a JSON object",
        ),
        (
            json!({"mercure": {"subscribe": "a"}}),
            "mercure.subscribe is not a list",
        ),
        (json!({"mercure": {"publish": [1]}}), "other than strings"),
        (json!({"mercure": {"publish": [""]}}), "is not a topic"),
        (
            json!({"exp": "tomorrow", "mercure": {}}),
            "exp is not a number",
        ),
    ] {
        let token = signed(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            SECRET,
        );
        let parts = request("/", &[("authorization", &bearer(&token))]);
        let error = auth.publisher(&parts).unwrap_err();
        assert!(error.to_string().contains(expected), "{expected}: {error}");
    }
}

#[test]
fn keys_and_tokens_never_reach_debug_output() {
    let auth = authorizer(AuthConfig::with_key(hs256().with_kid("k1")));
    let shown = format!("{auth:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("k1") && shown.contains("HS256"), "{shown}");
    let token = mint(&hs256(), &Claims::new().subscribe("*")).unwrap();
    let error = authorizer(AuthConfig::with_key(KeySpec::new(
        "other",
        Algorithm::HS256,
    )))
    .subscriber(&request("/", &[("authorization", &bearer(&token))]))
    .unwrap_err();
    let shown = format!("{error:?} {error}");
    assert!(!shown.contains(&token), "{shown}");
    let signature = token.rsplit('.').next().unwrap();
    assert!(!shown.contains(signature), "{shown}");
}
