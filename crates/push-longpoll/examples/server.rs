//! A long-poll server on the embedded broker, to try with curl:
//!
//! ```text
//! cargo run --release -p push-longpoll --features hyper --example server -- 127.0.0.1:8080
//! curl -i 'http://127.0.0.1:8080/poll?topic=news&wait=20'          # held until...
//! curl -d 'hello' 'http://127.0.0.1:8080/publish?topic=news'       # ...this publishes
//! curl -i 'http://127.0.0.1:8080/poll?topic=news&since=CURSOR&wait=0'
//! ```

use std::sync::Arc;

use push_broker::MemoryBroker;
use push_longpoll::{Config, Handler, serve_with};
use push_net::ServerConfig;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("ADDR: {e}")))?;
    // Timeouts, the accept back-off and the HTTP/2 limits: the documented defaults.
    let config = ServerConfig::default();
    let listener = push_net::bind(addr, &config)?;
    eprintln!(
        "push-longpoll example: listening on http://{}  (GET /poll?topic=T[&since=C][&wait=S], POST /publish?topic=T)",
        listener.local_addr()?
    );
    let broker = MemoryBroker::default();
    // Expires history on time, also on topics nobody publishes to or polls again.
    broker.spawn_sweeper();
    let handler = Arc::new(Handler::new(broker, Config::default()));
    serve_with(listener, handler, &config).await
}
