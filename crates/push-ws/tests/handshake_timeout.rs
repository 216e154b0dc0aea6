//! `accept` bounds the whole handshake by `Config::handshake_timeout` (push-net's
//! shared setting), so a caller that forgets a timeout is still safe. Paused clock.

use std::io::ErrorKind;
use std::time::Duration;

use push_ws::server::{Config, Error};
use tokio::io::AsyncWriteExt;

const HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";

/// Runs `accept` against a peer that sends `HEAD` one byte every 5 s; the error and when it came.
async fn slow_loris(config: Config) -> (Error, Duration) {
    let (server, mut client) = tokio::io::duplex(1024);
    let started = tokio::time::Instant::now();
    let accept =
        tokio::spawn(async move { push_ws::server::accept(server, &config).await.map(|_| ()) });
    tokio::spawn(async move {
        for byte in HEAD {
            if client.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        // The head never ends; keep the pipe open.
        std::future::pending::<()>().await;
    });
    // Bounded: without a deadline `accept` would wait for the rest of the head forever.
    let ended = tokio::time::timeout(Duration::from_secs(3600), accept).await;
    let error = ended
        .expect("accept gave up on the slow peer")
        .expect("the accept task ended")
        .expect_err("a head that never ends is no handshake");
    (error, started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_slow_upgrade_request_times_out_at_the_default() {
    let (error, elapsed) = slow_loris(Config::default()).await;
    assert!(
        matches!(&error, Error::Io(e) if e.kind() == ErrorKind::TimedOut),
        "{error:?}"
    );
    assert_eq!(
        elapsed,
        push_net::ServerConfig::default().handshake_timeout()
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_is_the_configured_one() {
    let config = Config::default().with_handshake_timeout(Duration::from_secs(3));
    let (error, elapsed) = slow_loris(config).await;
    assert!(matches!(&error, Error::Io(e) if e.kind() == ErrorKind::TimedOut));
    assert_eq!(elapsed, Duration::from_secs(3));
}
