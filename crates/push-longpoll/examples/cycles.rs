//! N poll cycles (request → event available → JSON response) over one keep-alive loopback
//! connection, through `serve`, or N requests to a plain hyper "hello" service: the same client
//! and connection settings as `benches/benches/longpoll.rs`. Meant to be run under
//! `valgrind --tool=callgrind` to compare instructions per cycle (diff two values of N):
//!
//! ```text
//! cargo build --release -p push-longpoll --example cycles
//! valgrind --tool=callgrind target/release/examples/cycles poll 2000
//! valgrind --tool=callgrind target/release/examples/cycles hello 2000
//! ```
//!
//! `cycles time ROUNDS` instead alternates batches of both on the benchmark's runtime (two
//! workers) and prints the best and median time per cycle of each: a quick wall-clock check that
//! noise from other processes disturbs less than a single criterion run.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_longpoll::{Config, Handler, serve};
use tokio::net::{TcpListener, TcpStream};

async fn hello_server(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|_req| async {
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"hello"))))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn client(addr: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

async fn cycles(sender: &mut SendRequest<Empty<Bytes>>, target: &str, n: u64) -> usize {
    let mut bytes = 0;
    for _ in 0..n {
        sender.ready().await.expect("ready");
        let request = http::Request::get(target)
            .header("host", "bench")
            .body(Empty::new())
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.expect("body");
        bytes = body.to_bytes().len();
    }
    bytes
}

async fn poll_server(listener: TcpListener) -> String {
    let broker = MemoryBroker::default();
    let before = broker.head();
    broker
        .publish_now(
            &Topic::new("t").expect("topic"),
            Event::new("an event of about a hundred bytes, as a realistic small payload")
                .with_event("update"),
        )
        .expect("publish");
    let handler = Arc::new(Handler::new(broker, Config::default()));
    tokio::spawn(serve(listener, handler));
    format!("/poll?topic=t&since={before}&wait=0")
}

fn time(rounds: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (mut poll, mut hello, target) = rt.block_on(async {
        let p = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let h = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (pa, ha) = (p.local_addr().expect("addr"), h.local_addr().expect("addr"));
        let target = poll_server(p).await;
        tokio::spawn(hello_server(h));
        (client(pa).await, client(ha).await, target)
    });
    const BATCH: u64 = 2000;
    let (mut p, mut h) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = tokio::time::Instant::now();
        rt.block_on(cycles(&mut poll, &target, BATCH));
        p.push(start.elapsed() / BATCH as u32);
        let start = tokio::time::Instant::now();
        rt.block_on(cycles(&mut hello, "/", BATCH));
        h.push(start.elapsed() / BATCH as u32);
    }
    p.sort();
    h.sort();
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64();
    println!(
        "per cycle: push-longpoll best {:?} median {:?}; hyper-hello best {:?} median {:?}; \
         rate ratio best {:.3} median {:.3}",
        p[0],
        p[rounds / 2],
        h[0],
        h[rounds / 2],
        ratio(p[0], h[0]),
        ratio(p[rounds / 2], h[rounds / 2]),
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "poll".to_owned());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    if mode == "time" {
        time(usize::try_from(n).unwrap_or(10).max(1));
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let bytes = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let target = match mode.as_str() {
            "hello" => {
                tokio::spawn(hello_server(listener));
                "/".to_owned()
            }
            _ => poll_server(listener).await,
        };
        let mut sender = client(addr).await;
        cycles(&mut sender, &target, n).await
    });
    println!("{mode}: {n} cycles, last body {bytes} bytes");
}
