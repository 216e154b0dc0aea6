//! A webhook receiver on loopback for the callbacks tests: it verifies every request with
//! push-webhook's `Verifier` (the secrets it is given, which can change), answers from a
//! script (then 204), records every verified attempt, and applies each `webhook-id` once
//! (`Idempotency`), as a receiver should.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use push_webhook::{Begin, Idempotency, Secret, Trusted, Verifier};
use serde_json::Value;
use tokio::sync::Notify;

/// One scripted answer.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
}

impl Answer {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
        }
    }
}

/// One verified attempt as it arrived.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: Instant,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub status: u16,
}

#[derive(Default)]
pub struct State {
    pub secrets: Vec<Secret>,
    pub script: VecDeque<Answer>,
    pub attempts: Vec<Attempt>,
    /// The effects: each delivery's body, once per `webhook-id`, in the order applied.
    pub effects: Vec<Value>,
    pub refused: usize,
    seen: Idempotency,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Listens on `addr` (port 0: any).
    pub async fn start(addr: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let changed = Arc::new(Notify::new());
        let (s, c) = (Arc::clone(&state), Arc::clone(&changed));
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (s, c) = (Arc::clone(&s), Arc::clone(&c));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        handle(request, Arc::clone(&s), Arc::clone(&c))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            state,
            changed,
            task: Arc::new(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn set_secrets(&self, secrets: Vec<Secret>) {
        self.state.lock().unwrap().secrets = secrets;
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// Waits (at most 30 s) until `done` holds of the state.
    pub async fn until(&self, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let notified = self.changed.notified();
            if done(&self.state.lock().unwrap()) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "waited 30 s for {what}");
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }

    pub fn effects(&self) -> Vec<Value> {
        self.state.lock().unwrap().effects.clone()
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.state.lock().unwrap().attempts.clone()
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

async fn handle(
    request: Request<hyper::body::Incoming>,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut state = state.lock().unwrap();
    let verifier = Verifier::new(state.secrets.iter().cloned().map(Trusted::from));
    let Ok(verified) = verifier.verify(&parts.headers, &body, SystemTime::now()) else {
        state.refused += 1;
        changed.notify_waiters();
        return Ok(answer(401, None));
    };
    let scripted = state.script.pop_front().unwrap_or(Answer::status(204));
    state.attempts.push(Attempt {
        at: Instant::now(),
        headers: parts.headers.clone(),
        body: body.clone(),
        status: scripted.status,
    });
    if scripted.status / 100 == 2
        && let Begin::New(claim) = state.seen.begin(&verified.id, Instant::now())
    {
        let value: Value = serde_json::from_slice(&body).unwrap();
        state.effects.push(value);
        state.seen.succeeded(claim, Instant::now());
    }
    changed.notify_waiters();
    Ok(answer(scripted.status, scripted.retry_after))
}

fn answer(status: u16, retry_after: Option<u64>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
    }
    response
}
