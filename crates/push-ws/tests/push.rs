//! The JSON push protocol on MemoryBroker over loopback, against tokio-tungstenite clients.

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use push_broker::{Config as BrokerConfig, MemoryBroker, Overflow};
use push_core::{Event, Topic};
use push_ws::server::{Config, Ended, Error};
use push_ws::tungstenite::Message;
use serde_json::{Value, json};
use support::{LIMIT, raw_upgrade, server};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(addr: SocketAddr) -> Client {
    let (client, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap();
    client
}

async fn send(client: &mut Client, value: Value) {
    client.send(Message::text(value.to_string())).await.unwrap();
}

async fn recv(client: &mut Client) -> Message {
    timeout(LIMIT, client.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}

async fn recv_json(client: &mut Client) -> Value {
    match recv(client).await {
        Message::Text(t) => serde_json::from_str(&t).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

fn publish(broker: &MemoryBroker, topic: &str, data: &str) -> String {
    broker
        .publish_now(&Topic::new(topic).unwrap(), Event::new(data.to_owned()))
        .unwrap()
        .to_string()
}

async fn push_server(broker: &MemoryBroker) -> SocketAddr {
    let (addr, _) = server(Config::default(), Some(broker.clone())).await;
    addr
}

#[tokio::test]
async fn subscribe_receive_and_survive_unknown_commands() {
    let broker = MemoryBroker::default();
    let addr = push_server(&broker).await;
    let mut client = connect(addr).await;
    send(
        &mut client,
        json!({"type": "subscribe", "topics": ["a", "b"]}),
    )
    .await;
    let ack = recv_json(&mut client).await;
    assert_eq!(ack["type"], "subscribed");
    assert_eq!(ack["topics"], json!(["a", "b"]));
    assert_eq!(ack["cursor"], broker.head().to_string());

    let id = publish(&broker, "a", "one");
    publish(&broker, "c", "not selected");
    assert_eq!(
        recv_json(&mut client).await,
        json!({"type": "event", "topic": "a", "id": id, "data": "one"})
    );

    for bad in [
        json!({"type": "dance"}),
        json!({"type": "subscribe", "topics": [""]}),
    ] {
        send(&mut client, bad).await;
        assert_eq!(recv_json(&mut client).await["type"], "error");
    }
    client.send(Message::text("not json")).await.unwrap();
    assert_eq!(recv_json(&mut client).await["type"], "error");
    client.send(Message::binary(vec![1u8])).await.unwrap();
    assert_eq!(recv_json(&mut client).await["type"], "error");

    send(&mut client, json!({"type": "unsubscribe", "topics": ["a"]})).await;
    assert_eq!(recv_json(&mut client).await["topics"], json!(["b"]));
    publish(&broker, "a", "no longer selected");
    let id = publish(&broker, "b", "two");
    let event = recv_json(&mut client).await;
    assert_eq!(
        (event["data"].as_str(), event["id"].as_str()),
        (Some("two"), Some(&*id))
    );
}

#[tokio::test]
async fn one_cursor_resumes_across_reconnects() {
    let broker = MemoryBroker::default();
    let addr = push_server(&broker).await;
    let mut first = connect(addr).await;
    send(
        &mut first,
        json!({"type": "subscribe", "topics": ["a", "b"]}),
    )
    .await;
    recv_json(&mut first).await;
    publish(&broker, "a", "1");
    publish(&broker, "b", "2");
    recv_json(&mut first).await;
    let last = recv_json(&mut first).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    first.close(None).await.unwrap();
    drop(first);

    publish(&broker, "b", "3");
    publish(&broker, "c", "other");
    publish(&broker, "a", "4");
    let mut second = connect(addr).await;
    send(
        &mut second,
        json!({"type": "subscribe", "topics": ["a", "b"], "from": last}),
    )
    .await;
    assert_eq!(recv_json(&mut second).await["cursor"], last);
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(
            recv_json(&mut second).await["data"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(got, ["3", "4"]);

    // A cursor of another broker: a gap first, then everything retained.
    let mut third = connect(addr).await;
    send(
        &mut third,
        json!({"type": "subscribe", "topics": ["b"], "from": "1-1"}),
    )
    .await;
    recv_json(&mut third).await;
    let gap = recv_json(&mut third).await;
    assert_eq!(
        (gap["type"].as_str(), gap["reason"].as_str()),
        (Some("gap"), Some("unknown-epoch"))
    );
    assert_eq!(recv_json(&mut third).await["data"], "2");
}

#[tokio::test]
async fn a_burst_larger_than_the_write_budget_is_delivered_whole() {
    let broker = MemoryBroker::new(
        BrokerConfig::default()
            .with_queue_count(1000)
            .with_history_count(1000),
    );
    let addr = push_server(&broker).await;
    let mut client = connect(addr).await;
    send(&mut client, json!({"type": "subscribe", "topics": ["a"]})).await;
    recv_json(&mut client).await;
    for i in 0..500 {
        publish(&broker, "a", &i.to_string());
    }
    for i in 0..500 {
        assert_eq!(recv_json(&mut client).await["data"], i.to_string());
    }
}

#[tokio::test]
async fn binary_data_follows_its_announcement() {
    let broker = MemoryBroker::default();
    let addr = push_server(&broker).await;
    let mut client = connect(addr).await;
    send(&mut client, json!({"type": "subscribe", "topics": ["bin"]})).await;
    recv_json(&mut client).await;
    let topic = Topic::new("bin").unwrap();
    let id = broker
        .publish_now(&topic, Event::new(vec![0xffu8, 0, 1]).with_event("blob"))
        .unwrap();
    publish(&broker, "bin", "text after");
    assert_eq!(
        recv_json(&mut client).await,
        json!({"type": "event", "topic": "bin", "id": id.to_string(), "event": "blob", "binary": 3})
    );
    assert_eq!(recv(&mut client).await, Message::binary(vec![0xffu8, 0, 1]));
    assert_eq!(recv_json(&mut client).await["data"], "text after");
}

#[tokio::test]
async fn a_lagging_client_gets_a_gap_or_a_close() {
    // 1013 is the default close code; 1008 is the one a server may choose instead.
    for (policy, close_code, configured) in [
        (Overflow::DropBacklog, None, None),
        (Overflow::Close, Some(1013u16), None),
        (Overflow::Close, Some(1008), Some(1008)),
    ] {
        let broker = MemoryBroker::new(
            BrokerConfig::default()
                .with_queue_count(4)
                .with_overflow(policy),
        );
        let run = match configured {
            Some(code) => Config::default().with_overflow_close_code(code),
            None => Config::default(),
        };
        let (addr, mut outcomes) = server(run, Some(broker.clone())).await;
        let mut client = connect(addr).await;
        send(&mut client, json!({"type": "subscribe", "topics": ["a"]})).await;
        recv_json(&mut client).await;
        // The server task does not run while this (current-thread) test publishes.
        for i in 0..50 {
            publish(&broker, "a", &i.to_string());
        }
        match close_code {
            None => {
                let gap = recv_json(&mut client).await;
                assert_eq!(
                    (gap["type"].as_str(), gap["reason"].as_str()),
                    (Some("gap"), Some("overflow"))
                );
                assert_eq!(gap["resume"], broker.head().to_string());
                publish(&broker, "a", "live");
                assert_eq!(recv_json(&mut client).await["data"], "live");
            }
            Some(code) => {
                let Message::Close(Some(frame)) = recv(&mut client).await else {
                    panic!()
                };
                assert_eq!(u16::from(frame.code), code);
                while let Some(Ok(_)) = timeout(LIMIT, client.next()).await.unwrap() {}
                let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
                assert_eq!(
                    outcome.unwrap(),
                    Ended::Closed {
                        code,
                        by_peer: false
                    }
                );
            }
        }
    }
}

#[tokio::test]
async fn close_handshakes_complete_from_either_side_after_split() {
    let broker = MemoryBroker::default();
    let (addr, mut outcomes) = server(Config::default(), Some(broker.clone())).await;

    // The client closes through its sink half; its stream half sees the server's reply.
    let (mut sink, mut stream) = connect(addr).await.split();
    sink.send(Message::Close(None)).await.unwrap();
    support::expect_client_close(&mut stream, &mut outcomes).await;

    // The server closes (broker shutdown, 1001); the split client's stream half answers.
    let (mut sink, mut stream) = connect(addr).await.split();
    sink.send(Message::text(
        json!({"type": "subscribe", "topics": ["a"]}).to_string(),
    ))
    .await
    .unwrap();
    let _ack = timeout(LIMIT, stream.next()).await.unwrap();
    broker.close();
    let mut close_code = None;
    while let Some(Ok(m)) = timeout(LIMIT, stream.next()).await.unwrap() {
        if let Message::Close(Some(f)) = m {
            close_code = Some(u16::from(f.code));
        }
    }
    assert_eq!(close_code, Some(1001));
    let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
    assert_eq!(
        outcome.unwrap(),
        Ended::Closed {
            code: 1001,
            by_peer: false
        }
    );
}

#[tokio::test]
async fn a_silent_peer_is_closed_as_dead() {
    let run = Config::default()
        .with_ping_interval(Duration::from_millis(20))
        .with_pong_timeout(Duration::from_millis(50));
    let (addr, mut outcomes) = server(run, None).await;
    // A raw client that never reads nor answers pings.
    let (_stream, head) = raw_upgrade(addr, "").await;
    assert!(head.starts_with("HTTP/1.1 101"));
    let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
    assert!(matches!(outcome, Err(Error::DeadPeer)), "{outcome:?}");

    // A tungstenite client answers pings (while it reads), so it stays up across many of them
    // (with a pong timeout no loaded machine can miss). The next ping follows the pong by the
    // interval, not the pong deadline: otherwise the second ping would come after an hour.
    let run = Config::default()
        .with_ping_interval(Duration::from_millis(20))
        .with_pong_timeout(Duration::from_secs(3600));
    let (addr, _outcomes) = server(run, None).await;
    let mut client = connect(addr).await;
    for _ in 0..3 {
        assert!(matches!(recv(&mut client).await, Message::Ping(_)));
    }
    client.send(Message::text("still here")).await.unwrap();
    loop {
        if recv(&mut client).await == Message::text("still here") {
            break;
        }
    }
}

#[tokio::test]
async fn a_peer_that_never_answers_our_close_is_dropped_after_the_close_timeout() {
    let broker = MemoryBroker::default();
    let run = Config::default().with_close_timeout(Duration::from_millis(50));
    let (addr, mut outcomes) = server(run, Some(broker.clone())).await;
    let (mut stream, head) = raw_upgrade(addr, "").await;
    assert!(head.starts_with("HTTP/1.1 101"));
    let subscribe = br#"{"type":"subscribe","topics":["a"]}"#;
    tokio::io::AsyncWriteExt::write_all(&mut stream, &support::frame(0x81, subscribe))
        .await
        .unwrap();
    // Wait for the subscription (the server's first reply), then shut the broker down.
    let mut byte = [0u8; 1];
    tokio::io::AsyncReadExt::read_exact(&mut stream, &mut byte)
        .await
        .unwrap();
    broker.close();
    let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
    assert!(matches!(outcome, Err(Error::CloseTimeout)), "{outcome:?}");
}

#[tokio::test]
async fn a_client_that_stops_reading_never_blocks_the_publisher() {
    for policy in [Overflow::DropBacklog, Overflow::Close] {
        let broker = MemoryBroker::new(
            BrokerConfig::default()
                .with_queue_count(16)
                .with_overflow(policy),
        );
        let run = match policy {
            // A client that reads nothing answers no ping either: the heartbeat ends it.
            Overflow::Close => Config::default()
                .with_ping_interval(Duration::from_millis(50))
                .with_pong_timeout(Duration::from_millis(100)),
            _ => Config::default(),
        };
        let (addr, mut outcomes) = server(run, Some(broker.clone())).await;
        let mut client = connect(addr).await;
        send(&mut client, json!({"type": "subscribe", "topics": ["big"]})).await;
        recv_json(&mut client).await;
        // 40 MB of events while the client reads nothing: the sockets fill up, the server stops
        // pulling from its subscription, and the broker's queue bound takes over.
        let data = "x".repeat(8 << 10);
        for i in 0..5000 {
            publish(&broker, "big", &data);
            if i % 8 == 0 {
                tokio::task::yield_now().await;
            }
        }
        match policy {
            Overflow::Close => {
                let outcome = timeout(LIMIT, outcomes.recv()).await.unwrap().unwrap();
                assert!(matches!(outcome, Err(Error::DeadPeer)), "{outcome:?}");
            }
            _ => {
                // Reading again, the client finds the announced loss.
                let mut gap = None;
                while gap.is_none() {
                    let Message::Text(t) = recv(&mut client).await else {
                        continue;
                    };
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "gap" {
                        gap = Some(v);
                    }
                }
                assert_eq!(gap.unwrap()["reason"], "overflow");
            }
        }
    }
}
