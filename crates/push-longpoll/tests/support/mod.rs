//! The example server's application (`examples/server/app.rs`), started on loopback for the
//! tests that speak HTTP to it.
#![allow(dead_code)]

use std::net::SocketAddr;

use push_broker::MemoryBroker;
use push_longpoll::server::{Config, Endpoint};
use tokio::net::TcpListener;

#[path = "../../examples/server/app.rs"]
mod app;

/// The example's application on 127.0.0.1 (a free port), on `broker` with `config`: its
/// address and the endpoint (whose broker the test publishes on).
pub(crate) async fn start(
    broker: MemoryBroker,
    config: Config,
) -> (SocketAddr, Endpoint<MemoryBroker>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let poll = Endpoint::new(broker, config);
    tokio::spawn(app::run(
        listener,
        poll.clone(),
        push_net::ServerConfig::default(),
    ));
    (addr, poll)
}
