//! The two servers `cargo xtask load` compares: the hub's lean SSE path in front of its
//! Mercure over a MemoryBroker, and the anchor, axum's `Sse` over a tokio `broadcast` channel. Both take
//! `GET /.well-known/mercure?topic=…` and `POST /pump?…` (see [`Pump`]).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use push_broker::MemoryBroker;
use push_hub::auth::{Algorithm, AuthConfig, Authorizer, KeySpec};
use push_hub::lean;
use push_hub::mercure::{Mercure, MercureConfig};
use push_hub::token::{Claims, mint};
use push_net::Acceptor;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// Events kept and queued per subscriber: a whole burst or soak fits, so the figures count
/// deliveries, not overflows.
const BACKLOG: usize = 8192;

/// What `POST /pump?count=K&rate=R&topic=T&private=1` asks: publish `count` events of 100
/// bytes on `topic` (sequence number and publish time in the data), `rate` per second
/// (0: as fast as possible), private ones if asked.
#[derive(Debug)]
struct Pump {
    count: u64,
    rate: u64,
    topic: String,
    private: bool,
}

impl Pump {
    fn from_query(query: &str) -> Self {
        let mut pump = Self {
            count: 0,
            rate: 0,
            topic: "fan".to_owned(),
            private: false,
        };
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "count" => pump.count = value.parse().unwrap_or(0),
                "rate" => pump.rate = value.parse().unwrap_or(0),
                "topic" => pump.topic = value.replace("%2F", "/"),
                "private" => pump.private = value == "1",
                _ => {}
            }
        }
        pump
    }

    /// Calls `publish` with each event's data on schedule.
    async fn run<F, P>(self, mut publish: P)
    where
        P: FnMut(u64, Bytes) -> F,
        F: Future<Output = ()>,
    {
        let start = Instant::now();
        for seq in 0..self.count {
            if self.rate > 0 {
                let due = start + Duration::from_secs_f64(seq as f64 / self.rate as f64);
                tokio::time::sleep_until(due).await;
            } else if seq % 8 == 0 {
                tokio::task::yield_now().await;
            }
            publish(seq, payload(seq)).await;
        }
    }
}

/// 100 bytes: the sequence number, the publish time (ns since the epoch), padding.
fn payload(seq: u64) -> Bytes {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut text = format!("{seq:08} {:020} ", now.as_nanos());
    text.extend(std::iter::repeat_n('x', 100 - text.len()));
    Bytes::from(text)
}

/// The hub's keys for this harness only (publisher and subscriber, HS256).
pub(crate) fn load_key() -> KeySpec {
    KeySpec::new(
        "the load harness's own secret, never a deployment's",
        Algorithm::HS256,
    )
}

/// The hub side: push-hub's lean path in front of the hub's Mercure (anonymous subscribers
/// allowed; private updates for tokens of [`load_key`]); the pump publishes through
/// `Mercure::publish` with a publisher token, as a `POST` would.
pub(crate) async fn hub(addr: SocketAddr) -> std::io::Result<()> {
    let broker = MemoryBroker::new(
        push_broker::Config::default()
            .with_queue_count(BACKLOG)
            .with_history_count(BACKLOG)
            // 10,000 template subscribers, against the default's 1,024.
            .with_max_pattern_subscriptions(20_000),
    );
    let mut auth = AuthConfig::with_key(load_key());
    auth.anonymous = true;
    let authorizer = Authorizer::new(auth).map_err(std::io::Error::other)?;
    let mercure = Mercure::new(broker, Arc::new(authorizer), MercureConfig::default());
    let publisher =
        mint(&load_key(), &Claims::new().publish("*")).map_err(std::io::Error::other)?;
    let publisher: Arc<str> = Arc::from(format!("Bearer {publisher}"));
    let config = lean::Config::default();
    let mut acceptor = Acceptor::bind(addr, config.server())?;
    println!("listening {}", acceptor.local_addr()?);
    loop {
        let (stream, _) = acceptor.accept().await?;
        let (mercure, config, token) = (mercure.clone(), config.clone(), Arc::clone(&publisher));
        tokio::spawn(async move {
            let pumping = mercure.clone();
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let (mercure, token) = (pumping.clone(), Arc::clone(&token));
                async move { Ok::<_, Infallible>(hub_pump(mercure, token, &request)) }
            });
            #[expect(
                clippy::result_large_err,
                reason = "Mercure::subscribe's own shape: the refusal is the response"
            )]
            let subscribe = move |parts: &http::request::Parts| mercure.subscribe(parts);
            let _ = lean::serve_connection(stream, Bytes::new(), subscribe, service, &config, None)
                .await;
        });
    }
}

fn hub_pump(
    mercure: Mercure<MemoryBroker>,
    token: Arc<str>,
    request: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    if request.uri().path() != "/pump" {
        let mut response = Response::new(Full::new(Bytes::from_static(b"not found")));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return response;
    }
    let pump = Pump::from_query(request.uri().query().unwrap_or(""));
    let form_tail = if pump.private { "&private=on" } else { "" };
    let topic = pump.topic.replace('/', "%2F");
    tokio::spawn(pump.run(move |_, data| {
        let (mercure, token) = (mercure.clone(), Arc::clone(&token));
        // The payload is digits, spaces and `x`: form-encoded, a space is `+`.
        let data = String::from_utf8_lossy(&data).replace(' ', "+");
        let body = Bytes::from(format!("topic={topic}&data={data}{form_tail}"));
        async move {
            let (parts, ()) = Request::post("/.well-known/mercure")
                .header("authorization", &*token)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(())
                .expect("a valid request")
                .into_parts();
            let answer = mercure.publish(parts, body).await;
            if answer.status() != StatusCode::OK {
                eprintln!("hub: publish refused: {}", answer.status());
            }
        }
    }));
    Response::new(Full::new(Bytes::from_static(b"pumping")))
}

/// The anchor: axum's `Sse` over a tokio `broadcast` channel, as its documentation shows (one
/// channel; every subscriber formats each event itself), with a comment first as the hub sends.
pub(crate) async fn anchor(addr: SocketAddr) -> std::io::Result<()> {
    let (sender, _) = broadcast::channel::<(u64, Bytes)>(BACKLOG);
    let subscribe_to = sender.clone();
    let app = axum::Router::new()
        .route(
            "/.well-known/mercure",
            axum::routing::get(move || {
                let receiver = subscribe_to.subscribe();
                async move { anchor_stream(receiver) }
            }),
        )
        .route(
            "/pump",
            axum::routing::post(move |query: axum::extract::RawQuery| {
                let sender = sender.clone();
                async move {
                    let pump = Pump::from_query(&query.0.unwrap_or_default());
                    tokio::spawn(pump.run(move |seq, data| {
                        let _ = sender.send((seq, data));
                        std::future::ready(())
                    }));
                    "pumping"
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(listener, app).await
}

fn anchor_stream(
    receiver: broadcast::Receiver<(u64, Bytes)>,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>> {
    let first = futures_util::stream::once(async { Ok(SseEvent::default().comment("ok")) });
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok((seq, data)) => {
                    let text = String::from_utf8_lossy(&data);
                    let event = SseEvent::default().id(seq.to_string()).data(text);
                    return Some((Ok(event), receiver));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(first.chain(events)).keep_alive(KeepAlive::default())
}
