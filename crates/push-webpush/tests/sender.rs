//! The sender against a push service stand-in on loopback. The stand-in is a test of the real
//! protocol: it decrypts every body with the subscription's private key and verifies the VAPID
//! signature, then answers as a push service would (201, 404/410, 413, 429 with Retry-After,
//! 503, or not at all).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use push_webpush::client::{Config, Sender};
use push_webpush::{
    Delivery, EndpointPolicy, Error, Outcome, PushSubscription, Receiver, Topic, Urgency, Vapid,
    VapidKey, WebPush,
};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};

/// What the stand-in received and decrypted.
#[derive(Debug)]
struct Received {
    path: String,
    plaintext: Vec<u8>,
    ttl: String,
    urgency: Option<String>,
    topic: Option<String>,
    audience: String,
}

struct PushService {
    receiver: Receiver,
    vapid_public: String,
    received: mpsc::UnboundedSender<Received>,
    active: AtomicUsize,
    most_active: AtomicUsize,
    connections: AtomicUsize,
    release: Notify,
}

impl PushService {
    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        let (parts, body) = request.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(header("content-encoding").as_deref(), Some("aes128gcm"));
        let audience = self.verify_vapid(&header("authorization").unwrap());
        let plaintext = self.receiver.decrypt(&body).expect("the body decrypts");
        let answer = |status: u16| Response::builder().status(status);
        let response = match path.as_str() {
            "/gone" => answer(410),
            "/missing" => answer(404),
            "/big" => answer(413),
            "/busy" => answer(429).header("retry-after", "7"),
            "/down" => answer(503),
            "/hold" => {
                let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
                self.most_active.fetch_max(now, Ordering::SeqCst);
                self.release.notified().await;
                self.active.fetch_sub(1, Ordering::SeqCst);
                answer(201)
            }
            _ => answer(201),
        };
        let _ = self.received.send(Received {
            path,
            plaintext,
            ttl: header("ttl").unwrap(),
            urgency: header("urgency"),
            topic: header("topic"),
            audience,
        });
        response.body(Full::new(Bytes::new())).unwrap()
    }

    /// Checks the token's signature with `k`, that `k` is the server's key, and answers `aud`.
    fn verify_vapid(&self, authorization: &str) -> String {
        let params = authorization.strip_prefix("vapid ").unwrap();
        let (t, k) = params.split_once(", k=").unwrap();
        let t = t.strip_prefix("t=").unwrap();
        assert_eq!(k, self.vapid_public);
        let (signed, signature) = t.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&B64.decode(k).unwrap()).unwrap();
        let signature = Signature::from_slice(&B64.decode(signature).unwrap()).unwrap();
        key.verify(signed.as_bytes(), &signature)
            .expect("the VAPID signature verifies");
        let claims = B64.decode(signed.split_once('.').unwrap().1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
        claims["aud"].as_str().unwrap().to_owned()
    }
}

struct Setup {
    service: Arc<PushService>,
    received: mpsc::UnboundedReceiver<Received>,
    base: String,
    vapid: Vapid,
}

