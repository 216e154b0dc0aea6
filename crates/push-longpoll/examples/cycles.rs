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

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

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

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "poll".to_owned());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
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
            _ => {
                let broker = MemoryBroker::default();
                let before = broker.head();
                broker
                    .publish_now(
                        &Topic::new("t").expect("topic"),
                        Event::new(
                            "an event of about a hundred bytes, as a realistic small payload",
                        )
                        .with_event("update"),
                    )
                    .expect("publish");
                let handler = Arc::new(Handler::new(broker, Config::default()));
                tokio::spawn(serve(listener, handler));
                format!("/poll?topic=t&since={before}&wait=0")
            }
        };
        let mut sender = client(addr).await;
        cycles(&mut sender, &target, n).await
    });
    println!("{mode}: {n} cycles, last body {bytes} bytes");
}
