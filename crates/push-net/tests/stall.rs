//! The write-stall rule on a scripted peer (an in-memory pipe) under tokio's paused clock.

use std::io;
use std::time::Duration;

use push_net::StallGuard;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

const LIMIT: Duration = Duration::from_secs(30);

/// Writes until the pipe (64 bytes) is full and a write pends.
async fn fill(guard: &mut StallGuard<DuplexStream>) {
    let chunk = [b'x'; 16];
    for _ in 0..4 {
        guard.write_all(&chunk).await.expect("room in the pipe");
    }
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_reads_nothing_is_closed_after_the_limit() {
    let (near, _far) = tokio::io::duplex(64);
    let mut guard = StallGuard::new(near, LIMIT);
    fill(&mut guard).await;
    let started = tokio::time::Instant::now();
    // Bounded: without the guard this write would wait forever; the outer limit turns that
    // into a failure instead of a hang.
    let result = tokio::time::timeout(LIMIT * 10, guard.write_all(b"event")).await;
    let error = result
        .expect("the stalled write failed instead of pending forever")
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    assert_eq!(
        started.elapsed(),
        LIMIT,
        "the clock starts at the stalled write"
    );
}

#[tokio::test(start_paused = true)]
async fn keep_alives_queued_behind_a_full_socket_are_not_progress() {
    let (near, _far) = tokio::io::duplex(64);
    let mut guard = StallGuard::new(near, LIMIT);
    fill(&mut guard).await;
    // A heartbeat every 15 s, each given up on by its sender when the next is due: each new
    // attempt finds the same stall, and the clock keeps running from the first one.
    let started = tokio::time::Instant::now();
    let error = loop {
        match tokio::time::timeout(Duration::from_secs(15), guard.write_all(b":\n")).await {
            Ok(Err(e)) => break e,
            Ok(Ok(())) => panic!("a heartbeat was written into a full pipe"),
            Err(_) => assert!(started.elapsed() < LIMIT * 10, "never closed"),
        }
    };
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    assert!(started.elapsed() <= LIMIT, "{:?}", started.elapsed());
}

#[tokio::test(start_paused = true)]
async fn a_slow_reader_that_reads_keeps_its_connection() {
    let (near, mut far) = tokio::io::duplex(64);
    let mut guard = StallGuard::new(near, LIMIT);
    fill(&mut guard).await;
    // The peer takes 16 bytes every 20 s (less than the limit): every write waits, none fails.
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 16];
        let mut total = 0;
        while total < 64 + 16 * 8 {
            tokio::time::sleep(Duration::from_secs(20)).await;
            total += far.read(&mut buf).await.expect("the pipe is open");
        }
        far
    });
    for _ in 0..8 {
        guard
            .write_all(&[b'y'; 16])
            .await
            .expect("progress within the limit");
    }
    let _far = reader.await.expect("the reader finished");
}

#[tokio::test(start_paused = true)]
async fn the_clock_restarts_after_progress() {
    let (near, mut far) = tokio::io::duplex(64);
    let mut guard = StallGuard::new(near, LIMIT);
    fill(&mut guard).await;
    // A stall of 25 s, then the peer reads: the next stall has a whole limit again.
    let write = tokio::spawn(async move {
        guard.write_all(&[b'z'; 16]).await.expect("read after 25 s");
        fill_more(guard).await
    });
    tokio::time::sleep(Duration::from_secs(25)).await;
    let mut buf = [0u8; 16];
    far.read_exact(&mut buf).await.expect("the pipe is open");
    let started = tokio::time::Instant::now();
    let ended = tokio::time::timeout(LIMIT * 10, write).await;
    let error = ended
        .expect("the second stall was cut off")
        .expect("the writer ended");
    assert_eq!(error.unwrap_err().kind(), io::ErrorKind::TimedOut);
    assert_eq!(started.elapsed(), LIMIT);
}

/// Writes until a write fails.
async fn fill_more(mut guard: StallGuard<DuplexStream>) -> io::Result<()> {
    loop {
        guard.write_all(&[b'w'; 16]).await?;
    }
}

#[tokio::test(start_paused = true)]
async fn reads_and_idle_connections_are_untouched() {
    let (near, mut far) = tokio::io::duplex(64);
    let mut guard = StallGuard::new(near, LIMIT);
    // Idle for ten limits: nothing to write, nothing failed.
    tokio::time::sleep(LIMIT * 10).await;
    far.write_all(b"ping").await.expect("open");
    let mut buf = [0u8; 4];
    guard
        .read_exact(&mut buf)
        .await
        .expect("reads pass through");
    assert_eq!(&buf, b"ping");
    guard.write_all(b"pong").await.expect("room");
    guard.flush().await.expect("flushed");
}
