//! `server::drive` on an accepted connection asks the hooks for the URL's topics, as the
//! `Endpoint` does: over an in-memory pipe, the server side driven with a request head.

use crate::support;

use futures_util::{SinkExt, StreamExt};
use http::StatusCode;
use http::request::Parts;
use push_broker::MemoryBroker;
use push_core::{Access, Event, Selector, Topic};
use push_http::HttpStatus;
use push_ws::server::{Config, Ended, Error, Hooks, Open, Query, Refusal};
use push_ws::tungstenite::Message;
use push_ws::tungstenite::protocol::frame::coding::CloseCode;
use serde_json::Value;
use support::{LIMIT, pair};
use tokio::time::timeout;

fn head(uri: &str) -> Parts {
    http::Request::get(uri).body(()).unwrap().into_parts().0
}

/// `?room=NAME` is the topic `NAME`, a request without one is refused with 403; `?key=` other
/// than `open` is refused with 401.
#[derive(Clone, Debug)]
struct Rooms;

impl Hooks for Rooms {
    fn topics(&self, _: &Parts, query: &Query<'_>) -> Result<Selector, Refusal> {
        let room = query.get("room")?;
        let room = room.ok_or_else(|| Refusal::forbidden("no ?room="))?;
        Ok(Selector::one(Topic::new(&room)?))
    }

    async fn authorize(&self, request: &Parts, _: &Selector) -> Result<Access, Refusal> {
        let query = request.uri.query().unwrap_or("").as_bytes();
        match push_http::query::query_param(query, "key")?.as_deref() {
            None | Some("open") => Ok(Access::public()),
            Some(_) => Err(Refusal::unauthorized("Key", "wrong key")),
        }
    }
}

async fn next_json<S>(client: &mut push_ws::WebSocketStream<S>) -> Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match timeout(LIMIT, client.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    {
        Message::Text(text) => serde_json::from_str(&text).unwrap(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[tokio::test]
async fn drive_starts_subscribed_to_the_topics_of_the_url() {
    let news = Topic::new("news").unwrap();
    for (hooks_open, query) in [(true, "topic=news"), (false, "room=news&key=open")] {
        let broker = MemoryBroker::default();
        let first = broker.publish_now(&news, Event::new("before")).unwrap();
        let uri = format!("/ws?{query}&from={first}");
        let (server, mut client) = pair().await;
        let request = head(&uri);
        let (b, config) = (broker.clone(), Config::default());
        let task = tokio::spawn(async move {
            if hooks_open {
                push_ws::server::drive(server, request, b, Open, &config).await
            } else {
                push_ws::server::drive(server, request, b, Rooms, &config).await
            }
        });
        let ack = next_json(&mut client).await;
        assert_eq!(ack["type"], "subscribed", "{uri}: {ack}");
        assert_eq!(ack["topics"], serde_json::json!(["news"]), "{uri}");
        let second = broker.publish_now(&news, Event::new("after")).unwrap();
        let event = next_json(&mut client).await;
        assert_eq!(event["type"], "event", "{uri}: {event}");
        assert_eq!(event["id"], second.to_string(), "resumed after {first}");
        client.close(None).await.unwrap();
        while let Some(Ok(_)) = timeout(LIMIT, client.next()).await.unwrap() {}
        let ended = timeout(LIMIT, task).await.unwrap().unwrap().unwrap();
        assert_eq!(
            ended,
            Ended::Closed {
                code: 1005,
                by_peer: true
            }
        );
    }
}

#[tokio::test]
async fn drive_closes_with_1008_and_returns_the_refusal_of_the_hooks() {
    for (uri, status, reason) in [
        ("/ws", StatusCode::FORBIDDEN, "no ?room="),
        (
            "/ws?room=news&key=nope",
            StatusCode::UNAUTHORIZED,
            "wrong key",
        ),
    ] {
        let (server, mut client) = pair().await;
        let request = head(uri);
        let config = Config::default();
        let broker = MemoryBroker::default();
        let task = tokio::spawn(async move {
            push_ws::server::drive(server, request, broker, Rooms, &config).await
        });
        let message = timeout(LIMIT, client.next()).await.unwrap().unwrap();
        let Ok(Message::Close(Some(frame))) = message else {
            panic!("{uri}: expected a close frame, got {message:?}");
        };
        assert_eq!(frame.code, CloseCode::Policy, "{uri}");
        assert_eq!(frame.reason.as_str(), reason, "{uri}");
        let outcome = timeout(LIMIT, task).await.unwrap().unwrap();
        let Err(Error::Refused(refusal)) = outcome else {
            panic!("{uri}: expected Error::Refused, got {outcome:?}");
        };
        assert_eq!(refusal.status(), status, "{uri}");
        assert_eq!(Error::Refused(refusal).status(), status, "{uri}");
    }
}

#[tokio::test]
async fn drive_without_url_topics_waits_for_a_subscribe_command() {
    let (server, mut client) = pair().await;
    let broker = MemoryBroker::default();
    let (b, config) = (broker.clone(), Config::default());
    let task =
        tokio::spawn(
            async move { push_ws::server::drive(server, head("/ws"), b, Open, &config).await },
        );
    client
        .send(Message::text(r#"{"type":"subscribe","topics":["a"]}"#))
        .await
        .unwrap();
    let ack = next_json(&mut client).await;
    assert_eq!(ack["type"], "subscribed", "{ack}");
    assert_eq!(ack["topics"], serde_json::json!(["a"]));
    client.close(None).await.unwrap();
    while let Some(Ok(_)) = timeout(LIMIT, client.next()).await.unwrap() {}
    assert!(timeout(LIMIT, task).await.unwrap().unwrap().is_ok());
}
