//! Bytes the kernel already holds are timed out by the kernel: a peer with a zero window
//! (it never reads) is aborted after the write-stall timeout even while the server only
//! writes small keep-alives that the socket keeps accepting. Real loopback sockets, so the
//! wait is real, but bounded.
#![cfg(target_os = "linux")]

use std::io::ErrorKind;
use std::time::Duration;

use push_net::{Acceptor, ServerConfig};
use socket2::{Domain, Socket, Type};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn a_peer_that_never_reads_is_aborted_keep_alives_and_all() {
    let config = ServerConfig::default().with_write_stall_timeout(Duration::from_secs(1));
    let mut acceptor = Acceptor::bind("127.0.0.1:0".parse().unwrap(), &config).unwrap();
    let addr = acceptor.local_addr().unwrap();
    // The peer: a small receive buffer, and it never reads.
    let peer = tokio::task::spawn_blocking(move || {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket.set_recv_buffer_size(1024).unwrap();
        socket.connect(&addr.into()).unwrap();
        socket
    });
    let (mut stream, _) = acceptor.accept().await.unwrap();
    let _peer = peer.await.unwrap();
    // One event larger than what the peer can take, then a keep-alive every 100 ms; each
    // keep-alive fits in the kernel's send buffer, so no write of ours ever blocks.
    let _ =
        tokio::time::timeout(Duration::from_secs(1), stream.write_all(&[b'x'; 32 * 1024])).await;
    let mut outcome = None;
    for _ in 0..300 {
        if let Err(e) = stream.write_all(b":\n").await {
            outcome = Some(e);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Bounded at 30 s of keep-alives; the kernel aborts after about a second of no progress.
    let error = outcome.expect("the connection outlived 30 s of a zero window");
    assert_eq!(error.kind(), ErrorKind::TimedOut, "{error}");
}
