//! The heap an idle lean subscriber holds in the hub, counted by the allocator (dhat's, in its
//! testing mode): what the hub's connection task, its socket's tracking, the quota permit and
//! gauge, the Mercure stream and the broker's subscription cost per connection, with nothing
//! else (the clients here are blocking std sockets, which allocate nothing).
//!
//! The bound is 4 KiB of resident memory per idle subscriber, measured as RSS in
//! `cargo xtask load idle`; this test pins the heap part of it exactly, so that a field, a box
//! or a buffer that creeps into an idle connection fails here rather than in a load run.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Subscribers opened before the measurement (the hub's lazily built state is built by then).
const WARM: usize = 20;
/// Subscribers measured.
const MEASURED: usize = 200;
/// A bound on every wait, so a broken test fails instead of hanging.
const BOUND: Duration = Duration::from_secs(10);

/// The most heap bytes an idle lean subscriber on a topic of its own may hold in the hub
/// (2,252 in a debug build when this was set, in 13 blocks: the `Drive` box 520, the task 512,
/// tokio's socket registration 256, the topic 184 + 96 + 28, the subscription 138, the
/// keep-alive timer 112, the shutdown future 104 + 64, `Arc<Connection>` 88, the permit and
/// gauge 80. It was 3,440 in 14 blocks before the task's sniffing was boxed, the shutdown
/// future written by hand, the held list and the permit's key list dropped).
const MAX_BYTES_PER_SUBSCRIBER: usize = 2_400;
/// The most heap blocks it may hold.
const MAX_BLOCKS_PER_SUBSCRIBER: usize = 13;

/// Opens a plain HTTP/1.1 subscription to `topic` and reads up to its opening comment.
fn subscribe(addr: SocketAddr, topic: &str) -> TcpStream {
    let mut socket = TcpStream::connect_timeout(&addr, BOUND).unwrap();
    socket.set_read_timeout(Some(BOUND)).unwrap();
    let request = format!(
        "GET /.well-known/mercure?topic={topic} HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).unwrap();
    let mut read = Vec::new();
    let mut chunk = [0u8; 1024];
    while !read.windows(6).any(|w| w == b": ok\n\n") {
        let n = socket.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before the opening comment: {read:?}");
        read.extend_from_slice(&chunk[..n]);
    }
    assert!(read.starts_with(b"HTTP/1.1 200"), "{read:?}");
    assert!(
        !String::from_utf8_lossy(&read).contains("transfer-encoding"),
        "not the lean path: {read:?}"
    );
    socket
}

/// The heap's live blocks and bytes once it has stopped changing (the connection tasks have
/// written their head and freed what they read it with), within [`BOUND`].
fn settled() -> (usize, usize) {
    let started = std::time::Instant::now();
    let mut last = (usize::MAX, usize::MAX);
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let stats = dhat::HeapStats::get();
        let now = (stats.curr_blocks, stats.curr_bytes);
        if now == last || started.elapsed() > BOUND {
            return now;
        }
        last = now;
    }
}

#[test]
fn an_idle_lean_subscriber_holds_little_heap() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let hub = runtime.block_on(async { support::start(support::args()) });
    let mut sockets: Vec<TcpStream> = (0..WARM)
        .map(|i| subscribe(hub.addr, &format!("warm-{i}")))
        .collect();
    let (blocks, bytes) = settled();
    sockets.extend((0..MEASURED).map(|i| subscribe(hub.addr, &format!("topic-{i}"))));
    let (blocks_after, bytes_after) = settled();
    let per_blocks = blocks_after.saturating_sub(blocks) / MEASURED;
    let per_bytes = bytes_after.saturating_sub(bytes) / MEASURED;
    println!("an idle lean subscriber: {per_bytes} heap bytes in {per_blocks} blocks");
    dhat::assert!(
        per_bytes <= MAX_BYTES_PER_SUBSCRIBER,
        "an idle lean subscriber holds {per_bytes} heap bytes in {per_blocks} blocks"
    );
    dhat::assert!(
        per_blocks <= MAX_BLOCKS_PER_SUBSCRIBER,
        "an idle lean subscriber holds {per_blocks} heap blocks ({per_bytes} bytes)"
    );
    drop(sockets);
    hub.task.abort();
    drop(runtime);
}
