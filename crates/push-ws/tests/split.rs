//! Sender and receiver halves: writing and reading from other tasks, and closing from either
//! side, under simulated time over an in-memory pipe.

use std::time::Duration;

use crate::support;
use futures_util::{SinkExt, StreamExt};
use push_ws::server::{Config, Ended, TrySendError};
use push_ws::tungstenite::Message;

use support::pair;

#[tokio::test(start_paused = true)]
async fn halves_in_other_tasks_and_a_close_from_the_sender() {
    let (server, mut client) = pair().await;
    let (sender, mut receiver, connection) = push_ws::server::split(server, &Config::default(), 8);
    let connection = tokio::spawn(connection);
    // An echo made of the two halves in two tasks.
    let echo_sender = sender.clone();
    let echo = tokio::spawn(async move {
        while let Some(m) = receiver.recv().await {
            if echo_sender.send(m).await.is_err() {
                break;
            }
        }
    });
    for text in ["a", "b", "c"] {
        client.send(Message::text(text)).await.unwrap();
        assert_eq!(client.next().await.unwrap().unwrap(), Message::text(text));
    }
    sender.close(4000, "done").await.unwrap();
    let Some(Ok(Message::Close(Some(frame)))) = client.next().await else {
        panic!()
    };
    assert_eq!(u16::from(frame.code), 4000);
    // The client's reply completes the handshake.
    while let Some(Ok(_)) = client.next().await {}
    let ended = connection.await.unwrap().unwrap();
    assert_eq!(
        ended,
        Ended::Closed {
            code: 4000,
            by_peer: false
        }
    );
    echo.await.unwrap();
    assert!(sender.is_closed());
    assert!(sender.send(Message::text("late")).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_close_from_the_peer_ends_both_halves() {
    let (server, mut client) = pair().await;
    let (sender, mut receiver, connection) = push_ws::server::split(server, &Config::default(), 8);
    let connection = tokio::spawn(connection);
    client.send(Message::text("last")).await.unwrap();
    client.send(Message::Close(None)).await.unwrap();
    assert_eq!(receiver.recv().await, Some(Message::text("last")));
    assert_eq!(receiver.recv().await, None);
    while let Some(Ok(_)) = client.next().await {}
    let ended = connection.await.unwrap().unwrap();
    assert_eq!(
        ended,
        Ended::Closed {
            code: 1005,
            by_peer: true
        }
    );
    assert!(matches!(
        sender.try_send(Message::text("x")),
        Err(TrySendError::Closed(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn dropping_every_sender_closes_normally() {
    let (server, mut client) = pair().await;
    let (sender, _receiver, connection) = push_ws::server::split(server, &Config::default(), 8);
    let connection = tokio::spawn(connection);
    sender.send(Message::text("queued first")).await.unwrap();
    drop(sender);
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::text("queued first")
    );
    let Some(Ok(Message::Close(Some(frame)))) = client.next().await else {
        panic!()
    };
    assert_eq!(u16::from(frame.code), 1000);
    while let Some(Ok(_)) = client.next().await {}
    let ended = connection.await.unwrap().unwrap();
    assert_eq!(
        ended,
        Ended::Closed {
            code: 1000,
            by_peer: false
        }
    );
}

#[tokio::test(start_paused = true)]
async fn both_directions_are_bounded() {
    let (server, client) = pair().await;
    let (sender, mut receiver, connection) = push_ws::server::split(server, &Config::default(), 4);
    let _connection = tokio::spawn(connection);
    let (mut sink, mut stream) = client.split();
    // The client reads nothing: the sender's queue fills and try_send says so.
    let mut full = false;
    for i in 0..100_000 {
        match sender.try_send(Message::text(format!("{i:0>1000}"))) {
            Ok(()) => tokio::task::yield_now().await,
            Err(TrySendError::Full(_)) => {
                full = true;
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(full);
    // The server reads nothing: the client's writes stop progressing.
    let writer = tokio::spawn(async move {
        for i in 0..1000 {
            sink.send(Message::text(format!("{i:0>1000}")))
                .await
                .unwrap();
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!writer.is_finished());
    // Draining both sides lets everything through.
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    for i in 0..1000 {
        assert_eq!(
            receiver.recv().await,
            Some(Message::text(format!("{i:0>1000}")))
        );
    }
    writer.await.unwrap();
    reader.abort();
}
