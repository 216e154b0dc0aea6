//! WebSocket over HTTP/2 (RFC 8441) on the hub's one port: a real HTTP/2 client (the `h2`
//! crate with the extended CONNECT protocol) opens `/ws` with `:protocol websocket` over h2c
//! with prior knowledge and over TLS with ALPN h2, runs the push-ws protocol on the stream, and
//! gets the same refusals as over HTTP/1.1 (a cross-site Origin, a missing token) plus the one
//! of RFC 8441 (a `:protocol` other than websocket).

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use h2::client::SendRequest;
use http::{Method, Request, StatusCode};
use push_core::{Broker, Event, Topic};
use push_net::H2Stream;
use support::{args, start};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

const LIMIT: Duration = Duration::from_secs(10);

/// An HTTP/2 client on `io`, once the hub's SETTINGS allowed extended CONNECT.
async fn h2_client<T>(io: T) -> SendRequest<Bytes>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (send, connection) = h2::client::handshake(io).await.unwrap();
    tokio::spawn(connection);
    let mut send = send.ready().await.unwrap();
    // Bounded: 2,000 × 5 ms.
    for _ in 0..2000 {
        if send.is_extended_connect_protocol_enabled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        send = send.ready().await.unwrap();
    }
    assert!(
        send.is_extended_connect_protocol_enabled(),
        "the hub advertises SETTINGS_ENABLE_CONNECT_PROTOCOL"
    );
    send
}

/// An extended CONNECT of `path_and_query` with `protocol`, and extra headers.
fn connect(authority: &str, path: &str, protocol: &str, headers: &[(&str, &str)]) -> Request<()> {
    let mut builder = Request::builder()
        .method(Method::CONNECT)
        .uri(format!("https://{authority}{path}"))
        .header("sec-websocket-version", "13")
        .extension(h2::ext::Protocol::from(protocol));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap()
}

/// Opens a WebSocket on `send`: the response status and, when it is 200, the socket.
async fn open(
    send: &SendRequest<Bytes>,
    request: Request<()>,
) -> (StatusCode, Option<WebSocketStream<H2Stream>>) {
    let mut send = send.clone().ready().await.unwrap();
    let (response, stream) = send.send_request(request, false).unwrap();
    let response = timeout(LIMIT, response).await.unwrap().unwrap();
    let status = response.status();
    if status != StatusCode::OK {
        return (status, None);
    }
    let io = H2Stream::new(stream, response.into_body());
    let ws = WebSocketStream::from_raw_socket(io, Role::Client, None).await;
    (status, Some(ws))
}

async fn next_event(ws: &mut WebSocketStream<H2Stream>) -> String {
    timeout(LIMIT, async {
        loop {
            match ws.next().await.unwrap().unwrap() {
                Message::Text(text) if text.contains("\"event\"") => return text.to_string(),
                _ => {}
            }
        }
    })
    .await
    .unwrap()
}

