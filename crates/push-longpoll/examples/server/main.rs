//! A long-poll server on the embedded broker, to try with curl:
//!
//! ```text
//! cargo run --release -p push-longpoll --example server -- 127.0.0.1:8080
//! curl -i 'http://127.0.0.1:8080/poll?topic=news&wait=20'          # held until...
//! curl -d 'hello' 'http://127.0.0.1:8080/publish?topic=news'       # ...this publishes
//! curl -i 'http://127.0.0.1:8080/poll?topic=news&since=CURSOR&wait=0'
//! ```
//!
//! The library gives the `GET /poll` answer (`push_longpoll::server::Endpoint`); the demo
//! `POST /publish` and the accept loop are this example's own (`app.rs`).

use push_broker::MemoryBroker;
use push_longpoll::server::{Config, Endpoint};
use push_net::ServerConfig;

mod app;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("ADDR: {e}")))?;
    // Timeouts, the accept pause and the HTTP/2 limits: the documented defaults.
    let config = ServerConfig::default();
    let listener = push_net::bind(addr, &config)?;
    eprintln!(
        "push-longpoll example: listening on http://{}  (GET /poll?topic=T[&since=C][&wait=S], POST /publish?topic=T)",
        listener.local_addr()?
    );
    let broker = MemoryBroker::default();
    // Expires history on time, also on topics nobody publishes to or polls again.
    broker.spawn_sweeper();
    let poll = Endpoint::new(broker, Config::default());
    app::run(listener, poll, config).await
}
