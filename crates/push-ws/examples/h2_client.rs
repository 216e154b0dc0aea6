//! A WebSocket client over HTTP/2 (RFC 8441) with prior knowledge: opens `URL` with an
//! extended CONNECT (`:protocol websocket`), runs the push-ws protocol on the stream and prints
//! each message the server sends, one per line.
//!
//! ```text
//! cargo run -p push-ws --example h2_client -- 'http://127.0.0.1:8080/ws?topic=demo'
//! ```
//!
//! Any server that enables the extended CONNECT protocol and serves push-ws there will do:
//! push-hub's `/ws`, or a loop over `push_ws::server::h2::accept`.

use std::error::Error;
use std::time::Duration;

use futures_util::StreamExt as _;
use http::{Method, Request, StatusCode, Uri};
use push_ws::server::h2::H2Stream;
use push_ws::tungstenite::Message;
use push_ws::tungstenite::protocol::Role;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let url: Uri = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8080/ws?topic=demo".into())
        .parse()?;
    let authority = url.authority().ok_or("the URL has no host")?.as_str();
    let tcp = TcpStream::connect(authority).await?;
    let (send, connection) = h2::client::handshake(tcp).await?;
    tokio::spawn(connection);
    // The server says it takes extended CONNECT in its SETTINGS, right after the preface.
    let mut send = send.ready().await?;
    for _ in 0..100 {
        if send.is_extended_connect_protocol_enabled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        send = send.ready().await?;
    }
    if !send.is_extended_connect_protocol_enabled() {
        return Err("the server does not offer WebSocket over HTTP/2 (RFC 8441)".into());
    }
    let request = Request::builder()
        .method(Method::CONNECT)
        .uri(url)
        .header("sec-websocket-version", "13")
        .extension(h2::ext::Protocol::from_static("websocket"))
        .body(())?;
    let (response, stream) = send.send_request(request, false)?;
    let response = response.await?;
    if response.status() != StatusCode::OK {
        return Err(format!("refused: {}", response.status()).into());
    }
    let io = H2Stream::new(stream, response.into_body());
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Client, None).await;
    while let Some(message) = ws.next().await {
        match message? {
            Message::Text(text) => println!("{text}"),
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(())
}
