//! `/stomp`: STOMP over WebSocket on the hub's port, topics shared with every transport, the
//! hub's tokens for subscribing (the `CONNECT` passcode) and for `SEND` (a publisher's claims).

mod support;

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
    let mut request = format!("ws://{addr}/stomp").into_client_request().unwrap();
    let offered = "v12.stomp".parse().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offered);
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "v12.stomp");
    let connect = format!("CONNECT\naccept-version:1.2\nhost:hub\npasscode:{passcode}\n\n\0");
    ws.send(Message::Text(connect.into())).await.unwrap();
    let connected = next(&mut ws).await.unwrap();
    assert_eq!(connected.header("version"), Some("1.2"), "{connected:?}");
    ws
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

    // No token on a hub without anonymous access: the SUBSCRIBE is refused.
    let mut ws = connect(hub.addr, "").await;
    send(&mut ws, "SUBSCRIBE\nid:0\ndestination:/topic/news\n\n\0").await;
    let error = next(&mut ws).await.unwrap();
    assert_eq!(error.command(), push_stomp::Command::Error, "{error:?}");
}
