//! push-h2: pages per second over one loopback HTTP/2 connection (h2::client as the load client;
//! h2load always disables push, so it cannot measure this).
//!
//! - `h2_push/{push-h2,raw-h2}`: every page pushes one 1 KiB resource (a fresh path per page, so
//!   the diary never skips one): through `ParentStream::push_target` + `PushedStream::send_now`,
//!   against h2's raw `push_request` with the absolute URI a careful user builds from parts (the
//!   connection's scheme, the request's authority, the path). Both write the path into one reused
//!   buffer; same page, headers and bodies.
//! - `h2_nopush/{push-h2,no-push-server}`: the client sends `SETTINGS_ENABLE_PUSH = 0`; push-h2
//!   still asks to push on every page (remembered as disabled after the first), against a server
//!   that never pushes.
//!
//! Eight pages in flight at a time; the client reads every response and pushed body.
//!
//! The same binary is the deterministic driver for instruction counts (`drive` mode: a
//! current-thread runtime and an in-memory duplex, one page at a time unless told otherwise):
//!
//! ```text
//! cargo bench -p push-benches --bench h2_push --no-run   # prints the binary's path
//! valgrind --tool=callgrind BINARY drive push-h2 2000 [IN_FLIGHT]
//! ```
//!
//! Modes: `push-h2`, `raw-h2` (the client allows push), `nopush-h2`, `no-push-server` (it does
//! not). Run twice with different page counts and subtract for the instructions per page.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, criterion_group};
use h2::RecvStream;
use h2::client::SendRequest;
use http::uri::{self, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use push_h2::{ParentStream, PushConfig, PushConnection, PushOutcome};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

const IN_FLIGHT: u64 = 8;
const PAGE: &[u8] = &[b'p'; 2048];
const ASSET: &[u8] = &[b'a'; 1024];

#[derive(Clone, Copy)]
enum Server {
    PushH2,
    RawH2,
    NoPush,
}

async fn serve(listener: TcpListener, mode: Server) {
    while let Ok((socket, _)) = listener.accept().await {
        socket.set_nodelay(true).expect("nodelay");
        tokio::spawn(connection(socket, mode));
    }
}

async fn connection<T: AsyncRead + AsyncWrite + Unpin>(socket: T, mode: Server) {
    let Ok(mut conn) = h2::server::handshake(socket).await else {
        return;
    };
    let config = PushConfig::new(Scheme::HTTP)
        .with_max_per_connection(usize::MAX)
        .with_max_concurrent(1024);
    let pushes = PushConnection::new(config);
    let counter = Arc::new(AtomicU64::new(0));
    let mut target = String::new();
    while let Some(Ok((request, mut respond))) = conn.accept().await {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        target.clear();
        if !matches!(mode, Server::NoPush) {
            write!(target, "/asset/{n}").expect("target");
        }
        match mode {
            Server::PushH2 => {
                pushes.observe(&conn);
                let mut parent = ParentStream::new(&pushes, &request, respond);
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
                send_page(&mut respond);
            }
            Server::NoPush => send_page(&mut respond),
        }
    }
}

/// The page itself: the response and its body, as every server answers it.
fn send_page(respond: &mut h2::server::SendResponse<Bytes>) {
    let mut stream = respond
        .send_response(Response::new(()), false)
        .expect("response");
    stream
        .send_data(Bytes::from_static(PAGE), true)
        .expect("page");
}

async fn read(mut body: RecvStream) -> usize {
    let mut out = BytesMut::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        out.extend_from_slice(&chunk);
    }
    out.len()
}

async fn page(send: &SendRequest<Bytes>, url: &str) -> usize {
    let mut send = send.clone().ready().await.expect("ready");
    let request = Request::get(url).body(()).expect("request");
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

async fn client(rt: &Runtime, mode: Server, enable_push: bool) -> (SendRequest<Bytes>, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(serve(listener, mode));
    let socket = TcpStream::connect(addr).await.expect("connect");
    socket.set_nodelay(true).expect("nodelay");
    let (send, conn) = h2::client::Builder::new()
        .enable_push(enable_push)
        .handshake(socket)
        .await
        .expect("handshake");
    rt.spawn(async move {
        let _ = conn.await;
    });
    (send, format!("http://{addr}/"))
}

async fn pages(send: &SendRequest<Bytes>, url: &str, count: u64) -> Duration {
    pages_in_flight(send, url, count, IN_FLIGHT).await
}

async fn pages_in_flight(
    send: &SendRequest<Bytes>,
    url: &str,
    count: u64,
    in_flight: u64,
) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..in_flight {
        let (send, url) = (send.clone(), url.to_owned());
        let share = count / in_flight + u64::from(t < count % in_flight);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                std::hint::black_box(page(&send, &url).await);
            }
        }));
    }
    for task in tasks {
        task.await.expect("client task");
    }
    start.elapsed()
}

fn group(c: &mut Criterion, name: &str, enable_push: bool, modes: [(&str, Server); 2]) {
    let rt = push_benches::runtime();
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    group.throughput(criterion::Throughput::Elements(1));
    for (function, mode) in modes {
        let (send, url) = rt.block_on(client(&rt, mode, enable_push));
        // Warm the connection (and, without push, let push-h2 remember it).
        rt.block_on(pages(&send, &url, 16));
        group.bench_function(function, |b| {
            b.iter_custom(|iters| rt.block_on(pages(&send, &url, iters)))
        });
    }
    group.finish();
}

fn push(c: &mut Criterion) {
    group(
        c,
        "h2_push",
        true,
        [("push-h2", Server::PushH2), ("raw-h2", Server::RawH2)],
    );
}

fn nopush(c: &mut Criterion) {
    group(
        c,
        "h2_nopush",
        false,
        [
            ("push-h2", Server::PushH2),
            ("no-push-server", Server::NoPush),
        ],
    );
}

/// `drive MODE PAGES [IN_FLIGHT]`: serves PAGES pages over an in-memory duplex on a
/// current-thread runtime, for callgrind.
fn drive(args: &[String]) {
    let mode = args.first().map_or("push-h2", String::as_str);
    let count: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let in_flight: u64 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
    let (server, enable_push) = match mode {
        "push-h2" => (Server::PushH2, true),
        "raw-h2" => (Server::RawH2, true),
        "nopush-h2" => (Server::PushH2, false),
        "no-push-server" => (Server::NoPush, false),
        other => panic!("unknown mode {other}: push-h2, raw-h2, nopush-h2, no-push-server"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let elapsed = rt.block_on(async move {
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
        pages_in_flight(&send, "http://bench.local/", count, in_flight).await
    });
    println!("{mode}: {count} pages in {elapsed:?}");
}

criterion_group!(benches, push, nopush);

push_benches::criterion_main_with_drive!(benches, drive);
