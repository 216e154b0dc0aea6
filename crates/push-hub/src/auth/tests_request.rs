//! Where the token comes from, the CSRF check, the two revisions' answers, and the hooks.

use std::sync::Arc;

use http::StatusCode;
use push_core::{Pattern, Topic};
use push_http::Hooks;
use push_http::query::Query;

use super::tests::{authorizer, bearer, hs256, reason, request};
use super::*;
use crate::token::{Claims, mint};

fn token(claims: &Claims) -> String {
    mint(&hs256(), claims).unwrap()
}

fn grants_b(subscriber: &Subscriber) -> bool {
    subscriber
        .access()
        .private()
        .is_some_and(|s| s.matches(&Topic::new("b").unwrap()))
}

#[test]
fn the_header_wins_over_the_query_which_wins_over_the_cookie() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let a = token(&Claims::new().subscribe("a"));
    let b = token(&Claims::new().subscribe("b"));
    let cookie_b = format!("other=1; mercureAuthorization={b}");
    let header = auth
        .subscriber(&request(
            &format!("/?topic=x&authorization={b}"),
            &[("authorization", &bearer(&a)), ("cookie", &cookie_b)],
        ))
        .unwrap();
    assert!(!grants_b(&header), "the header's token");
    let query = auth
        .subscriber(&request(
            &format!("/?topic=x&authorization={b}"),
            &[("cookie", &format!("mercureAuthorization={a}"))],
        ))
        .unwrap();
    assert!(grants_b(&query), "the query's token");
    let cookie = auth
        .subscriber(&request("/?topic=x", &[("cookie", &cookie_b)]))
        .unwrap();
    assert!(grants_b(&cookie), "the cookie's token");
    // Another scheme (a proxy's Basic credentials) is passed over, as Mercure does.
    let basic = auth
        .subscriber(&request(
            "/?topic=x",
            &[
                ("authorization", "Basic dXNlcjpwYXNz"),
                ("cookie", &cookie_b),
            ],
        ))
        .unwrap();
    assert!(grants_b(&basic));
    // The configured cookie name.
    let renamed = authorizer(AuthConfig {
        cookie_name: "hub".into(),
        ..AuthConfig::with_key(hs256())
    });
    let found = renamed
        .subscriber(&request("/", &[("cookie", &format!("hub={b}"))]))
        .unwrap();
    assert!(grants_b(&found));
    assert_eq!(
        reason(renamed.subscriber(&request("/", &[("cookie", &cookie_b)]))),
        Reason::Missing
    );
}

#[test]
fn a_presentation_that_cannot_be_read_is_an_invalid_request() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let t = token(&Claims::new());
    let mut two = request("/", &[("authorization", &bearer(&t))]);
    two.headers
        .append("authorization", bearer(&t).parse().unwrap());
    let error = auth.subscriber(&two).unwrap_err();
    assert!(
        matches!(error.reason(), Reason::InvalidRequest(_)),
        "{error}"
    );
    assert!(error.to_string().contains("several Authorization headers"));
    let empty = auth
        .subscriber(&request("/", &[("authorization", "Bearer ")]))
        .unwrap_err();
    assert!(empty.to_string().contains("no token"), "{empty}");
    let escape = auth
        .subscriber(&request("/?authorization=%zz", &[]))
        .unwrap_err();
    assert!(escape.to_string().contains("%-encoded"), "{escape}");
    // 0.x answers all of them 401; 1.0 answers 400 invalid_request.
    assert_eq!(escape.status(), StatusCode::UNAUTHORIZED);
    let v1 = auth
        .subscriber(&request(&format!("/?match=a&authorization={t}"), &[]))
        .unwrap_err();
    assert_eq!(v1.revision(), Revision::V1);
    let response = v1.into_response(Revision::V1);
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_request""#),
        "{challenge}"
    );
    assert!(!response.body().contains(&t), "the token is never echoed");
}

#[test]
fn a_cookie_authenticated_publish_needs_an_allowed_origin() {
    let auth = authorizer(AuthConfig {
        publish_origins: vec!["https://app.example".into()],
        ..AuthConfig::with_key(hs256())
    });
    let t = token(&Claims::new().publish("*"));
    let cookie = format!("mercureAuthorization={t}");
    let allowed = request(
        "/",
        &[("cookie", &cookie), ("origin", "https://app.example")],
    );
    auth.publisher(&allowed).unwrap();
    let referer = request(
        "/",
        &[
            ("cookie", &cookie),
            ("referer", "https://app.example/page?x=1"),
        ],
    );
    auth.publisher(&referer).unwrap();
    let none = auth
        .publisher(&request("/", &[("cookie", &cookie)]))
        .unwrap_err();
    assert_eq!(
        none.to_string(),
        "a cookie-authenticated publish needs an Origin or a Referer header"
    );
    let evil = request(
        "/",
        &[("cookie", &cookie), ("origin", "https://evil.example")],
    );
    let error = auth.publisher(&evil).unwrap_err();
    assert!(
        error.to_string().contains("\"https://evil.example\""),
        "{error}"
    );
    assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        error.into_response(Revision::V1).status(),
        StatusCode::FORBIDDEN
    );
    // A bearer token is not ambient: no origin needed.
    auth.publisher(&request(
        "/",
        &[
            ("authorization", &bearer(&t)),
            ("origin", "https://evil.example"),
        ],
    ))
    .unwrap();
    // `*` allows any origin; no origin configured allows none.
    let any = authorizer(AuthConfig {
        publish_origins: vec!["*".into()],
        ..AuthConfig::with_key(hs256())
    });
    any.publisher(&evil).unwrap();
    let closed = authorizer(AuthConfig::with_key(hs256()));
    assert!(matches!(
        reason(closed.publisher(&allowed)),
        Reason::BadOrigin(_)
    ));
}

