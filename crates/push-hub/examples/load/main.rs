//! The anchor and the client of `cargo xtask load` (not an example to copy: a measuring
//! harness). `cargo xtask load idle|fanout|soak` builds it and the `push-hub` binary in
//! release and runs each as a child process: the hub side is the real binary, started with
//! its flags; the other side is the anchor here.
//!
//! ```text
//! load anchor ADDR                       # axum's Sse over a tokio broadcast channel
//! load client idle ADDR 5000,10000 [token | tls=CERT.pem | h2c]
//!                                        # idle subscribers, a mark after each step (each
//!                                        # with a token; over TLS or HTTP/2: measured apart)
//! load cert DIR                          # DIR/cert.pem and DIR/key.pem for `localhost`
//! load client fanout ADDR N VARIANT [smoke] [publish=ADDR]
//!                                        # N subscribers (public | template | private); the
//!                                        # events published to ADDR, or to another hub
//! load client soak ADDR SUBSCRIBERS [EVENTS] # 5,000 events, ~50 reconnects with the cursor
//! load client sparse ADDR N EVENTS PUBLISHERS [publish=ADDR]
//!                                        # N subscribers on N topics, one each event, the
//!                                        # events shared by PUBLISHERS connections
//! ```
//!
//! The anchor prints `listening ADDR` once bound (the hub, its banner); the client publishes
//! with `POST /.well-known/mercure` as any Mercure publisher does (a publisher token of the key
//! in `LOAD_JWT_KEY`, which xtask gives the hub too), prints `mark NAME` (and waits for a line
//! on stdin) where the server's figures are read, and `result NAME key=value…`.

mod apart;
mod client;
mod servers;
mod wire;

use std::net::SocketAddr;

const USAGE: &str = "usage: load anchor ADDR | load client idle|fanout|soak ADDR ARGS…";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let addr = |i: usize| -> SocketAddr { arg(i).parse().unwrap_or_else(|_| usage()) };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let ended = runtime.block_on(async {
        match arg(0) {
            "anchor" => servers::anchor(addr(1)).await,
            "cert" => apart::Via::make_certificate(std::path::Path::new(arg(1)))
                .map_err(std::io::Error::other),
            "client" => {
                match arg(1) {
                    "idle" => {
                        let counts: Vec<usize> =
                            arg(3).split(',').filter_map(|c| c.parse().ok()).collect();
                        let (via, token) = match args.get(4).map(String::as_str) {
                            Some("token") => (None, true),
                            Some(via) => (
                                Some(apart::Via::parse(via).map_err(std::io::Error::other)?),
                                false,
                            ),
                            None => (None, false),
                        };
                        client::idle(addr(2), &counts, via, token).await;
                    }
                    "fanout" => {
                        let n = arg(3).parse().unwrap_or_else(|_| usage());
                        let rest = args.get(5..).unwrap_or_default();
                        let publish_to = match rest.iter().find_map(|a| a.strip_prefix("publish="))
                        {
                            Some(other) => other.parse().unwrap_or_else(|_| usage()),
                            None => addr(2),
                        };
                        let smoke = rest.iter().any(|a| a == "smoke");
                        client::fanout(addr(2), publish_to, n, arg(4), smoke).await;
                    }
                    "sparse" => {
                        let n = arg(3).parse().unwrap_or_else(|_| usage());
                        let events = arg(4).parse().unwrap_or_else(|_| usage());
                        let publishers = arg(5).parse().unwrap_or_else(|_| usage());
                        let publish_to = match arg(6).strip_prefix("publish=") {
                            Some(other) => other.parse().unwrap_or_else(|_| usage()),
                            None => addr(2),
                        };
                        client::sparse(addr(2), publish_to, n, events, publishers).await;
                    }
                    "soak" => {
                        let subscribers = arg(3).parse().unwrap_or(10);
                        client::soak(addr(2), subscribers, arg(4).parse().unwrap_or(5000)).await;
                    }
                    _ => usage(),
                }
                Ok(())
            }
            _ => usage(),
        }
    });
    if let Err(e) = ended {
        eprintln!("load: {e}");
        std::process::exit(1);
    }
    // The client's subscriber tasks are still reading: end without waiting for them.
    std::process::exit(0);
}

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2);
}
