//! `H2Stream`: an HTTP/2 stream as a byte stream, within the peer's flow-control window.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response};
use push_net::{H2Stream, OnConnect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The client's window for the stream: what the server may send before the client reads.
const WINDOW: u32 = 1000;

/// Lets every task run until all wait (time is paused, so this is "everything that can happen
/// has happened", not a wall-clock wait).
async fn settle() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn writes_never_exceed_the_peers_window() {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let written = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&written);
    let server = tokio::spawn(async move {
        let mut connection = push_net::h2_builder(&push_net::Http2Limits::default())
            .handshake::<_, Bytes>(server_io)
            .await
            .unwrap();
        let (request, mut respond) = connection.accept().await.unwrap().unwrap();
        tokio::spawn(async move { while connection.accept().await.is_some() {} });
        let send = respond.send_response(Response::new(()), false).unwrap();
        let mut stream = H2Stream::new(send, request.into_body());
        // The client sends 3 bytes: read them back as a byte stream.
        let mut got = [0; 3];
        stream.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"abc");
        // Then write far more than the window, counting what each write accepted.
        let chunk = [7u8; 256];
        loop {
            let n = stream.write(&chunk).await.unwrap();
            counter.fetch_add(n, Ordering::SeqCst);
        }
    });
    let (send, connection) = h2::client::Builder::new()
        .initial_window_size(WINDOW)
        .handshake::<_, Bytes>(client_io)
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut send = send.ready().await.unwrap();
    let request = Request::builder()
        .method(Method::POST)
        .uri("http://hub.test/tunnel")
        .body(())
        .unwrap();
    let (response, mut body) = send.send_request(request, false).unwrap();
    body.send_data(Bytes::from_static(b"abc"), false).unwrap();
    let mut recv = response.await.unwrap().into_body();

    // Nothing read yet: the server has written exactly the window and waits.
    settle().await;
    assert_eq!(written.load(Ordering::SeqCst), WINDOW as usize);
    let mut received = 0;
    while received < WINDOW as usize {
        received += recv.data().await.unwrap().unwrap().len();
    }
    assert_eq!(received, WINDOW as usize);
    settle().await;
    assert_eq!(
        written.load(Ordering::SeqCst),
        WINDOW as usize,
        "received but not released: the window stays shut"
    );
    // Giving the window back lets exactly that much more through.
    recv.flow_control().release_capacity(received).unwrap();
    settle().await;
    assert_eq!(written.load(Ordering::SeqCst), 2 * WINDOW as usize);
    server.abort();
}

#[tokio::test]
async fn on_connect_fails_when_nothing_is_handed_over() {
    let (sender, on_connect) = OnConnect::pair();
    assert!(sender.is_claimed());
    drop(sender);
    let error = on_connect.await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotConnected);

    let (sender, on_connect) = OnConnect::pair();
    drop(on_connect);
    assert!(!sender.is_claimed());
}

#[tokio::test]
async fn a_guard_held_by_on_connect_lives_as_long_as_the_stream() {
    let guard = Arc::new(());
    // No stream comes: the guard goes with the `OnConnect`.
    let (sender, on_connect) = OnConnect::pair();
    let on_connect = on_connect.holding(Box::new(Arc::clone(&guard)));
    assert_eq!(Arc::strong_count(&guard), 2);
    drop(sender);
    assert!(on_connect.await.is_err());
    assert_eq!(Arc::strong_count(&guard), 1);

    // A stream comes: the guard moves into it and is dropped with it.
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut connection = push_net::h2_builder(&push_net::Http2Limits::default())
            .handshake::<_, Bytes>(server_io)
            .await
            .unwrap();
        let (request, mut respond) = connection.accept().await.unwrap().unwrap();
        tokio::spawn(async move { while connection.accept().await.is_some() {} });
        let send = respond.send_response(Response::new(()), false).unwrap();
        let (sender, on_connect) = OnConnect::pair();
        let on_connect = on_connect.holding(Box::new(Arc::clone(&guard)));
        sender
            .send(H2Stream::new(send, request.into_body()))
            .unwrap();
        let mut stream = on_connect.await.unwrap();
        assert_eq!(Arc::strong_count(&guard), 2);
        // The client ends its side: the stream reads its end, and is dropped.
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        drop(stream);
        assert_eq!(Arc::strong_count(&guard), 1);
    });
    let (send, connection) = h2::client::handshake(client_io).await.unwrap();
    tokio::spawn(connection);
    let mut send = send.ready().await.unwrap();
    let request = Request::post("http://hub.test/").body(()).unwrap();
    let (response, mut body) = send.send_request(request, false).unwrap();
    let response = response.await.unwrap();
    body.send_data(Bytes::from_static(b"x"), true).unwrap();
    assert_eq!(response.status(), 200);
    // The server's assertions ran (a panic there fails the test here).
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    drop((send, body, response));
}
