//! One axum app, one broker, three transports — SSE at `/events`, long polling at `/poll`,
//! WebSocket at `/ws` — mounted the same way, with one topic hook and one authorization hook.
use std::time::{Duration, Instant};

use axum::{Router, extract::Query, routing::post};
use http::request::Parts;
use push_broker::MemoryBroker;
use push_core::{Access, Audience, Event, Selector, Topic};
use push_http::{Hooks, Refusal, query::query_param};

/// `?room=NAME` is the topic `rooms/NAME`; `?token=letmein` (or `Authorization: Bearer
/// letmein`) may also read the rooms' private events, for one hour.
#[derive(Clone)]
pub struct Rooms;

impl Hooks for Rooms {
    fn topics(&self, request: &Parts) -> Result<Selector, Refusal> {
        let query = request.uri.query().unwrap_or("").as_bytes();
        let room = query_param(query, "room")?.ok_or_else(|| Refusal::forbidden("no ?room="))?;
        Ok(Selector::one(Topic::new(&format!("rooms/{room}"))?))
    }

    async fn authorize(&self, request: &Parts, _: &Selector) -> Result<Access, Refusal> {
        let query = request.uri.query().unwrap_or("").as_bytes();
        let header = request.headers.get("authorization").and_then(|v| v.to_str().ok());
        let token = header.and_then(|h| h.strip_prefix("Bearer ")).map(str::to_owned);
        match token.or(query_param(query, "token")?.map(|t| t.into_owned())) {
            None => Ok(Access::public()),
            Some(t) if t == "letmein" => Ok(Access::public()
                .with_private(Selector::new([push_core::Pattern::parse("rooms/{room}")?])?)
                .with_until(Instant::now() + Duration::from_secs(3600))),
            Some(_) => Err(Refusal::unauthorized("Bearer", "unknown token")),
        }
    }
}

/// The app: the three transports, and a demo `POST /publish?room=NAME[&private=1]`.
pub fn app(broker: MemoryBroker) -> Router {
    let publisher = broker.clone();
    let publish = async move |Query(q): Query<Vec<(String, String)>>, body: String| {
        let room = q.iter().find(|(k, _)| k == "room").map_or("lobby", |(_, v)| v);
        let private = q.iter().any(|(k, v)| k == "private" && v == "1");
        let audience = if private { Audience::Private } else { Audience::Public };
        let topic = Topic::new(&format!("rooms/{room}")).map_err(|e| e.to_string())?;
        let cursor = publisher.publish_now(&topic, Event::new(body).with_audience(audience));
        cursor.map(|c| c.to_string()).map_err(|e| e.to_string())
    };
    Router::new()
        .route_service("/events", push_sse::server::Endpoint::new(broker.clone(), Default::default()).with_hooks(Rooms))
        .route_service("/poll", push_longpoll::server::Endpoint::new(broker.clone(), Default::default()).with_hooks(Rooms))
        .route_service("/ws", push_ws::server::Endpoint::new(broker, Default::default()).with_hooks(Rooms))
        .route("/publish", post(publish))
}

#[allow(dead_code, reason = "the test includes this file for `app` and runs its own server")]
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("listening on http://127.0.0.1:8080 — try: curl -N 'http://127.0.0.1:8080/events?room=lobby'");
    axum::serve(listener, app(MemoryBroker::default())).await
}
