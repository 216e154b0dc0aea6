//! The JSON push protocol over WebSocket on an in-memory broker, with a tick every second on
//! topic `time`.
//!
//! ```text
//! cargo run -p push-ws --example server -- 127.0.0.1:8080
//! cargo run -p pushcat -- ws ws://127.0.0.1:8080/ --subscribe time --count 3
//! ```
//!
//! Reconnect with `--from ID` (the `id` of the last event seen) to resume where you left off.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_net::{Acceptor, ServerConfig, StallGuard};
use push_ws::{AcceptConfig, ConnectionConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("ADDR: {e}")))?;
    // The accept back-off, the handshake and write-stall timeouts: push-net's documented
    // defaults, shared with the other push servers.
    let server = ServerConfig::default();
    let mut acceptor = Acceptor::bind(addr, &server)?;
    println!(
        "push server on ws://{}/ (topic \"time\")",
        acceptor.local_addr()?
    );
    let broker = MemoryBroker::default();
    // Expires history on time, also on topics nobody publishes to or subscribes to again.
    broker.spawn_sweeper();

    let ticker = broker.clone();
    tokio::spawn(async move {
        let time = Topic::new("time").expect("a valid topic name");
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        loop {
            interval.tick().await;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            if ticker
                .publish_now(&time, Event::new(now.to_string()).with_event("tick"))
                .is_err()
            {
                return;
            }
        }
    });

    let accept = AcceptConfig::default().handshake_timeout(server.get_handshake_timeout());
    let run = ConnectionConfig::default();
    loop {
        let (stream, peer) = acceptor.accept().await?;
        let stream = StallGuard::new(stream, server.get_write_stall_timeout());
        let (accept, run, broker) = (accept.clone(), run.clone(), broker.clone());
        tokio::spawn(async move {
            // The handshake is bounded by `AcceptConfig::handshake_timeout`.
            match push_ws::accept(stream, &accept).await {
                Ok((ws, _)) => match push_ws::serve(ws, broker, &run).await {
                    Ok(ended) => println!("{peer}: {ended:?}"),
                    Err(e) => println!("{peer}: {e}"),
                },
                Err(e) => println!("{peer}: handshake failed: {e}"),
            }
        });
    }
}
