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
use push_ws::{AcceptConfig, ConnectionConfig};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "push server on ws://{}/ (topic \"time\")",
        listener.local_addr()?
    );
    let broker = MemoryBroker::default();

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

    let accept = AcceptConfig::default();
    let run = ConnectionConfig::default();
    loop {
        let (stream, peer) = listener.accept().await?;
        let (accept, run, broker) = (accept.clone(), run.clone(), broker.clone());
        tokio::spawn(async move {
            let handshake = push_ws::accept(stream, &accept);
            match tokio::time::timeout(Duration::from_secs(10), handshake).await {
                Ok(Ok((ws, _))) => match push_ws::serve(ws, broker, &run).await {
                    Ok(ended) => println!("{peer}: {ended:?}"),
                    Err(e) => println!("{peer}: {e}"),
                },
                Ok(Err(e)) => println!("{peer}: handshake failed: {e}"),
                Err(_) => println!("{peer}: handshake timed out"),
            }
        });
    }
}
