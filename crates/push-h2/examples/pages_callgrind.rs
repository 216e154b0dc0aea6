//! A deterministic driver for instruction counts: serves N pages over an in-memory duplex to an
//! h2 client, on a current-thread runtime, the way `benches/benches/h2_push.rs` does.
//!
//! ```text
//! cargo build --release -p push-h2 --example pages_callgrind
//! valgrind --tool=callgrind target/release/examples/pages_callgrind push-h2 2000 [IN_FLIGHT] [tcp]
//! ```
//!
//! Modes: `push-h2` and `raw-h2` (client allows push, one push per page; `raw-fmt` is raw h2 with
//! a `format!`ed URI string), `nopush-h2` and `no-push-server` (client disables push). Run twice
//! with different N and subtract to get the instructions per page. `IN_FLIGHT` client tasks
//! (default 1); `tcp` serves over loopback TCP on a 2-worker runtime instead, as the bench does.

use bytes::{Bytes, BytesMut};
use h2::RecvStream;
use h2::client::SendRequest;
use http::uri::{self, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use push_h2::{ParentStream, PushConfig, PushConnection, PushOutcome};
use tokio::io::{AsyncRead, AsyncWrite};

const PAGE: &[u8] = &[b'p'; 2048];
const ASSET: &[u8] = &[b'a'; 1024];

#[derive(Clone, Copy, PartialEq)]
enum Server {
    PushH2,
    RawH2,
    RawFmt,
    NoPush,
}

async fn connection<T: AsyncRead + AsyncWrite + Unpin>(socket: T, mode: Server) {
    let Ok(mut conn) = h2::server::handshake(socket).await else {
        return;
    };
    let config = PushConfig::new(Scheme::HTTP)
        .max_per_connection(usize::MAX)
        .max_concurrent(1024);
    let pushes = PushConnection::new(config);
    let mut n = 0u64;
    let mut target = String::new();
    while let Some(Ok((request, mut respond))) = conn.accept().await {
        n += 1;
        match mode {
            Server::PushH2 => {
                pushes.observe(&conn);
                let mut parent = ParentStream::new(&pushes, &request, respond);
                target.clear();
                std::fmt::Write::write_fmt(&mut target, format_args!("/asset/{n}")).unwrap();
                let outcome = parent
                    .push_target(&target, None, Some(ASSET.len() as u64))
                    .expect("valid push");
                if let PushOutcome::Pushed(stream) = outcome {
                    stream
                        .send_now(Response::new(()), Bytes::from_static(ASSET))
                        .expect("pushed");
                }
                parent
                    .send_response(Response::new(()), false)
                    .expect("response");
                parent
                    .send_data(Bytes::from_static(PAGE), true)
                    .expect("page");
            }
            Server::RawH2 => {
                target.clear();
                std::fmt::Write::write_fmt(&mut target, format_args!("/asset/{n}")).unwrap();
                let mut parts = uri::Parts::default();
                parts.scheme = Some(Scheme::HTTP);
                parts.authority = request.uri().authority().cloned();
                parts.path_and_query = Some(PathAndQuery::try_from(&*target).expect("path"));
                let mut push = Request::new(());
                *push.uri_mut() = Uri::from_parts(parts).expect("push uri");
                if let Ok(mut pushed) = respond.push_request(push) {
                    let mut stream = pushed
                        .send_response(Response::new(()), false)
                        .expect("pushed");
                    stream
                        .send_data(Bytes::from_static(ASSET), true)
                        .expect("pushed body");
                }
                let mut stream = respond
                    .send_response(Response::new(()), false)
                    .expect("response");
                stream
                    .send_data(Bytes::from_static(PAGE), true)
                    .expect("page");
            }
            Server::RawFmt => {
                let uri = format!(
                    "http://{}/asset/{n}",
                    request.uri().authority().expect("authority")
                );
                let push = Request::get(uri).body(()).expect("push request");
                if let Ok(mut pushed) = respond.push_request(push) {
                    let mut stream = pushed
                        .send_response(Response::new(()), false)
                        .expect("pushed");
                    stream
                        .send_data(Bytes::from_static(ASSET), true)
                        .expect("pushed body");
                }
                let mut stream = respond
                    .send_response(Response::new(()), false)
                    .expect("response");
                stream
                    .send_data(Bytes::from_static(PAGE), true)
                    .expect("page");
            }
            Server::NoPush => {
                let mut stream = respond
                    .send_response(Response::new(()), false)
                    .expect("response");
                stream
                    .send_data(Bytes::from_static(PAGE), true)
                    .expect("page");
            }
        }
    }
}

async fn read(mut body: RecvStream) -> usize {
    let mut out = BytesMut::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        out.extend_from_slice(&chunk);
    }
    out.len()
}

async fn page(send: &SendRequest<Bytes>) -> usize {
    let mut send = send.clone().ready().await.expect("ready");
    let request = Request::get("http://bench.local/")
        .body(())
        .expect("request");
    let (mut response, _) = send.send_request(request, true).expect("send");
    let mut promises = response.push_promises();
    let response = response.await.expect("response");
    let mut bytes = read(response.into_body()).await;
    while let Some(Ok(promise)) = promises.push_promise().await {
        let (_, pushed) = promise.into_parts();
        bytes += read(pushed.await.expect("pushed response").into_body()).await;
    }
    bytes
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "push-h2".into());
    let count: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let in_flight: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let (server, enable_push) = match mode.as_str() {
        "push-h2" => (Server::PushH2, true),
        "raw-h2" => (Server::RawH2, true),
        "raw-fmt" => (Server::RawFmt, true),
        "nopush-h2" => (Server::PushH2, false),
        "no-push-server" => (Server::NoPush, false),
        other => panic!("unknown mode {other}"),
    };
    let tcp = args.next().is_some_and(|t| t == "tcp");
    let rt = if tcp {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread().build()
    }
    .expect("runtime");
    let start = std::time::Instant::now();
    let bytes = rt.block_on(async move {
        let send = if tcp {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let client_io = tokio::net::TcpStream::connect(listener.local_addr().expect("addr"))
                .await
                .expect("connect");
            let (server_io, _) = listener.accept().await.expect("accept");
            server_io.set_nodelay(true).expect("nodelay");
            client_io.set_nodelay(true).expect("nodelay");
            tokio::spawn(connection(server_io, server));
            let (send, conn) = h2::client::Builder::new()
                .enable_push(enable_push)
                .handshake::<_, Bytes>(client_io)
                .await
                .expect("handshake");
            tokio::spawn(async move {
                let _ = conn.await;
            });
            send
        } else {
            let (client_io, server_io) = tokio::io::duplex(64 * 1024);
            tokio::spawn(connection(server_io, server));
            let (send, conn) = h2::client::Builder::new()
                .enable_push(enable_push)
                .handshake::<_, Bytes>(client_io)
                .await
                .expect("handshake");
            tokio::spawn(async move {
                let _ = conn.await;
            });
            send
        };
        let mut tasks = Vec::new();
        for t in 0..in_flight {
            let send = send.clone();
            let share = count / in_flight + u64::from(t < count % in_flight);
            tasks.push(tokio::spawn(async move {
                let mut total = 0;
                for _ in 0..share {
                    total += page(&send).await;
                }
                total
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("client task");
        }
        total
    });
    let expected = if server == Server::NoPush || !enable_push {
        PAGE.len()
    } else {
        PAGE.len() + ASSET.len()
    };
    let elapsed = start.elapsed();
    let all = bytes == expected * count as usize;
    println!("{mode}: {count} pages in {elapsed:?}, {bytes} bytes (all pushed: {all})");
}
