//! The `Endpoint` mounted in an axum router with `route_service`, over loopback.

use std::time::Duration;

use axum::Router;
use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_longpoll::server::{Config, Endpoint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get_text(addr: std::net::SocketAddr, target: &str, extra: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut out))
        .await
        .expect("answered")
        .unwrap();
    out
}

#[tokio::test]
async fn an_axum_route_answers_held_polls_with_the_json_batch() {
    let broker = MemoryBroker::default();
    let poll = Endpoint::new(broker.clone(), Config::default());
    let app = Router::new().route_service("/poll", poll);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let topic = Topic::new("news").unwrap();
    let held = tokio::spawn(get_text(addr, "/poll?topic=news", "prefer: wait=20\r\n"));
    tokio::time::timeout(Duration::from_secs(10), async {
        while broker.subscriber_count(&topic) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the poll is held");
    let cursor = broker.publish_now(&topic, Event::new("hello")).unwrap();
    let response = held.await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let lower = response.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/json"));
    // Mounted as it is, the endpoint says what it applied: there is no second path.
    assert!(lower.contains("preference-applied: wait=20"), "{response}");
    assert!(response.ends_with(&format!(
        r#"{{"events":[{{"id":"{cursor}","event":"message","data":"hello"}}],"next":"{cursor}","gap":false}}"#
    )), "{response}");

    let bad = get_text(addr, "/poll?topic=news&since=%zz", "").await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
}