/// Everything the hub must do over one HTTP/2 connection: two WebSockets side by side (one
/// subscribed by its URL, one by a command), a published event on both, the refusals.
async fn websockets_over(send: SendRequest<Bytes>, authority: &str, hub: &support::InProcess) {
    let from = hub.broker.head();
    let by_url = connect(
        authority,
        &format!("/ws?topic=news&from={from}"),
        "websocket",
        &[],
    );
    let (status, ws) = open(&send, by_url).await;
    assert_eq!(status, StatusCode::OK);
    let mut by_url = ws.unwrap();
    let (status, ws) = open(&send, connect(authority, "/ws", "websocket", &[])).await;
    assert_eq!(status, StatusCode::OK);
    let mut by_command = ws.unwrap();
    let subscribe = r#"{"type":"subscribe","topics":["news"]}"#;
    by_command.send(Message::text(subscribe)).await.unwrap();
    let ack = timeout(LIMIT, by_command.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(ack.to_text().unwrap().contains("subscribed"), "{ack}");

    let topic = Topic::new("news").unwrap();
    hub.broker
        .publish(std::slice::from_ref(&topic), Event::new("over h2"))
        .await
        .unwrap();
    for ws in [&mut by_url, &mut by_command] {
        let event = next_event(ws).await;
        assert!(event.contains("\"data\":\"over h2\""), "{event}");
    }

    // RFC 8441's own refusal: a protocol /ws does not speak. The Origin policy of `/ws` over
    // HTTP/1.1 applies unchanged.
    let other = connect(authority, "/ws", "chat", &[]);
    assert_eq!(open(&send, other).await.0, StatusCode::NOT_IMPLEMENTED);
    let cross = connect(
        authority,
        "/ws",
        "websocket",
        &[("origin", "https://evil.example")],
    );
    assert_eq!(open(&send, cross).await.0, StatusCode::FORBIDDEN);
    // An extended CONNECT elsewhere is answered by that route, as any request is.
    let elsewhere = connect(authority, "/nope", "websocket", &[]);
    assert_eq!(open(&send, elsewhere).await.0, StatusCode::NOT_FOUND);

    // Closing one WebSocket leaves the connection and the other socket working.
    by_url.close(None).await.unwrap();
    hub.broker
        .publish(std::slice::from_ref(&topic), Event::new("still here"))
        .await
        .unwrap();
    let event = next_event(&mut by_command).await;
    assert!(event.contains("still here"), "{event}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_over_h2c_with_prior_knowledge() {
    let hub = start(args());
    let tcp = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let send = h2_client(tcp).await;
    let authority = hub.addr.to_string();
    websockets_over(send, &authority, &hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_over_tls_with_alpn_h2() {
    let dir = support::temp_dir();
    let identity = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, identity.cert.pem()).unwrap();
    std::fs::write(&key, identity.key_pair.serialize_pem()).unwrap();
    let mut hub_args = args();
    hub_args.tls_cert = Some(cert);
    hub_args.tls_key = Some(key);
    let hub = start(hub_args);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(identity.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let send = h2_client(tls).await;
    let authority = format!("localhost:{}", hub.addr.port());
    websockets_over(send, &authority, &hub).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_over_h2_is_authorized_by_the_hub_tokens() {
    let mut hub_args = args();
    hub_args.anonymous = false;
    let hub = start(hub_args);
    let tcp = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let send = h2_client(tcp).await;
    let authority = hub.addr.to_string();
    let path = "/ws?topic=private-room";
    let refused = connect(&authority, path, "websocket", &[]);
    assert_eq!(open(&send, refused).await.0, StatusCode::UNAUTHORIZED);
    let token = support::token(push_hub::token::Claims::new().subscribe("private-room"));
    let bearer = format!("Bearer {token}");
    let allowed = connect(&authority, path, "websocket", &[("authorization", &bearer)]);
    let (status, ws) = open(&send, allowed).await;
    assert_eq!(status, StatusCode::OK);
    let mut ws = ws.unwrap();
    let topic = Topic::new("private-room").unwrap();
    let event = Event::new("for the token").with_audience(push_core::Audience::Private);
    hub.broker
        .publish(std::slice::from_ref(&topic), event)
        .await
        .unwrap();
    let event = next_event(&mut ws).await;
    assert!(event.contains("for the token"), "{event}");
}

/// Over HTTP/2 a WebSocket is one stream of the connection: its quota permit is given back
/// when the WebSocket ends, not when the connection does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_quota_counts_websockets_not_h2_connections() {
    let mut hub_args = args();
    hub_args.max_streams_per_client = 1;
    let hub = start(hub_args);
    let tcp = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let send = h2_client(tcp).await;
    let authority = hub.addr.to_string();
    let request = || connect(&authority, "/ws", "websocket", &[]);
    let (status, first) = open(&send, request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        open(&send, request()).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let mut first = first.unwrap();
    first.close(None).await.unwrap();
    // The close handshake ends the server's side; then its permit is free again.
    while let Some(Ok(_)) = timeout(LIMIT, first.next()).await.unwrap() {}
    let mut reopened = None;
    for _ in 0..100 {
        match open(&send, request()).await {
            (StatusCode::OK, ws) => {
                reopened = ws;
                break;
            }
            (status, _) => assert_eq!(status, StatusCode::TOO_MANY_REQUESTS),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        reopened.is_some(),
        "the permit of the closed WebSocket came back"
    );
}