async fn push_service() -> Setup {
    let key = VapidKey::generate().unwrap();
    let (tx, received) = mpsc::unbounded_channel();
    let service = Arc::new(PushService {
        receiver: Receiver::generate().unwrap(),
        vapid_public: key.public_key().to_owned(),
        received: tx,
        active: AtomicUsize::new(0),
        most_active: AtomicUsize::new(0),
        connections: AtomicUsize::new(0),
        release: Notify::new(),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepting = service.clone();
    // Ends with the test's runtime.
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            accepting.connections.fetch_add(1, Ordering::SeqCst);
            let service = accepting.clone();
            tokio::spawn(async move {
                let handler = hyper::service::service_fn(move |request| {
                    let service = service.clone();
                    async move { Ok::<_, Infallible>(service.handle(request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), handler)
                    .await;
            });
        }
    });
    let vapid = Vapid::new(key, "mailto:ops@example.com").unwrap();
    Setup {
        service,
        received,
        base,
        vapid,
    }
}

fn sender(vapid: Vapid, config: Config) -> Sender {
    let policy = EndpointPolicy::hosts(Vec::<String>::new()).with_loopback(true);
    Sender::new(WebPush::new(vapid).with_policy(policy), config).unwrap()
}

fn subscription(setup: &Setup, path: &str) -> PushSubscription {
    setup
        .service
        .receiver
        .subscription(&format!("{}{path}", setup.base))
}

#[tokio::test]
async fn a_delivered_message_decrypts_at_the_push_service() {
    let mut setup = push_service().await;
    let sub = subscription(&setup, "/push/abc");
    let sender = sender(setup.vapid, Config::default());
    let delivery = Delivery::default()
        .with_ttl(Duration::from_secs(90))
        .with_urgency(Urgency::Low)
        .with_topic(Topic::new("scores").unwrap());
    let outcome = sender.send(&sub, b"{\"goal\":1}", &delivery).await.unwrap();
    assert_eq!(outcome, Outcome::Delivered);
    let got = setup.received.recv().await.unwrap();
    assert_eq!(got.path, "/push/abc");
    assert_eq!(got.plaintext, b"{\"goal\":1}");
    assert_eq!(got.ttl, "90");
    assert_eq!(got.urgency.as_deref(), Some("low"));
    assert_eq!(got.topic.as_deref(), Some("scores"));
    assert_eq!(got.audience, setup.base);
}

#[tokio::test]
async fn each_answer_is_classified() {
    let setup = push_service().await;
    let sender = sender(setup.vapid.clone_for_test(), Config::default());
    let delivery = Delivery::default();
    for (path, expected) in [
        ("/gone", Outcome::Gone),
        ("/missing", Outcome::Gone),
        ("/big", Outcome::TooLarge),
        (
            "/busy",
            Outcome::Retry {
                after: Some(Duration::from_secs(7)),
            },
        ),
        ("/down", Outcome::Retry { after: None }),
    ] {
        let outcome = sender
            .send(&subscription(&setup, path), b"x", &delivery)
            .await
            .unwrap();
        assert_eq!(outcome, expected, "{path}");
    }
}

#[tokio::test]
async fn work_is_bounded_per_push_service_and_in_total() {
    let setup = push_service().await;
    let config = Config::default().with_queue_depth(3).with_per_service(2);
    let sender = Arc::new(sender(setup.vapid.clone_for_test(), config));
    let sub = subscription(&setup, "/hold");
    let mut sends = Vec::new();
    for _ in 0..3 {
        let (sender, sub) = (sender.clone(), sub.clone());
        sends.push(tokio::spawn(async move {
            sender.send(&sub, b"held", &Delivery::default()).await
        }));
    }
    // Bounded wait until the push service holds two requests.
    for _ in 0..500 {
        if setup.service.active.load(Ordering::SeqCst) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(setup.service.active.load(Ordering::SeqCst), 2);
    // The third waits for its push service; a fourth is refused at once.
    let fourth = sender
        .send(&sub, b"one too many", &Delivery::default())
        .await;
    assert!(matches!(fourth, Err(Error::QueueFull(3))), "{fourth:?}");
    for _ in 0..3 {
        // Bounded: each release lets one held request answer; wait for the next to arrive.
        for _ in 0..500 {
            if setup.service.active.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        setup.service.release.notify_one();
    }
    for send in sends {
        assert_eq!(send.await.unwrap().unwrap(), Outcome::Delivered);
    }
    assert_eq!(setup.service.most_active.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_silent_push_service_times_out() {
    let setup = push_service().await;
    let config = Config::default().with_timeout(Duration::from_millis(300));
    let sender = sender(setup.vapid.clone_for_test(), config);
    let outcome = sender
        .send(&subscription(&setup, "/hold"), b"x", &Delivery::default())
        .await;
    assert!(matches!(outcome, Err(Error::Timeout(_))), "{outcome:?}");
    setup.service.release.notify_waiters();
}

#[tokio::test]
async fn a_refused_endpoint_is_never_connected_to() {
    let setup = push_service().await;
    // The default policy: known push services only, no loopback.
    let sender = Sender::new(
        WebPush::new(setup.vapid.clone_for_test()),
        Config::default(),
    )
    .unwrap();
    let outcome = sender
        .send(&subscription(&setup, "/ok"), b"x", &Delivery::default())
        .await;
    assert!(matches!(outcome, Err(Error::Endpoint(_))), "{outcome:?}");
    assert_eq!(setup.service.connections.load(Ordering::SeqCst), 0);
}

trait CloneForTest {
    fn clone_for_test(&self) -> Self;
}

impl CloneForTest for Vapid {
    fn clone_for_test(&self) -> Self {
        Self::new(self.key().clone(), "mailto:ops@example.com").unwrap()
    }
}
