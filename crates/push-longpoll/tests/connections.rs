//! The example server's connection handling (push-net's): slow peers, publish bodies that never
//! finish, HTTP/2 settings. Time is tokio's paused clock where a limit is the point.

use std::net::SocketAddr;
use std::time::Duration;

use push_broker::MemoryBroker;
use push_longpoll::server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support;

async fn start() -> SocketAddr {
    support::start(MemoryBroker::default(), Config::default())
        .await
        .0
}

/// Reads until the server closes the connection or `limit` passes; what it sent.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut all = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.ok()?;
    Some(String::from_utf8_lossy(&all).into_owned())
}

#[tokio::test(start_paused = true)]
async fn a_publish_body_that_never_finishes_gets_a_408() {
    let addr = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /publish?topic=a HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        .await
        .unwrap();
    // Without a body timeout the request waits for its 7 missing bytes forever.
    let answer = read_until_closed(&mut stream, Duration::from_secs(300))
        .await
        .expect("the connection was not closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test(start_paused = true)]
async fn a_request_head_that_never_finishes_is_cut_off() {
    let addr = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /poll?topic=a HTTP/1.1\r\n")
        .await
        .unwrap();
    let closed = read_until_closed(&mut stream, Duration::from_secs(300)).await;
    assert!(closed.is_some(), "the connection was not closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_connections_advertise_the_stream_limit() {
    let addr = start().await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut send, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = http::Request::get(format!("http://{addr}/poll?topic=a&wait=0"))
        .body(())
        .unwrap();
    let (response, _) = send.send_request(request, true).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(20), response)
        .await
        .unwrap()
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    // push-net's Http2Limits, the same on every server path (hyper's own default is 200).
    assert_eq!(send.current_max_send_streams(), 100);
}
