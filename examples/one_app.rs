//! One axum app, one broker, three transports (SSE at `/events`, long polling at `/poll`,
//! WebSocket at `/ws`) mounted the same way, with one topic hook and one authorization hook.
use std::time::{Duration, Instant};

use axum::{Router, routing::post};
use http::{Response, Uri, request::Parts};
use push_broker::MemoryBroker;
use push_core::{Access, Event, Pattern, Selector, Topic};
use push_http::{Hooks, Refusal, query::Query};
use {push_longpoll::server as poll, push_sse::server as sse, push_ws::server as ws};

fn room(query: &Query<'_>) -> Result<Topic, Refusal> {
    let room = query.get("room")?.ok_or(Refusal::forbidden("no ?room="))?;
    Ok(Topic::new(&format!("rooms/{room}"))?)
}

/// `?room=NAME` is the topic `rooms/NAME`; `?token=letmein` adds private events for an hour.
#[derive(Clone, Debug)]
pub struct Rooms;

impl Hooks for Rooms {
    fn topics(&self, _: &Parts, query: &Query<'_>) -> Result<Selector, Refusal> {
        Ok(Selector::one(room(query)?))
    }

    async fn authorize(&self, request: &Parts, _: &Selector) -> Result<Access, Refusal> {
        let private = Selector::new([Pattern::parse("rooms/{name}")?])?;
        match Query::of(&request.uri).get("token")?.as_deref() {
            None => Ok(Access::public()),
            Some("letmein") => Ok(Access::public()
                .with_private(private)
                .with_until(Instant::now() + Duration::from_secs(3600))),
            Some(_) => Err(Refusal::unauthorized("Bearer", "unknown token")),
        }
    }
}

/// The three transports on `broker`, and a demo `POST /publish?room=NAME`.
pub fn app(broker: MemoryBroker) -> Router {
    let sse = sse::Endpoint::new(broker.clone(), sse::Config::default()).with_hooks(Rooms);
    let poll = poll::Endpoint::new(broker.clone(), poll::Config::default()).with_hooks(Rooms);
    let ws = ws::Endpoint::new(broker.clone(), ws::Config::default()).with_hooks(Rooms);
    let publish = async move |uri: Uri, body: String| -> Result<String, Response<String>> {
        let go =
            || Ok::<_, Refusal>(broker.publish_now(&room(&Query::of(&uri))?, Event::new(body))?);
        Ok(go().map_err(Refusal::into_response)?.to_string())
    };
    let app = Router::new().route("/publish", post(publish));
    let app = app.route_service("/events", sse);
    let app = app.route_service("/poll", poll);
    app.route_service("/ws", ws)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("listening on http://127.0.0.1:8080 (routes: see the README)");
    axum::serve(listener, app(MemoryBroker::default())).await
}
