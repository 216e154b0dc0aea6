//! STOMP over WebSocket on the hub's port — on `/ws` when the client offers a STOMP subprotocol,
//! and on `/stomp` —, topics shared with every transport, the hub's tokens for subscribing (the
//! `CONNECT` passcode) and for `SEND` (a publisher's claims).

use crate::support;
use crate::web;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use push_core::{Broker, Event, Topic};
use push_hub::token::Claims;
use push_stomp::{Decoder, Frame, Item, Limits};
use support::{args, start};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: std::net::SocketAddr, passcode: &str) -> Ws {
    connect_at(addr, "/stomp", passcode).await
}

async fn connect_at(addr: std::net::SocketAddr, path: &str, passcode: &str) -> Ws {
    let (ws, connected) = login(addr, path, passcode).await;
    assert_eq!(connected.header("version"), Some("1.2"), "{connected:?}");
    ws
}

/// Opens the WebSocket, sends `CONNECT` with `passcode`, and returns the first frame answered.
async fn login(addr: std::net::SocketAddr, path: &str, passcode: &str) -> (Ws, Frame) {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    let offered = "v12.stomp".parse().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offered);
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "v12.stomp");
    let connect = format!("CONNECT\naccept-version:1.2\nhost:hub\npasscode:{passcode}\n\n\0");
    ws.send(Message::Text(connect.into())).await.unwrap();
    let first = next(&mut ws).await.unwrap();
    (ws, first)
}

async fn next(ws: &mut Ws) -> Option<Frame> {
    loop {
        let message = timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()?
            .unwrap();
        let Message::Text(text) = message else {
            if matches!(message, Message::Close(_)) {
                return None;
            }
            continue;
        };
        let mut decoder = Decoder::new(Limits::default());
        decoder.feed(text.as_bytes());
        if let Some(Item::Frame(frame)) = decoder.poll().unwrap() {
            return Some(frame);
        }
    }
}

