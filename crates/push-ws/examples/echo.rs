//! An echo server on the push-ws accept path, for conformance runs with standard WebSocket
//! test clients (for example the Autobahn fuzzing client).
//!
//! ```text
//! cargo run --release -p push-ws --example echo -- 127.0.0.1:9001
//! ```
//!
//! It echoes text and binary messages and accepts any Origin; limits and heartbeats are the
//! defaults of [`AcceptConfig`] and [`ConnectionConfig`].

use std::task::{Context, Poll};
use std::time::Duration;

use push_ws::tungstenite::Message;
use push_ws::{AcceptConfig, ConnectionConfig, Handler, Outbox};
use tokio::net::TcpListener;

/// Sends every data message back.
#[derive(Debug)]
struct Echo;

impl Handler for Echo {
    fn on_message(&mut self, message: Message, outbox: &mut Outbox) {
        outbox.push(message);
    }

    fn poll_outgoing(&mut self, _cx: &mut Context<'_>) -> Poll<Option<Message>> {
        Poll::Ready(None)
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!("echo server on ws://{}", listener.local_addr()?);
    // Conformance suites send messages up to 16 MiB.
    let accept = AcceptConfig::default()
        .any_origin()
        .max_message_size(16 << 20)
        .max_frame_size(16 << 20);
    let run = ConnectionConfig::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let (accept, run) = (accept.clone(), run.clone());
        tokio::spawn(async move {
            let handshake = push_ws::accept(stream, &accept);
            match tokio::time::timeout(Duration::from_secs(10), handshake).await {
                Ok(Ok((ws, _))) => {
                    if let Err(e) = push_ws::run(ws, &run, Echo).await {
                        eprintln!("connection ended: {e}");
                    }
                }
                Ok(Err(e)) => eprintln!("handshake failed: {e}"),
                Err(_) => eprintln!("handshake timed out"),
            }
        });
    }
}
