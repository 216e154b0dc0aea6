//! A push service stand-in on loopback, shared by the tests. It is a test of the real protocol:
//! it decrypts every body with the subscription's private key and verifies the VAPID
//! signature, then answers as a push service would, by the endpoint's path:
//!
//! | path | answer |
//! |---|---|
//! | `/gone`, `/missing` | 410, 404 |
//! | `/big` | 413 |
//! | `/busy` | 429 with `Retry-After: 7` |
//! | `/down` | 503 |
//! | `/hold` | 201 once the test releases it (counts concurrent requests) |
//! | `/status/CODE/TIMES/…` | CODE (with `Retry-After: 1` on 429) the first TIMES times, then 201 |
//! | anything else | 201 |
#![allow(dead_code, reason = "each test file uses a part of the stand-in")]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use push_webpush::{PushSubscription, Receiver, Vapid, VapidKey};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};

/// What the stand-in received and decrypted.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) plaintext: Vec<u8>,
    pub(crate) ttl: String,
    pub(crate) urgency: Option<String>,
    pub(crate) topic: Option<String>,
    pub(crate) audience: String,
}

pub(crate) struct PushService {
    pub(crate) receiver: Receiver,
    vapid_public: String,
    received: mpsc::UnboundedSender<Received>,
    pub(crate) active: AtomicUsize,
    pub(crate) most_active: AtomicUsize,
    pub(crate) connections: AtomicUsize,
    pub(crate) release: Notify,
    answered: Mutex<HashMap<String, u32>>,
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
        let mut retry_after = None;
        let status = match path.as_str() {
            "/gone" => 410,
            "/missing" => 404,
            "/big" => 413,
            "/busy" => {
                retry_after = Some("7");
                429
            }
            "/down" => 503,
            "/hold" => {
                let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
                self.most_active.fetch_max(now, Ordering::SeqCst);
                self.release.notified().await;
                self.active.fetch_sub(1, Ordering::SeqCst);
                201
            }
            other => self.scripted(other).unwrap_or(201),
        };
        if status == 429 {
            retry_after.get_or_insert("1");
        }
        let _ = self.received.send(Received {
            path,
            status,
            plaintext,
            ttl: header("ttl").unwrap(),
            urgency: header("urgency"),
            topic: header("topic"),
            audience,
        });
        let mut response = Response::builder().status(status);
        if let Some(after) = retry_after {
            response = response.header("retry-after", after);
        }
        response.body(Full::new(Bytes::new())).unwrap()
    }

    /// `/status/CODE/TIMES/…`: CODE for the first TIMES requests to this path.
    fn scripted(&self, path: &str) -> Option<u16> {
        let mut parts = path.strip_prefix("/status/")?.split('/');
        let code: u16 = parts.next()?.parse().ok()?;
        let times: u32 = parts.next()?.parse().ok()?;
        let mut answered = self.answered.lock().unwrap();
        let count = answered.entry(path.to_owned()).or_default();
        *count += 1;
        (*count <= times).then_some(code)
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

pub(crate) struct Setup {
    pub(crate) service: Arc<PushService>,
    pub(crate) received: mpsc::UnboundedReceiver<Received>,
    pub(crate) base: String,
    pub(crate) vapid: Vapid,
}

impl Setup {
    /// A subscription of the stand-in's user agent at `path`.
    pub(crate) fn subscription(&self, path: &str) -> PushSubscription {
        self.service
            .receiver
            .subscription(&format!("{}{path}", self.base))
    }
}

/// A stand-in on a fresh port, with a fresh VAPID key for the server.
pub(crate) async fn push_service() -> Setup {
    let key = VapidKey::generate().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve(listener, Receiver::generate().unwrap(), &key).await
}

/// A stand-in accepting on `listener`, decrypting for `receiver`, expecting tokens of `key`.
pub(crate) async fn serve(listener: TcpListener, receiver: Receiver, key: &VapidKey) -> Setup {
    let (tx, received) = mpsc::unbounded_channel();
    let service = Arc::new(PushService {
        receiver,
        vapid_public: key.public_key().to_owned(),
        received: tx,
        active: AtomicUsize::new(0),
        most_active: AtomicUsize::new(0),
        connections: AtomicUsize::new(0),
        release: Notify::new(),
        answered: Mutex::default(),
    });
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
    let vapid = Vapid::new(key.clone(), "mailto:ops@example.com").unwrap();
    Setup {
        service,
        received,
        base,
        vapid,
    }
}
