//! The JSON push protocol over WebSocket on an in-memory broker, with a tick every second on
//! topic `time`: the [`Endpoint`] served by push-net's hyper connection runner.
//!
//! ```text
//! cargo run -p push-ws --example server -- 127.0.0.1:8080
//! cargo run -p pushcat -- ws ws://127.0.0.1:8080/ --subscribe time --count 3
//! ```
//!
//! Reconnect with `--from ID` (the `id` of the last event seen) to resume where you left off, or
//! name the first subscription in the URL: `ws://127.0.0.1:8080/?topic=time`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper_util::service::TowerToHyperService;
use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_net::{Acceptor, ServerConfig};
use push_ws::server::{Config, Endpoint};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("ADDR: {e}")))?;
    // The accept pause, the handshake and write-stall timeouts: push-net's documented
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

    // The Origin policy, limits and heartbeat defaults; the write-stall timeout as the server's.
    let config = Config::default().with_write_stall_timeout(server.write_stall_timeout());
    let endpoint = Endpoint::new(broker, config);
    loop {
        // `accept` sets TCP_USER_TIMEOUT; `serve_http` bounds the handshake and guards writes.
        let (stream, peer) = acceptor.accept().await?;
        let service = TowerToHyperService::new(endpoint.clone());
        let server = server.clone();
        tokio::spawn(async move {
            if let Err(e) = push_net::serve_http(stream, service, &server, None).await {
                println!("{peer}: {e}");
            }
        });
    }
}
