//! The tower `Endpoint` mounted on hyper and on axum over loopback: the upgrade and its
//! refusals, the initial subscription from the URL, and the hooks on every subscribe command.

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::request::Parts;
use push_broker::MemoryBroker;
use push_core::{Access, Event, Selector, Topic};
use push_ws::server::{Config, Endpoint, Hooks, Refusal};
use push_ws::tungstenite::Message;
use push_ws::tungstenite::client::IntoClientRequest;
use serde_json::Value;
use support::{LIMIT, raw_upgrade};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Secret topics are for the user `admin` (the `x-user` header of the upgrade request); the
/// access ends `expires` after it is granted, when set.
#[derive(Clone, Default)]
struct Gate {
    expires: Option<Duration>,
}

impl Hooks for Gate {
    async fn authorize(&self, request: &Parts, selector: &Selector) -> Result<Access, Refusal> {
        let user = request.headers.get("x-user").and_then(|v| v.to_str().ok());
        let secret = selector
            .topics()
            .iter()
            .any(|t| t.as_str().starts_with("secret"));
        if secret && user != Some("admin") {
            return Err(Refusal::forbidden("secret topics are for admin"));
        }
        let access = Access::public();
        Ok(match self.expires {
            Some(after) => access.with_until(tokio::time::Instant::now().into_std() + after),
            None => access,
        })
    }
}

/// The endpoint on a bare hyper HTTP/1.1 server (with upgrades), one task per connection.
async fn hyper_server<H: Hooks>(endpoint: Endpoint<MemoryBroker, H>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = hyper_util::service::TowerToHyperService::new(endpoint.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                    .with_upgrades(),
            );
        }
    });
    addr
}

