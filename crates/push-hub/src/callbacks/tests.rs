//! The registration's rules without I/O: the grant check, what an event reaches, the stored
//! record read back, the registry's idempotence and its file.

use std::sync::Arc;
use std::time::SystemTime;

use push_core::{Access, Audience, Cursor, Event, Pattern, Published, Selector, Topic};
use push_webhook::Secret;

use super::{Previous, Registered, Registration, Registry, Target, Webhook, covered};

fn selector(patterns: &[&str]) -> Selector {
    Selector::new(patterns.iter().map(|p| Pattern::parse(p).unwrap())).unwrap()
}

pub(super) fn registration(id: &str, topics: &[&str], grant: &[&str]) -> Registration {
    Registration {
        id: id.into(),
        client_id: format!("client {id}"),
        selector: selector(topics),
        access: Access::public().with_private(selector(grant)),
        expires: None,
        owner: "owner".into(),
        target: Target::Webhook(Webhook {
            url: "https://example.com/hook".into(),
            secret: Secret::generate().unwrap(),
            previous: None,
        }),
        in_flight: 1,
        from: Cursor::new(7, 10).to_string(),
        created: 1,
        disabled: None,
    }
}

fn published(topic: &str, offset: u64, audience: Audience) -> Published {
    let event = Event::new("d").with_audience(audience);
    Published::new(Topic::new(topic).unwrap(), Cursor::new(7, offset), event)
}

#[test]
fn a_grant_covers_exact_topics_it_matches_and_only_its_own_templates() {
    let grant = selector(&["orders/{id}", "news"]);
    let all = Selector::all();
    let p = |t: &str| Pattern::parse(t).unwrap();
    assert!(covered(Some(&grant), &p("orders/7")));
    assert!(covered(Some(&grant), &p("news")));
    assert!(covered(Some(&grant), &p("orders/{id}")));
    assert!(!covered(Some(&grant), &p("orders/{x}/items")));
    assert!(!covered(Some(&grant), &p("*")));
    assert!(!covered(Some(&grant), &p("sports")));
    assert!(!covered(None, &p("news")));
    assert!(covered(Some(&all), &p("*")));
    assert!(covered(Some(&all), &p("anything/{x}")));
}

#[test]
fn an_event_reaches_an_active_registration_after_its_start_within_its_grant() {
    let now = SystemTime::now();
    let r = registration("a", &["orders/{id}"], &["orders/1"]);
    assert!(r.wants(&published("orders/1", 11, Audience::Public), now));
    assert!(r.wants(&published("orders/2", 11, Audience::Public), now));
    // Not selected; before (or at) its start; private outside the grant.
    assert!(!r.wants(&published("news", 11, Audience::Public), now));
    assert!(!r.wants(&published("orders/1", 10, Audience::Public), now));
    assert!(r.wants(&published("orders/1", 11, Audience::Private), now));
    assert!(!r.wants(&published("orders/2", 11, Audience::Private), now));
    // Another epoch (a history made since): after its start.
    let other = Published::new(
        Topic::new("orders/1").unwrap(),
        Cursor::new(8, 1),
        Event::new("d"),
    );
    assert!(r.wants(&other, now));
    // Past the token's expiry, or disabled: nothing.
    let expired = Registration {
        expires: Some(super::registration::unix_secs(now)),
        ..r.clone()
    };
    assert!(!expired.wants(&published("orders/1", 11, Audience::Public), now));
    let disabled = Registration {
        disabled: Some(super::Disabled {
            reason: "gone".into(),
            at: 1,
        }),
        ..r
    };
    assert!(!disabled.wants(&published("orders/1", 11, Audience::Public), now));
}

#[test]
fn the_record_reads_back_and_a_damaged_one_is_refused() {
    let mut r = registration("a", &["orders/{id}", "news", "*"], &["*"]);
    r.expires = Some(99);
    webhook_mut(&mut r).previous = Some(Previous {
        secret: Secret::generate().unwrap(),
        until: 5,
    });
    let back = Registration::from_record(&r.record()).unwrap();
    assert_eq!(back.selector, r.selector);
    assert_eq!(back.access, r.access);
    assert_eq!(back.target, r.target);
    assert_eq!(
        (back.expires, back.in_flight, &back.from, &back.owner),
        (r.expires, r.in_flight, &r.from, &r.owner)
    );
    let public = registration("b", &["x"], &["x"]);
    let public = Registration {
        access: Access::public(),
        ..public
    };
    assert_eq!(
        Registration::from_record(&public.record()).unwrap().access,
        Access::public()
    );
    let record = r.record();
    for cut in [0, 1, record.len() / 2, record.len() - 1] {
        assert!(Registration::from_record(&record[..cut]).is_none());
    }
}

#[test]
fn the_registry_is_idempotent_bounded_and_durable() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(Some(dir.path()), 2).unwrap();
    let a = registration("a", &["x"], &["x"]);
    let Registered::Created(created) = registry.register(a.clone()).unwrap() else {
        panic!("not created");
    };
    // The same owner, client id, URL and topics: the one made before (its secret too).
    let again = Registration {
        id: "other".into(),
        target: Target::Webhook(Webhook {
            url: "https://example.com/hook".into(),
            secret: Secret::generate().unwrap(),
            previous: None,
        }),
        ..a.clone()
    };
    let Registered::Existing(existing) = registry.register(again.clone()).unwrap() else {
        panic!("not the existing one");
    };
    assert!(Arc::ptr_eq(&existing, &created));
    let moved = Registration {
        selector: selector(&["y"]),
        ..again
    };
    assert!(matches!(
        registry.register(moved).unwrap(),
        Registered::Conflict(_)
    ));
    let mut b = registration("b", &["x"], &["x"]);
    b.client_id = "b".into();
    assert!(matches!(
        registry.register(b).unwrap(),
        Registered::Created(_)
    ));
    let mut c = registration("c", &["x"], &["x"]);
    c.client_id = "c".into();
    assert!(matches!(registry.register(c).unwrap(), Registered::Full));
    registry.disable("a", "gone", 5).unwrap().unwrap();
    assert!(registry.disable("a", "gone", 6).unwrap().is_none(), "once");
    let rotated = registry
        .rotate("b", Secret::generate().unwrap(), 9)
        .unwrap();
    assert!(rotated.is_some());
    registry.set_fanout_cursor("7-a").unwrap();
    drop(registry);

    let registry = Registry::open(Some(dir.path()), 2).unwrap();
    assert_eq!(registry.len(), 2);
    assert_eq!(registry.active().len(), 1, "a stays disabled");
    assert_eq!(registry.get("a").unwrap().disabled.as_ref().unwrap().at, 5);
    let b = registry.get("b").unwrap();
    assert_eq!(webhook(&b).previous.as_ref().unwrap().until, 9);
    assert_eq!(registry.fanout_cursor().unwrap().as_deref(), Some("7-a"));
    assert!(registry.remove("a").unwrap());
    assert!(!registry.remove("a").unwrap());
}

#[allow(unreachable_patterns, reason = "other target kinds come")]
fn webhook(r: &Registration) -> &Webhook {
    match &r.target {
        Target::Webhook(w) => w,
        _ => panic!("not a webhook"),
    }
}

#[allow(unreachable_patterns, reason = "other target kinds come")]
fn webhook_mut(r: &mut Registration) -> &mut Webhook {
    match &mut r.target {
        Target::Webhook(w) => w,
        _ => panic!("not a webhook"),
    }
}
