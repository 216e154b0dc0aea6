//! An echo server on the push-ws accept path, for conformance runs with standard WebSocket
//! test clients (for example the Autobahn fuzzing client).
//!
//! ```text
//! cargo run --release -p push-ws --example echo -- 127.0.0.1:9001
//! ```
//!
//! It echoes text and binary messages and accepts any Origin; limits and heartbeats are the
//! defaults of `push_ws::server::Config`.

use std::task::{Context, Poll};

use push_net::{Acceptor, ServerConfig, StallGuard};
use push_ws::server::{Config, Handler, OriginPolicy, Outbox};
use push_ws::tungstenite::Message;

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
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("ADDR: {e}")))?;
    // The accept pause, the handshake and write-stall timeouts: push-net's documented
    // defaults, shared with the other push servers.
    let server = ServerConfig::default();
    let mut acceptor = Acceptor::bind(addr, &server)?;
    println!("echo server on ws://{}", acceptor.local_addr()?);
    // Conformance suites send messages up to 16 MiB.
    let config = Config::default()
        .with_origin_policy(OriginPolicy::Any)
        .with_max_message_size(16 << 20)
        .with_max_frame_size(16 << 20)
        .with_handshake_timeout(server.handshake_timeout());
    loop {
        let (stream, _) = acceptor.accept().await?;
        let stream = StallGuard::new(stream, server.write_stall_timeout());
        let config = config.clone();
        tokio::spawn(async move {
            // The handshake is bounded by `Config::handshake_timeout`.
            match push_ws::server::accept(stream, &config).await {
                Ok((ws, _, _)) => {
                    if let Err(e) = push_ws::server::run(ws, &config, Echo).await {
                        eprintln!("connection ended: {e}");
                    }
                }
                Err(e) => eprintln!("handshake failed: {e}"),
            }
        });
    }
}