async fn send(ws: &mut Ws, frame: &str) {
    ws.send(Message::Text(frame.into())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stomp_shares_topics_and_tokens_with_every_transport() {
    let mut hub_args = args();
    hub_args.anonymous = false;
    let hub = start(hub_args);
    let both = support::token(Claims::new().subscribe("news").publish("news"));
    let mut ws = connect(hub.addr, &both).await;
    send(
        &mut ws,
        "SUBSCRIBE\nid:0\ndestination:/topic/news\nreceipt:s\n\n\0",
    )
    .await;
    assert_eq!(next(&mut ws).await.unwrap().header("receipt-id"), Some("s"));
    // A publish on the hub's broker (as Mercure's) reaches the STOMP subscriber…
    let topics = [Topic::new("news").unwrap()];
    let cursor = hub
        .broker
        .publish(&topics, Event::new("from mercure"))
        .await
        .unwrap();
    let message = next(&mut ws).await.unwrap();
    assert_eq!(message.header("message-id"), Some(cursor.text().as_str()));
    assert_eq!(&message.body()[..], b"from mercure");
    // …and a STOMP SEND goes into the same broker, where every transport reads.
    let before = hub.broker.head();
    send(
        &mut ws,
        "SEND\ndestination:/topic/news\nreceipt:p\n\nfrom stomp\0",
    )
    .await;
    assert_eq!(next(&mut ws).await.unwrap().header("receipt-id"), Some("p"));
    assert_eq!(&next(&mut ws).await.unwrap().body()[..], b"from stomp");
    assert!(hub.broker.head() > before);

    // A subscriber's token may not SEND: the hub's publisher check answers.
    let reader = support::token(Claims::new().subscribe("news"));
    let mut ws = connect(hub.addr, &reader).await;
    send(&mut ws, "SEND\ndestination:/topic/news\n\nno\0").await;
    let error = next(&mut ws).await.unwrap();
    assert_eq!(error.command(), push_stomp::Command::Error, "{error:?}");
    assert!(next(&mut ws).await.is_none(), "ERROR then close");

    // A publisher-only token logs in (it may SEND).
    let writer = support::token(Claims::new().publish("news"));
    let _ws = connect(hub.addr, &writer).await;
    // No token on a hub without anonymous access, a token signed with another key, and a
    // malformed one: refused at CONNECT, before the client asks for anything.
    let other = push_hub::auth::KeySpec::new(
        "another key entirely, not the hub's one",
        push_hub::auth::Algorithm::HS256,
    );
    let forged = push_hub::token::mint(&other, &Claims::new().subscribe("news")).unwrap();
    for passcode in ["", forged.as_str(), "not-a-token"] {
        let (mut ws, error) = login(hub.addr, "/stomp", passcode).await;
        assert_eq!(
            error.command(),
            push_stomp::Command::Error,
            "{passcode:?}: {error:?}"
        );
        assert!(next(&mut ws).await.is_none(), "ERROR then close");
    }
}

/// Reads an SSE response until its body holds `needle`; the body read so far.
async fn sse_until(stream: &mut tokio::net::TcpStream, needle: &str) -> String {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buffer = [0; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("an SSE chunk in time")
            .unwrap();
        assert!(
            n > 0,
            "the SSE stream ended: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// `/ws` is one WebSocket endpoint for both protocols: a client offering `v12.stomp` speaks
/// STOMP, one offering nothing the push-ws JSON protocol; a STOMP `SEND` reaches SSE and push-ws
/// subscribers of the topic, and a Mercure publish reaches the STOMP subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stomp_on_ws_by_subprotocol_shares_topics_with_sse_and_mercure() {
    use tokio::io::AsyncWriteExt;
    let mut hub_args = args();
    hub_args.anonymous = false;
    let hub = start(hub_args);
    let both = support::token(Claims::new().subscribe("news").publish("news"));

    // An SSE subscriber (Mercure) and a push-ws JSON subscriber on the same /ws path.
    let mut sse = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let head = format!(
        "GET /.well-known/mercure?topic=news HTTP/1.1\r\nhost: hub\r\nauthorization: Bearer {both}\r\n\r\n"
    );
    sse.write_all(head.as_bytes()).await.unwrap();
    sse_until(&mut sse, "\r\n\r\n").await;
    let json_url = format!("ws://{}/ws?topic=news&authorization={both}", hub.addr);
    let (mut json, response) = tokio_tungstenite::connect_async(json_url).await.unwrap();
    assert!(response.headers().get("sec-websocket-protocol").is_none());

    let mut stomp = connect_at(hub.addr, "/ws", &both).await;
    send(
        &mut stomp,
        "SUBSCRIBE\nid:0\ndestination:/topic/news\nreceipt:s\n\n\0",
    )
    .await;
    assert_eq!(
        next(&mut stomp).await.unwrap().header("receipt-id"),
        Some("s")
    );

    // STOMP SEND → SSE, push-ws JSON and STOMP subscribers.
    send(
        &mut stomp,
        "SEND\ndestination:/topic/news\nreceipt:p\n\nfrom stomp\0",
    )
    .await;
    assert_eq!(
        next(&mut stomp).await.unwrap().header("receipt-id"),
        Some("p")
    );
    let echoed = next(&mut stomp).await.unwrap();
    assert_eq!(&echoed.body()[..], b"from stomp");
    assert_eq!(echoed.header("destination"), Some("/topic/news"));
    let body = sse_until(&mut sse, "data: from stomp").await;
    assert!(body.contains("data: from stomp"), "{body}");
    let event = loop {
        let message = timeout(Duration::from_secs(10), json.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message
            && text.contains("\"event\"")
        {
            break text;
        }
    };
    assert!(event.contains("\"data\":\"from stomp\""), "{event}");

    // Mercure publish (HTTP POST) → the STOMP subscriber on /ws.
    let (status, id) = web::hub::publish(
        hub.addr,
        &both,
        &[("topic", "news"), ("data", "from mercure")],
    )
    .await;
    assert_eq!(status, 200, "{id}");
    let message = next(&mut stomp).await.unwrap();
    assert_eq!(&message.body()[..], b"from mercure");
    assert_eq!(message.header("destination"), Some("/topic/news"));
}

/// STOMP's `x-resume-after` takes the id a client saw on another transport (a Mercure id) as
/// `/poll` and `/ws` do: delivery continues right after it; an id the hub cannot place is a
/// message marked as a gap, then everything retained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resume_header_takes_a_mercure_id() {
    let hub = start(args());
    let topics = [Topic::new("ids").unwrap()];
    for (data, id) in [
        ("first", Some("one")),
        ("second", Some("two")),
        ("third", None),
    ] {
        let mut event = Event::new(data);
        if let Some(id) = id {
            event = event.with_id(id);
        }
        hub.broker.publish(&topics, event).await.unwrap();
    }
    let reader = support::token(Claims::new().subscribe("ids"));
    let subscribe = |resume: &str| {
        format!("SUBSCRIBE\nid:0\ndestination:/topic/ids\nx-resume-after:{resume}\n\n\0")
    };
    let mut ws = connect(hub.addr, &reader).await;
    send(&mut ws, &subscribe("two")).await;
    assert_eq!(&next(&mut ws).await.unwrap().body()[..], b"third");

    let mut ws = connect(hub.addr, &reader).await;
    send(&mut ws, &subscribe("urn:uuid:never")).await;
    let gap = next(&mut ws).await.unwrap();
    assert!(gap.header("x-gap").is_some(), "{gap:?}");
    assert_eq!(&next(&mut ws).await.unwrap().body()[..], b"first");
    hub.task.abort();
}
