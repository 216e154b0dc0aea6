//! A Web Push service stand-in on loopback (hubs allow it with `--webpush-allow-loopback`): it
//! decrypts every message with the browser's keys and hands it to the test, answering `410 Gone`
//! on `/gone` (a subscription the service dropped) and `201 Created` elsewhere.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use push_webpush::Receiver;
use serde_json::Value;
use tokio::sync::mpsc;

/// One message the stand-in received.
#[derive(Debug)]
pub struct Pushed {
    /// The request's path (which subscription's endpoint).
    pub path: String,
    /// Its headers (`Authorization`, `TTL`, `Urgency`, `Topic`, …).
    pub headers: HeaderMap,
    /// The decrypted payload.
    pub payload: Value,
}

impl Pushed {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The payload's `data` field.
    pub fn data(&self) -> &str {
        self.payload["data"].as_str().unwrap_or_default()
    }
}

/// Starts the stand-in for the browser `agent`: its base URL and what it receives.
pub async fn push_service(agent: Receiver) -> (String, mpsc::UnboundedReceiver<Pushed>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let agent = Arc::new(agent);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (tx, agent) = (tx.clone(), Arc::clone(&agent));
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let (tx, agent) = (tx.clone(), Arc::clone(&agent));
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let plaintext = agent.decrypt(&body).expect("the body decrypts");
                        let path = parts.uri.path().to_owned();
                        let status = if path == "/gone" {
                            StatusCode::GONE
                        } else {
                            StatusCode::CREATED
                        };
                        let _ = tx.send(Pushed {
                            path,
                            headers: parts.headers,
                            payload: serde_json::from_slice(&plaintext).unwrap(),
                        });
                        let mut response = Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = status;
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (base, rx)
}

/// The next message the stand-in receives, within 10 s.
pub async fn next(received: &mut mpsc::UnboundedReceiver<Pushed>) -> Pushed {
    tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a push message within 10 s")
        .unwrap()
}
