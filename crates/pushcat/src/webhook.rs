//! `pushcat webhook serve ADDR --secret whsec_… [--fail-first N]`: a receiver of
//! RESTful callbacks. Every request is verified (`push_webhook::Verifier`, ±5 min); a verified
//! delivery seen before (same `webhook-id`) is answered 204 and not printed again
//! (`push_webhook::Idempotency`); a new one is printed as one JSON line
//! `{"id","timestamp","body"}` and answered 204. `--fail-first N` answers the first N verified
//! attempts 503 (before the idempotency check), to watch the sender retry.
//!
//! Stderr says where it listens (`listening on ADDR`) and why a request was refused. It runs
//! until interrupted.

use std::convert::Infallible;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use push_webhook::{Begin, Idempotency, Trusted, Verifier};
use serde_json::{Value, json};

use crate::args::{WebhookRegisterArgs, WebhookServeArgs};

/// The largest body read: deliveries are small (the specification suggests under 20 kB).
const MAX_BODY: usize = 1 << 20;

struct Receiver {
    verifier: Verifier,
    fail_first: AtomicU32,
    seen: Mutex<Idempotency>,
}

pub(crate) fn serve(args: WebhookServeArgs) -> ExitCode {
    let receiver = Arc::new(Receiver {
        verifier: Verifier::new(args.secrets.into_iter().map(Trusted::from)),
        fail_first: AtomicU32::new(args.fail_first),
        seen: Mutex::new(Idempotency::default()),
    });
    crate::block_on(async move {
        let listener = match tokio::net::TcpListener::bind(args.addr).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("pushcat: cannot listen on {}: {e}", args.addr);
                return ExitCode::FAILURE;
            }
        };
        if let Ok(addr) = listener.local_addr() {
            eprintln!("listening on {addr}");
        }
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let receiver = Arc::clone(&receiver);
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, Arc::clone(&receiver)));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

async fn handle(
    req: Request<Incoming>,
    rx: Arc<Receiver>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let Ok(body) = Limited::new(body, MAX_BODY).collect().await else {
        return Ok(answer(StatusCode::PAYLOAD_TOO_LARGE));
    };
    let body = body.to_bytes();
    let verified = match rx.verifier.verify(&parts.headers, &body, SystemTime::now()) {
        Ok(verified) => verified,
        Err(e) => {
            eprintln!("pushcat: refused a request: {e}");
            return Ok(answer(StatusCode::UNAUTHORIZED));
        }
    };
    let failing = rx
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        return Ok(answer(StatusCode::SERVICE_UNAVAILABLE));
    }
    let mut seen = rx.seen.lock().unwrap_or_else(PoisonError::into_inner);
    let status = match seen.begin(&verified.id, Instant::now()) {
        Begin::New(claim) => {
            let body = serde_json::from_slice::<Value>(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
            let line = json!({"id": verified.id, "timestamp": verified.timestamp, "body": body});
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_ok() {
                seen.succeeded(claim, Instant::now());
                StatusCode::NO_CONTENT
            } else {
                // Stdout is gone: not handled, so the sender retries.
                seen.failed(claim);
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
        Begin::Duplicate => StatusCode::NO_CONTENT,
        Begin::InFlight | Begin::Busy => StatusCode::CONFLICT,
    };
    Ok(answer(status))
}

fn answer(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// The hub's callbacks path when `HUB_URL` names none.
const CALLBACKS_PATH: &str = "/.well-known/push/callbacks";

/// `pushcat webhook register`: one JSON `POST` to the hub's callbacks API; prints the
/// registration the hub answers (with its `secret`: give it to `webhook serve --secret`).
pub(crate) fn register(args: &WebhookRegisterArgs) -> ExitCode {
    let mut body = json!({
        "url": args.url,
        "topics": args.topics,
        "id": args.id,
    });
    if let Some(n) = args.in_flight {
        body["in_flight"] = n.into();
    }
    crate::publish::post(&crate::publish::Post {
        command: &["webhook", "register"],
        url: &args.hub,
        default_path: CALLBACKS_PATH,
        cacerts: &args.tls.files,
        content_type: "application/json",
        token: Some(&args.token),
        body: Bytes::from(body.to_string()),
    })
}