#[test]
fn publishing_needs_every_topic_allowed() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let t = token(&Claims::new().publish("https://example.com/books/{id}"));
    let publisher = auth
        .publisher(&request("/", &[("authorization", &bearer(&t))]))
        .unwrap();
    let book = Topic::new("https://example.com/books/1").unwrap();
    let other = Topic::new("https://example.com/users/1").unwrap();
    publisher.check(std::slice::from_ref(&book)).unwrap();
    let error = publisher.check(&[book, other]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the token's publish selectors do not allow the topic \"https://example.com/users/1\""
    );
    let v1 = error.into_response(Revision::V1);
    assert_eq!(v1.status(), StatusCode::FORBIDDEN);
    assert!(
        v1.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    let subscriber_only = token(&Claims::new().subscribe("*"));
    let publisher = auth
        .publisher(&request(
            "/",
            &[("authorization", &bearer(&subscriber_only))],
        ))
        .unwrap();
    assert_eq!(
        publisher
            .check(&[Topic::new("a").unwrap()])
            .unwrap_err()
            .reason(),
        &Reason::CannotPublish
    );
    let missing = auth.publisher(&request("/", &[])).unwrap_err();
    assert_eq!(missing.reason(), &Reason::Missing);
}

#[test]
fn v1_answers_follow_rfc_6750() {
    let auth = authorizer(AuthConfig::with_key(hs256()));
    let missing = auth
        .subscriber(&request("/?match=a", &[]))
        .unwrap_err()
        .into_refusal();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    let forged = mint(&KeySpec::new("other", Algorithm::HS256), &Claims::new()).unwrap();
    let invalid = auth
        .subscriber(&request(
            "/?match=a",
            &[("authorization", &bearer(&forged))],
        ))
        .unwrap_err()
        .into_refusal();
    assert_eq!(invalid.status(), StatusCode::UNAUTHORIZED);
    let challenge = invalid.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token", error_description=""#),
        "{challenge}"
    );
    assert!(challenge.contains("signature"));
    assert_eq!(invalid.headers()["cache-control"], "no-store");
}

#[test]
fn hooks_read_every_selector_form_and_authorize_with_the_token() {
    let auth = Arc::new(authorizer(AuthConfig::with_key(hs256())));
    let hooks = HubHooks::new(Arc::clone(&auth));
    let parts = request(
        "/ws?topic=https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D&match=a&match_exact=*&match_urlpattern=https%3A%2F%2Fexample.com%2Fu%2F%3Aid&topic=b",
        &[],
    );
    let topics = |parts: &http::request::Parts| hooks.topics(parts, &Query::of(&parts.uri));
    let selector = topics(&parts).unwrap();
    assert_eq!(selector.topics().len(), 2);
    assert!(selector.patterns().contains(&Pattern::All));
    assert!(selector.matches(&Topic::new("https://example.com/books/7").unwrap()));
    let unknown = topics(&request("/ws?match_regex=.*", &[])).unwrap_err();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(topics(&request("/ws", &[])).unwrap_err().is_no_topics());

    let t = token(&Claims::new().subscribe("b"));
    let parts = request("/ws?topic=b", &[("authorization", &bearer(&t))]);
    let access = futures_ready(hooks.authorize(&parts, &selector)).unwrap();
    assert!(access.grants(&[Topic::new("b").unwrap()]));
    let refused =
        futures_ready(hooks.authorize(&request("/ws?topic=b", &[]), &selector)).unwrap_err();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

fn futures_ready<T>(future: impl Future<Output = T>) -> T {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).poll(&mut cx) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("the hub's hooks never wait"),
    }
}

/// A token may grant more selectors than push-core's request selectors hold (64): the bound is
/// `AuthConfig::max_grant_selectors` (default 1,000), and past it the refusal says so.
#[test]
fn a_grant_of_many_selectors_is_bounded_by_configuration() {
    use super::tests::{SECRET, signed};
    use jsonwebtoken::Header;
    use serde_json::json;

    let subscribe: Vec<String> = (0..1000)
        .map(|i| format!("https://example.com/t/{i}"))
        .collect();
    let claims = json!({"mercure": {"subscribe": subscribe}});
    let token = signed(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        SECRET,
    );
    let parts = request("/", &[("authorization", &bearer(&token))]);
    let config = AuthConfig {
        max_token_len: 1 << 20,
        ..AuthConfig::with_key(hs256())
    };
    assert_eq!(config.max_grant_selectors, 1000);
    let access = authorizer(config.clone())
        .subscriber(&parts)
        .unwrap()
        .access();
    for i in [0, 64, 999] {
        let topic = Topic::new(&format!("https://example.com/t/{i}")).unwrap();
        assert!(access.grants(&[topic]), "selector {i} not granted");
    }
    let narrow = authorizer(AuthConfig {
        max_grant_selectors: 999,
        ..config
    });
    let Reason::InvalidClaims(message) = reason(narrow.subscriber(&parts)) else {
        panic!("a grant past the limit was not refused as invalid claims");
    };
    assert!(message.contains("at most 999"), "{message}");
}
