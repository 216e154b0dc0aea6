//! The accept path on a TCP listener: Origin policy, subprotocols, limits and close codes for
//! bad input, against raw clients and tokio-tungstenite.

use crate::support;

use futures_util::{SinkExt, StreamExt};
use push_ws::server::{Config, Ended, Error};
use push_ws::tungstenite::Message;
use push_ws::tungstenite::client::IntoClientRequest;
use support::{LIMIT, frame, raw_upgrade, read_close_code, server};
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

#[tokio::test]
async fn cross_site_upgrades_are_refused_with_403() {
    let accept = Config::default().with_allowed_origin("https://app.example");
    let (addr, mut outcomes) = server(accept, None).await;
    let (_, head) = raw_upgrade(addr, "Origin: https://evil.example\r\n").await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
    assert!(matches!(outcome, Err(Error::Refused(r)) if r.status() == 403));

    for ok in [
        "Origin: https://app.example\r\n".to_owned(),
        format!("Origin: http://{addr}\r\n"),
        String::new(),
    ] {
        let (_, head) = raw_upgrade(addr, &ok).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{ok}: {head}");
    }
}

#[tokio::test]
async fn subprotocol_is_negotiated_in_server_order() {
    let accept = Config::default().with_protocols(["push.v2", "push.v1"]);
    let (addr, _outcomes) = server(accept, None).await;
    let (_, head) = raw_upgrade(addr, "Sec-WebSocket-Protocol: chat, push.v1, push.v2\r\n").await;
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-protocol: push.v2"),
        "{head}"
    );
    let (_, head) = raw_upgrade(addr, "Sec-WebSocket-Protocol: chat\r\n").await;
    assert!(head.starts_with("HTTP/1.1 101"));
    assert!(
        !head.to_ascii_lowercase().contains("sec-websocket-protocol"),
        "{head}"
    );

    let strict = Config::default()
        .with_protocols(["push.v1"])
        .with_require_protocol(true);
    let (addr, _outcomes) = server(strict, None).await;
    let (_, head) = raw_upgrade(addr, "Sec-WebSocket-Protocol: chat\r\n").await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
}

#[tokio::test]
async fn echo_round_trips_text_and_binary_with_tokio_tungstenite() {
    let (addr, mut outcomes) = server(Config::default(), None).await;
    let request = format!("ws://{addr}/").into_client_request().unwrap();
    let (mut client, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    client.send(Message::text("héllo")).await.unwrap();
    client
        .send(Message::binary(vec![0u8, 255, 7]))
        .await
        .unwrap();
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::text("héllo")
    );
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::binary(vec![0u8, 255, 7])
    );
    client.close(None).await.unwrap();
    // The close handshake completes: the client sees the end of the stream.
    support::expect_client_close(&mut client, &mut outcomes).await;
}

#[tokio::test]
async fn bad_input_closes_with_the_right_code() {
    let accept = Config::default()
        .with_max_message_size(1000)
        .with_max_frame_size(500);
    let (addr, mut outcomes) = server(accept, None).await;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("frame over the limit", frame(0x81, &[b'a'; 600]), 1009),
        (
            "message over the limit",
            [
                frame(0x01, &[b'a'; 400]),
                frame(0x00, &[b'a'; 400]),
                frame(0x80, &[b'a'; 400]),
            ]
            .concat(),
            1009,
        ),
        ("invalid UTF-8", frame(0x81, b"ok\xff\xfe"), 1007),
        ("reserved bits", frame(0xC1, b"x"), 1002),
        ("unknown opcode", frame(0x83, b"x"), 1002),
        ("continuation without start", frame(0x80, b"x"), 1002),
        ("fragmented ping", frame(0x09, b"x"), 1002),
    ];
    for (name, bytes, code) in cases {
        let (mut stream, head) = raw_upgrade(addr, "").await;
        assert!(head.starts_with("HTTP/1.1 101"));
        stream.write_all(&bytes).await.unwrap();
        let got = timeout(LIMIT, read_close_code(&mut stream)).await.unwrap();
        assert_eq!(got, Some(code), "{name}");
        let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
        assert!(
            matches!(outcome, Err(Error::WebSocket(_))),
            "{name}: {outcome:?}"
        );
    }
    // An unmasked client frame is a protocol error too.
    let (mut stream, _) = raw_upgrade(addr, "").await;
    stream.write_all(&[0x81, 0x01, b'x']).await.unwrap();
    assert_eq!(
        timeout(LIMIT, read_close_code(&mut stream)).await.unwrap(),
        Some(1002)
    );
}

/// Sends `request` on a new connection and returns everything the server answers until it
/// closes, and what `accept` reported.
async fn answer_to(request: &[u8]) -> (String, Result<Ended, Error>) {
    let (addr, mut outcomes) = server(Config::default(), None).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before all of a long request is written.
    let _ = stream.write_all(request).await;
    // Half-closed: a request cut short ends there.
    let _ = stream.shutdown().await;
    let mut buf = Vec::new();
    let read = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut buf);
    let _ = timeout(LIMIT, read).await.unwrap();
    let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
    (String::from_utf8_lossy(&buf).into_owned(), outcome)
}

#[tokio::test]
async fn every_request_that_is_not_an_upgrade_gets_an_http_answer() {
    let huge = [
        &b"GET / HTTP/1.1\r\nX: "[..],
        &vec![b'a'; push_ws::server::MAX_REQUEST_HEAD],
        b"\r\n\r\n",
    ]
    .concat();
    for (request, status) in [
        (&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], 400),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            400,
        ),
        (
            b"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            400,
        ),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400),
        (&huge, 431),
    ] {
        let (answer, outcome) = answer_to(request).await;
        let line = format!("HTTP/1.1 {status} ");
        let start = String::from_utf8_lossy(&request[..request.len().min(40)]);
        assert!(answer.starts_with(&line), "{start:?}: {answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
        assert!(
            matches!(&outcome, Err(Error::Refused(r)) if r.status() == status),
            "{outcome:?}"
        );
    }
    // A stream that ends inside its request head is an I/O error, with nothing to answer.
    let (answer, outcome) = answer_to(b"GET / HTTP/1.1\r\nHost").await;
    assert_eq!(answer, "");
    assert!(matches!(outcome, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof));
}

#[tokio::test]
async fn a_frame_sent_with_the_request_is_not_lost() {
    let (addr, _outcomes) = server(Config::default(), None).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    // The request and a text frame in one write: the frame arrives with the head.
    let bytes = [request.as_bytes(), &frame(0x81, b"early")].concat();
    stream.write_all(&bytes).await.unwrap();
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"early") {
        let read = tokio::io::AsyncReadExt::read(&mut stream, &mut byte);
        assert_ne!(
            timeout(LIMIT, read).await.unwrap().unwrap(),
            0,
            "closed early"
        );
        got.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
}
