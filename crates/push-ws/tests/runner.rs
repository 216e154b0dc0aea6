//! The connection runner under simulated time: an in-memory duplex pipe instead of sockets and
//! tokio's paused clock, so the default heartbeat (30 s ping, 20 s pong deadline) is exercised
//! deterministically and instantly.

use crate::support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use push_ws::server::{Config, Ended, Error};
use push_ws::tungstenite::Message;
use support::{Echo, pair};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_silent_peer_is_dead_after_ping_interval_plus_pong_timeout() {
    let (server, _client) = pair().await;
    let started = Instant::now();
    let outcome = push_ws::server::run(server, &Config::default(), Echo).await;
    assert!(matches!(outcome, Err(Error::DeadPeer)), "{outcome:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(50));
}

#[tokio::test(start_paused = true)]
async fn a_reading_peer_is_pinged_every_interval_and_stays_up() {
    let (server, mut client) = pair().await;
    let run =
        tokio::spawn(async move { push_ws::server::run(server, &Config::default(), Echo).await });
    let started = Instant::now();
    let mut pings = 0;
    while pings < 10 {
        match client.next().await.unwrap().unwrap() {
            Message::Ping(_) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    // Each ping follows the previous pong by the interval.
    assert_eq!(started.elapsed(), Duration::from_secs(300));
    client.send(Message::text("bye")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), Message::text("bye"));
    client.close(None).await.unwrap();
    while let Some(Ok(_)) = client.next().await {}
    let ended = run.await.unwrap().unwrap();
    assert_eq!(
        ended,
        Ended::Closed {
            code: 1005,
            by_peer: true
        }
    );
}

#[tokio::test(start_paused = true)]
async fn replies_stop_the_reading_when_the_peer_does_not_read() {
    // The client sends 1,000 messages and reads nothing: the server holds at most a small
    // outbox of echoes plus what the pipe buffers, and stops reading the rest.
    let (server, client) = pair().await;
    let (mut sink, mut stream) = client.split();
    let run =
        tokio::spawn(async move { push_ws::server::run(server, &Config::default(), Echo).await });
    let send = tokio::spawn(async move {
        for i in 0..1000 {
            if sink
                .send(Message::text(format!("{i:0>1000}")))
                .await
                .is_err()
            {
                break;
            }
        }
        sink
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !send.is_finished(),
        "the server kept reading without writing"
    );
    // Reading again lets everything through, in order.
    for i in 0..1000 {
        let m = stream.next().await.unwrap().unwrap();
        assert_eq!(m, Message::text(format!("{i:0>1000}")));
    }
    let mut sink = send.await.unwrap();
    sink.send(Message::Close(None)).await.unwrap();
    while let Some(Ok(_)) = stream.next().await {}
    assert!(run.await.unwrap().is_ok());
}
