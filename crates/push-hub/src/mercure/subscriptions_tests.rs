//! Subscription topics and documents in both revisions, and the API's answers.

use super::*;
use crate::auth::{Algorithm, AuthConfig, KeySpec};
use crate::token::{Claims, mint};

const SECRET: &str = "a test secret of at least thirty-two bytes";

fn key() -> KeySpec {
    KeySpec::new(SECRET, Algorithm::HS256)
}

fn authorizer() -> Authorizer {
    Authorizer::new(AuthConfig::with_key(key())).unwrap()
}

fn entry(revision: Revision, kind: MatchType, text: &str) -> Arc<Entry> {
    Arc::new(Entry {
        subscriber: "urn:uuid:s1".into(),
        revision,
        matchers: vec![Matcher {
            kind,
            text: text.to_owned(),
        }],
        payload: Some(json!({"user": 7})),
    })
}

fn get(path: &str, claims: &Claims, headers: &[(&str, &str)]) -> Parts {
    let token = mint(&key(), claims).unwrap();
    let mut request = http::Request::get(path).header("authorization", format!("Bearer {token}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(()).unwrap().into_parts().0
}

fn reader() -> Claims {
    Claims::new().subscribe("/.well-known/mercure/subscriptions{/topic}{/subscriber}")
}

#[test]
fn topics_and_documents_follow_the_revision() {
    let v0 = entry(Revision::V0, MatchType::Topic, "https://ex.com/books/{id}");
    let m = &v0.matchers[0];
    assert_eq!(
        v0.topic(m),
        "/.well-known/mercure/subscriptions/https%3A%2F%2Fex.com%2Fbooks%2F%7Bid%7D/urn%3Auuid%3As1"
    );
    let doc = v0.document(m, true);
    assert_eq!(doc["@context"], "https://mercure.rocks/");
    assert_eq!(doc["type"], "Subscription");
    assert_eq!(doc["topic"], "https://ex.com/books/{id}");
    assert_eq!(doc["subscriber"], "urn:uuid:s1");
    assert_eq!(doc["active"], true);
    assert_eq!(doc["payload"]["user"], 7);
    assert_eq!(doc["id"], v0.topic(m));
    let v1 = entry(
        Revision::V1,
        MatchType::UrlPattern,
        "https://ex.com/books/:id",
    );
    let m = &v1.matchers[0];
    assert_eq!(
        v1.topic(m),
        "/.well-known/mercure/subscriptions/urlpattern/https%3A%2F%2Fex.com%2Fbooks%2F%3Aid/urn%3Auuid%3As1"
    );
    let doc = v1.document(m, false);
    assert_eq!(
        (doc["type"].as_str(), doc["match_type"].as_str()),
        (Some("subscription"), Some("urlpattern"))
    );
    assert_eq!(doc["active"], false);
    assert!(doc.get("@context").is_none());
    // Every subscription topic is in the reserved namespace: no publisher can forge one.
    assert!(super::super::is_reserved(&v0.topic(&v0.matchers[0])));
}

#[test]
fn the_api_lists_filters_and_finds_one() {
    let auth = authorizer();
    let entries = [
        entry(Revision::V0, MatchType::Topic, "a"),
        entry(Revision::V0, MatchType::Topic, "b"),
    ];
    let all = answer_for(&entries, "5-2", &auth, &get(COLLECTION, &reader(), &[]));
    assert_eq!(all.status(), StatusCode::OK);
    assert_eq!(all.headers()[CONTENT_TYPE], "application/ld+json");
    assert_eq!(all.headers()[ETAG], "5-2");
    let body: Value = serde_json::from_str(all.body()).unwrap();
    assert_eq!(body["type"], "Subscriptions");
    assert_eq!(body["lastEventID"], "5-2");
    assert_eq!(body["subscriptions"].as_array().unwrap().len(), 2);
    let only_a = answer_for(
        &entries,
        "5-2",
        &auth,
        &get(&format!("{COLLECTION}/a"), &reader(), &[]),
    );
    let body: Value = serde_json::from_str(only_a.body()).unwrap();
    assert_eq!(body["subscriptions"].as_array().unwrap().len(), 1);
    let one = answer_for(
        &entries,
        "5-2",
        &auth,
        &get(&format!("{COLLECTION}/b/urn%3Auuid%3As1"), &reader(), &[]),
    );
    let body: Value = serde_json::from_str(one.body()).unwrap();
    assert_eq!(
        (body["topic"].as_str(), body["lastEventID"].as_str()),
        (Some("b"), Some("5-2"))
    );
    let missing = answer_for(
        &entries,
        "5-2",
        &auth,
        &get(&format!("{COLLECTION}/c/urn%3Auuid%3As1"), &reader(), &[]),
    );
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let cached = answer_for(
        &entries,
        "5-2",
        &auth,
        &get(COLLECTION, &reader(), &[("if-none-match", "5-2")]),
    );
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert!(cached.body().is_empty());
}

#[test]
fn the_api_needs_a_matching_subscribe_selector() {
    let auth = authorizer();
    let entries = [entry(Revision::V0, MatchType::Topic, "a")];
    let other = Claims::new().subscribe("https://ex.com/{x}");
    let refused = answer_for(&entries, "earliest", &auth, &get(COLLECTION, &other, &[]));
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(
        refused.body().contains("subscribe selectors"),
        "{}",
        refused.body()
    );
    let anonymous = http::Request::get(COLLECTION)
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert_eq!(
        answer_for(&entries, "earliest", &auth, &anonymous).status(),
        StatusCode::UNAUTHORIZED
    );
}
