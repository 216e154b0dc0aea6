//! The sender on loopback: keep-alive connections are reused, redirects are not followed, and
//! the address policy judges what a name resolves to at connect time (a stub resolver: a
//! refused address is never sent a packet).
#![cfg(feature = "sender")]
#![allow(
    clippy::disallowed_methods,
    reason = "the attempts' Retry-After is read against the wall clock"
)]

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use push_webhook::sender::{Resolve, SendError, Sender};
use push_webhook::{AddressClass, AddressPolicy, Outcome, Refusal};

/// Resolves every name to the addresses it was given, and counts the lookups.
struct Stub(Vec<IpAddr>, AtomicUsize);

impl Resolve for Stub {
    fn resolve(&self, _: &str) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
        self.1.fetch_add(1, Ordering::SeqCst);
        let addrs = self.0.clone();
        Box::pin(async move { Ok(addrs) })
    }
}

/// A receiver answering `status` (with a `Location`), counting connections.
async fn receiver(status: StatusCode) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let service = service_fn(move |_req| async move {
                    let response = Response::builder()
                        .status(status)
                        .header("location", "http://169.254.169.254/")
                        .body(Full::new(Bytes::from_static(b"ok")))
                        .unwrap();
                    Ok::<_, std::convert::Infallible>(response)
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (port, connections)
}

fn stub(ips: &[&str]) -> Arc<Stub> {
    Arc::new(Stub(
        ips.iter().map(|ip| ip.parse().unwrap()).collect(),
        AtomicUsize::new(0),
    ))
}

#[tokio::test]
async fn connections_are_reused_and_names_resolve_through_the_policy() {
    let (port, connections) = receiver(StatusCode::NO_CONTENT).await;
    let resolver = stub(&["127.0.0.1"]);
    let sender = Sender::with_resolver(
        AddressPolicy::allow_private(),
        Duration::from_secs(5),
        resolver.clone(),
    );
    let url = format!("http://receiver.test:{port}/hook");
    for _ in 0..5 {
        let outcome = sender
            .attempt(
                &url,
                HeaderMap::new(),
                Bytes::from_static(b"{}"),
                SystemTime::now(),
            )
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Status { status, .. } if status == 204));
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "one kept-alive connection"
    );
    assert_eq!(resolver.1.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_outcomes_not_followed() {
    let (port, connections) = receiver(StatusCode::FOUND).await;
    let sender = Sender::new(AddressPolicy::allow_private(), Duration::from_secs(5));
    let url = format!("http://127.0.0.1:{port}/hook");
    let outcome = sender
        .attempt(&url, HeaderMap::new(), Bytes::new(), SystemTime::now())
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Status { status, .. } if status == 302));
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn names_resolving_to_internal_addresses_are_refused_at_connect_time() {
    // Metadata, private and link-local: refused by the default policy, on the resolved address.
    for (ip, class) in [
        ("169.254.169.254", AddressClass::Metadata),
        ("10.0.0.7", AddressClass::Private),
        ("fe80::1", AddressClass::LinkLocal),
        ("127.0.0.1", AddressClass::Loopback),
    ] {
        let resolver = stub(&[ip]);
        let sender = Sender::with_resolver(
            AddressPolicy::default(),
            Duration::from_secs(5),
            resolver.clone(),
        );
        let result = sender
            .attempt(
                "https://innocent.test/hook",
                HeaderMap::new(),
                Bytes::new(),
                SystemTime::now(),
            )
            .await;
        match result {
            Err(SendError::Refused(Refusal::Address(refused, c))) => {
                assert_eq!(refused, ip.parse::<IpAddr>().unwrap());
                assert_eq!(c, class);
            }
            other => panic!("{ip}: {other:?}"),
        }
        assert_eq!(
            resolver.1.load(Ordering::SeqCst),
            1,
            "checked after resolution"
        );
    }
    // Literals are refused before any connection, and plain HTTP by default.
    let sender = Sender::with_resolver(AddressPolicy::default(), Duration::from_secs(5), stub(&[]));
    for (url, refusal) in [
        ("https://169.254.169.254/", "Metadata"),
        ("http://example.test/", "Scheme"),
    ] {
        let err = sender
            .attempt(url, HeaderMap::new(), Bytes::new(), SystemTime::now())
            .await
            .unwrap_err();
        assert!(format!("{err:?}").contains(refusal), "{url}: {err:?}");
    }
}

/// A registration whose name resolves to an internal address at connect time is reported
/// forbidden after its first attempt — the policy's cue to disable it — instead of being tried
/// again on the whole schedule; the delivery leaves the queue. No packet leaves the host.
#[tokio::test]
async fn a_name_resolving_to_a_private_address_is_forbidden_at_the_first_attempt() {
    use push_webhook::sender::{Engine, Queue, Signers, Stored};
    use push_webhook::{Next, Policy, Secret};
    use std::sync::Mutex;

    let resolver = stub(&["10.0.0.7"]);
    let sender = Sender::with_resolver(
        AddressPolicy::default(),
        Duration::from_secs(5),
        resolver.clone(),
    );
    let secret = Secret::generate().unwrap();
    let signers: Signers = Arc::new(move |_: &str| Some(push_webhook::Signer::new(secret.clone())));
    let steps = Arc::new(Mutex::new(Vec::new()));
    let observer = {
        let steps = Arc::clone(&steps);
        Arc::new(move |_: &Stored, next: Next| steps.lock().unwrap().push(next))
    };
    let policy = Policy {
        schedule: [0, 10, 10, 10, 10, 10].map(Duration::from_millis).to_vec(),
        jitter_percent: 0,
        ..Policy::default()
    };
    let engine = Engine::with_observer(
        Queue::in_memory().unwrap(),
        sender,
        policy,
        signers,
        Some(observer),
    );
    let delivery = Stored {
        registration: "reg".into(),
        url: "https://innocent.test/hook".into(),
        message_id: "msg_1".into(),
        body: b"{}".to_vec(),
        ..Stored::default()
    };
    engine.publish(vec![delivery]).await.unwrap();
    for _ in 0..200 {
        if !steps.lock().unwrap().is_empty() && engine.queue().is_empty().unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Give a wrongly scheduled retry (10 ms) time to show.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(*steps.lock().unwrap(), [Next::Forbidden]);
    assert!(engine.queue().is_empty().unwrap());
    assert_eq!(resolver.1.load(Ordering::SeqCst), 1);
}
