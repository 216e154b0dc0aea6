//! RFC 8441 WebSocket over HTTP/2 on an `h2` server connection, in-process over loopback.

use crate::support;

use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_ws::server::h2::H2Stream;
use push_ws::server::{Config, Ended, Error, Open};
use push_ws::tungstenite::Message;
use push_ws::tungstenite::protocol::Role;
use support::LIMIT;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;

/// An h2 server with the extended CONNECT protocol that serves the push protocol.
async fn h2_server(
    broker: MemoryBroker,
) -> (SocketAddr, mpsc::UnboundedReceiver<Result<Ended, Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut connection = h2::server::Builder::new()
            .enable_connect_protocol()
            .handshake::<_, Bytes>(tcp)
            .await
            .unwrap();
        while let Some(Ok((request, respond))) = connection.accept().await {
            let (broker, tx) = (broker.clone(), tx.clone());
            tokio::spawn(async move {
                let config = Config::default();
                let outcome = match push_ws::server::h2::accept(request, respond, &config).await {
                    Ok((ws, _, request)) => {
                        push_ws::server::drive(ws, request, broker, Open, &config).await
                    }
                    Err(e) => Err(e),
                };
                let _ = tx.send(outcome);
            });
        }
    });
    (addr, rx)
}

fn connect_request(addr: SocketAddr, origin: Option<&str>) -> http::Request<()> {
    let mut builder = http::Request::builder()
        .method(http::Method::CONNECT)
        .version(http::Version::HTTP_2)
        .uri(format!("http://{addr}/ws"))
        .header("sec-websocket-version", "13")
        .extension(h2::ext::Protocol::from_static("websocket"));
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    builder.body(()).unwrap()
}

#[tokio::test]
async fn websocket_over_http2_extended_connect() {
    let broker = MemoryBroker::default();
    let (addr, mut outcomes) = h2_server(broker.clone()).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    // The server's SETTINGS arrive shortly after the handshake.
    timeout(LIMIT, async {
        while !client.is_extended_connect_protocol_enabled() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();

    // A cross-site origin is refused on its stream; the connection stays usable.
    let (response, _send) = client
        .send_request(connect_request(addr, Some("https://evil.example")), false)
        .unwrap();
    assert_eq!(
        timeout(LIMIT, response).await.unwrap().unwrap().status(),
        403
    );
    let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
    assert!(matches!(outcome, Err(Error::Refused(_))));

    // Two WebSockets on the same HTTP/2 connection.
    let mut sockets = Vec::new();
    for _ in 0..2 {
        let mut client = client.clone().ready().await.unwrap();
        let (response, send) = client
            .send_request(connect_request(addr, None), false)
            .unwrap();
        let response = timeout(LIMIT, response).await.unwrap().unwrap();
        assert_eq!(response.status(), 200);
        let stream = H2Stream::new(send, response.into_body());
        let mut ws = WebSocketStream::from_raw_socket(stream, Role::Client, None).await;
        let subscribe = r#"{"type":"subscribe","topics":["h2"]}"#;
        ws.send(Message::text(subscribe)).await.unwrap();
        let ack = timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap();
        assert!(ack.to_text().unwrap().contains("subscribed"));
        sockets.push(ws);
    }
    let id = broker
        .publish_now(&Topic::new("h2").unwrap(), Event::new("both"))
        .unwrap();
    for ws in &mut sockets {
        let event = timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap();
        let want = format!(r#"{{"type":"event","topic":"h2","id":"{id}","data":"both"}}"#);
        assert_eq!(event, Message::text(want));
    }
    for mut ws in sockets {
        ws.close(None).await.unwrap();
        support::expect_client_close(&mut ws, &mut outcomes).await;
    }
}
