//! The limits across connections: each connection's share and the shared pool for unfinished
//! messages (1009) and the frames of one message (1008), seen by raw loopback clients.

use crate::support;

use push_ws::server::{Config, Error};
use support::{LIMIT, frame, raw_upgrade, read_close_code, server};
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

#[tokio::test]
async fn unfinished_messages_of_all_connections_share_one_budget() {
    let accept = Config::default()
        .with_partial_message_budget(100_000)
        .with_partial_message_share(0);
    let (addr, mut outcomes) = server(accept.clone(), None).await;
    // Three clients each start a message of 40,000 bytes and leave it unfinished: two fit.
    let mut clients = Vec::new();
    for held in [40_000, 80_000] {
        let (mut stream, head) = raw_upgrade(addr, "").await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        stream.write_all(&frame(0x02, &[7; 40_000])).await.unwrap();
        clients.push(stream);
        // Wait until the server has read the payload (the order is the test's, not the
        // scheduler's).
        timeout(LIMIT, async {
            while accept.partial_message_bytes() < held {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        })
        .await
        .unwrap();
    }
    let (mut third, _) = raw_upgrade(addr, "").await;
    third.write_all(&frame(0x02, &[7; 40_000])).await.unwrap();
    let code = timeout(LIMIT, read_close_code(&mut third)).await.unwrap();
    assert_eq!(
        code,
        Some(1009),
        "the message that does not fit closes its connection"
    );
    let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
    assert!(matches!(outcome, Err(Error::WebSocket(_))), "{outcome:?}");
    // The first two are untouched: finishing a message echoes it and releases its bytes.
    let mut first = clients.remove(0);
    first.write_all(&frame(0x80, b"!")).await.unwrap();
    let echo = timeout(LIMIT, read_message_len(&mut first)).await.unwrap();
    assert_eq!(echo, 40_001);
    // Closing the second releases its bytes too: the whole budget is free again.
    drop(clients);
    while accept.partial_message_bytes() != 0 {
        timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap().ok();
    }
    assert_eq!(accept.partial_message_bytes(), 0);
    assert_eq!(accept.partial_message_budget(), 100_000);
}

/// The start of an unfinished binary frame declaring `len` payload bytes (over 65,535): its
/// 14-byte header and `sent` bytes of payload.
fn start_of(len: usize, sent: usize) -> Vec<u8> {
    let mut start = frame(0x02, &vec![0; len]);
    start.truncate(14 + sent);
    start
}

/// Frame headers that declare large frames cost nothing until their payload arrives, and control
/// frames never count: once a few such headers had spent the pool, every other connection's
/// next frame, even a pong, was closed with 1009.
#[tokio::test]
async fn headers_declaring_large_frames_cannot_close_other_connections() {
    let accept = Config::default().with_partial_message_budget(4 * ((256 << 10) + 14));
    let (addr, _outcomes) = server(accept.clone(), None).await;
    // Each attacker declares the largest frame and sends one byte past its share: before the
    // fix that reserved the whole frame (four spent the pool); now it charges one byte.
    let mut attackers = Vec::new();
    for n in 1..=4 {
        let (mut stream, _) = raw_upgrade(addr, "").await;
        stream
            .write_all(&start_of(256 << 10, (8 << 10) + 1))
            .await
            .unwrap();
        attackers.push(stream);
        timeout(LIMIT, async {
            while accept.partial_message_bytes() < n {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        })
        .await
        .unwrap();
    }
    let (mut good, _) = raw_upgrade(addr, "").await;
    good.write_all(&frame(0x8a, b"beat")).await.unwrap();
    good.write_all(&frame(0x81, &[b'x'; 2000])).await.unwrap();
    let echo = timeout(LIMIT, read_message_len(&mut good)).await.unwrap();
    assert_eq!(echo, 2000, "the pong and the small message pass");
}

/// A spent pool closes only the connections that hold more than their share.
#[tokio::test]
async fn a_spent_pool_closes_only_connections_over_their_share() {
    let accept = Config::default()
        .with_partial_message_budget(100_000)
        .with_partial_message_share(8 << 10);
    let (addr, _outcomes) = server(accept.clone(), None).await;
    // One client spends the whole pool: 100,000 bytes beyond its share.
    let (mut hog, _) = raw_upgrade(addr, "").await;
    hog.write_all(&start_of(200_000, (8 << 10) + 100_000))
        .await
        .unwrap();
    timeout(LIMIT, async {
        while accept.partial_message_bytes() < 100_000 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    })
    .await
    .unwrap();
    // A second goes one byte past its share: closed with 1009.
    let (mut second, _) = raw_upgrade(addr, "").await;
    second
        .write_all(&start_of(200_000, (8 << 10) + 1))
        .await
        .unwrap();
    let code = timeout(LIMIT, read_close_code(&mut second)).await.unwrap();
    assert_eq!(code, Some(1009));
    // A third sends a pong and a message of its whole share: both pass.
    let (mut good, _) = raw_upgrade(addr, "").await;
    good.write_all(&frame(0x8a, b"beat")).await.unwrap();
    good.write_all(&frame(0x82, &[2; 8 << 10])).await.unwrap();
    let echo = timeout(LIMIT, read_message_len(&mut good)).await.unwrap();
    assert_eq!(echo, 8 << 10);
    assert_eq!(
        accept.partial_message_bytes(),
        100_000,
        "the hog is untouched"
    );
}

#[tokio::test]
async fn endless_empty_continuation_frames_close_with_1008() {
    let accept = Config::default().with_max_frames_per_message(16);
    let (addr, mut outcomes) = server(accept, None).await;
    let (mut stream, _) = raw_upgrade(addr, "").await;
    let mut flood = frame(0x01, b"");
    for _ in 0..1000 {
        flood.extend_from_slice(&frame(0x00, b""));
    }
    // The server may close before reading it all; a failed write is fine.
    let _ = stream.write_all(&flood).await;
    let code = timeout(LIMIT, read_close_code(&mut stream)).await.unwrap();
    assert_eq!(code, Some(1008));
    let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
    assert!(matches!(outcome, Err(Error::WebSocket(_))), "{outcome:?}");
    // A message in exactly as many frames as allowed passes.
    let (mut stream, _) = raw_upgrade(addr, "").await;
    let mut message = frame(0x01, b"a");
    for _ in 0..14 {
        message.extend_from_slice(&frame(0x00, b""));
    }
    message.extend_from_slice(&frame(0x80, b"b"));
    stream.write_all(&message).await.unwrap();
    assert_eq!(
        timeout(LIMIT, read_message_len(&mut stream)).await.unwrap(),
        2
    );
}

/// Reads one unfragmented server frame and returns its payload length.
async fn read_message_len(stream: &mut tokio::net::TcpStream) -> u64 {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await.unwrap();
    assert_ne!(head[0] & 0x0f, 0x8, "a close frame");
    let len = match head[1] & 0x7f {
        126 => u64::from(stream.read_u16().await.unwrap()),
        127 => stream.read_u64().await.unwrap(),
        n => u64::from(n),
    };
    let mut payload = vec![0u8; usize::try_from(len).unwrap()];
    stream.read_exact(&mut payload).await.unwrap();
    len
}