async fn connect(url: String, user: Option<&str>) -> Client {
    let mut request = url.into_client_request().unwrap();
    if let Some(user) = user {
        request
            .headers_mut()
            .insert("x-user", user.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn recv_json(client: &mut Client) -> Value {
    let message = timeout(LIMIT, client.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    serde_json::from_str(message.to_text().unwrap()).unwrap()
}

async fn subscribe(client: &mut Client, topics: &[&str]) -> Value {
    let command = serde_json::json!({"type": "subscribe", "topics": topics});
    client
        .send(Message::text(command.to_string()))
        .await
        .unwrap();
    recv_json(client).await
}

#[tokio::test]
async fn on_hyper_it_upgrades_serves_the_protocol_and_refuses_with_http_answers() {
    let broker = MemoryBroker::default();
    let addr = hyper_server(Endpoint::new(broker.clone(), Config::default())).await;
    let mut client = connect(format!("ws://{addr}/ws"), None).await;
    assert_eq!(
        subscribe(&mut client, &["news"]).await["type"],
        "subscribed"
    );
    let id = broker
        .publish_now(&Topic::new("news").unwrap(), Event::new("hi"))
        .unwrap();
    let event = recv_json(&mut client).await;
    assert_eq!(
        (event["id"].as_str(), &event["data"]),
        (Some(&*id.to_string()), &Value::from("hi"))
    );

    let (_, head) = raw_upgrade(addr, "Origin: https://evil.example\r\n").await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    // Not an upgrade at all: an ordinary 400 with the reason as its body.
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    timeout(LIMIT, tcp.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.ends_with("missing Connection: upgrade / Upgrade: websocket\n"),
        "{answer}"
    );
}

#[tokio::test]
async fn in_axum_the_url_names_the_first_subscription() {
    let broker = MemoryBroker::default();
    let topic = Topic::new("news").unwrap();
    let seen = broker.publish_now(&topic, Event::new("seen")).unwrap();
    let missed = broker.publish_now(&topic, Event::new("missed")).unwrap();
    let ws = Endpoint::new(broker.clone(), Config::default());
    let app = axum::Router::new().route_service("/ws", ws);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut client = connect(format!("ws://{addr}/ws?topic=news&from={seen}"), None).await;
    let subscribed = recv_json(&mut client).await;
    assert_eq!(subscribed["type"], "subscribed");
    assert_eq!(subscribed["topics"], serde_json::json!(["news"]));
    let event = recv_json(&mut client).await;
    assert_eq!(event["id"], missed.to_string());

    let (_, head) = raw_upgrade(addr, "").await;
    assert!(head.starts_with("HTTP/1.1 404"), "not routed: {head}");
}

#[tokio::test]
async fn every_subscribe_is_authorized_with_the_upgrade_request() {
    let broker = MemoryBroker::default();
    let endpoint = Endpoint::new(broker.clone(), Config::default()).with_hooks(Gate::default());
    let addr = hyper_server(endpoint).await;

    let mut guest = connect(format!("ws://{addr}/ws"), Some("guest")).await;
    assert_eq!(subscribe(&mut guest, &["news"]).await["type"], "subscribed");
    // Refused: an error with the refusal's status; the connection and its selection stay.
    let refused = subscribe(&mut guest, &["secret"]).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["status"], 403);
    assert_eq!(refused["message"], "secret topics are for admin");
    let id = broker
        .publish_now(&Topic::new("news").unwrap(), Event::new("still here"))
        .unwrap();
    assert_eq!(recv_json(&mut guest).await["id"], id.to_string());

    let mut admin = connect(format!("ws://{addr}/ws"), Some("admin")).await;
    let subscribed = subscribe(&mut admin, &["secret"]).await;
    assert_eq!(subscribed["topics"], serde_json::json!(["secret"]));

    // The same hooks decide the URL's first subscription, before the upgrade: an HTTP answer.
    let (_, head) = raw_upgrade_to(addr, "/ws?topic=secret", "x-user: guest\r\n").await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let (_, head) = raw_upgrade_to(addr, "/ws?topic=secret", "x-user: admin\r\n").await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // A `from` that does not decode is refused before the upgrade; one that is no cursor is
    // an id for the broker to place (a gap when it cannot), as a command's is.
    let (_, head) = raw_upgrade_to(addr, "/ws?topic=news&from=%zz", "").await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let (_, head) = raw_upgrade_to(addr, "/ws?topic=news&from=zz", "").await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
}

/// The access the hooks grant ends with the connection: an idle connection is closed with
/// 1008 "expired" when its deadline passes (a timer; no delivery needs to happen).
#[tokio::test]
async fn an_expired_access_closes_the_connection_with_1008() {
    let broker = MemoryBroker::default();
    let gate = Gate {
        expires: Some(Duration::from_millis(200)),
    };
    let addr = hyper_server(Endpoint::new(broker, Config::default()).with_hooks(gate)).await;
    let mut client = connect(format!("ws://{addr}/ws"), None).await;
    assert_eq!(
        subscribe(&mut client, &["news"]).await["type"],
        "subscribed"
    );
    let closed = timeout(LIMIT, client.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Message::Close(Some(frame)) = closed else {
        panic!("{closed:?}")
    };
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (1008, "expired")
    );
}

/// `raw_upgrade` with a request target of our choosing.
async fn raw_upgrade_to(addr: SocketAddr, target: &str, extra: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    (stream, String::from_utf8(head).unwrap())
}

/// A selection is read as Mercure reads selectors, in a command as in the URL: a URI template
/// follows every topic it expands to, and `*` every topic.
#[tokio::test]
async fn templates_and_star_select_topics_in_commands_and_in_the_url() {
    let broker = MemoryBroker::default();
    let addr = hyper_server(Endpoint::new(broker.clone(), Config::default())).await;
    let mut by_command = connect(format!("ws://{addr}/ws"), None).await;
    let subscribed = subscribe(&mut by_command, &["/books/{id}"]).await;
    assert_eq!(subscribed["topics"], serde_json::json!(["/books/{id}"]));
    let mut by_url = connect(format!("ws://{addr}/ws?topic=*"), None).await;
    assert_eq!(
        recv_json(&mut by_url).await["topics"],
        serde_json::json!(["*"])
    );
    broker
        .publish_now(&Topic::new("/authors/1").unwrap(), Event::new("author"))
        .unwrap();
    broker
        .publish_now(&Topic::new("/books/7").unwrap(), Event::new("book"))
        .unwrap();
    assert_eq!(recv_json(&mut by_command).await["data"], "book");
    assert_eq!(recv_json(&mut by_url).await["data"], "author");
    assert_eq!(recv_json(&mut by_url).await["data"], "book");
}
