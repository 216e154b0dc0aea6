//! The example server (the library's `Endpoint` behind push-net, and the demo publish route)
//! in-process on 127.0.0.1:0, driven by raw HTTP/1.1 over loopback, by HTTP/2 and by curl.

use std::net::SocketAddr;
use std::time::Duration;

use push_broker::MemoryBroker;
use push_core::Topic;
use push_longpoll::server::{Config, Endpoint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support;

async fn start() -> (SocketAddr, Endpoint<MemoryBroker>) {
    support::start(
        MemoryBroker::default(),
        Config::default().with_jitter(Duration::ZERO),
    )
    .await
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// One request on a fresh connection (`Connection: close`), read to the end.
async fn send(addr: SocketAddr, method: &str, target: &str, extra: &str, body: &str) -> Answer {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {target} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: {}\r\n{extra}\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut raw))
        .await
        .expect("answered in time")
        .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Waits (bounded) until `f` holds.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn publish_then_poll_and_a_held_poll_woken_by_a_publish() {
    let (addr, handler) = start().await;
    let start_cursor = handler.broker().head();
    let published = send(
        addr,
        "POST",
        "/publish?topic=news&event=greet",
        "",
        "hello \"you\"",
    )
    .await;
    assert_eq!(published.status, 200);
    assert_eq!(
        published.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    // One cursor per line (the text answer ends with a newline).
    let cursor = published.body.trim_end().to_owned();

    let got = send(
        addr,
        "GET",
        &format!("/poll?topic=news&since={start_cursor}"),
        "",
        "",
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("push-cursor"), Some(cursor.as_str()));
    let v = got.json();
    assert_eq!(v["events"][0]["data"], "hello \"you\"");
    assert_eq!(v["events"][0]["event"], "greet");
    assert_eq!(v["events"][0]["id"], cursor);
    assert_eq!(v["next"], cursor);
    assert_eq!(v["gap"], false);

    let held = tokio::spawn(async move {
        send(
            addr,
            "GET",
            &format!("/poll?topic=news&since={cursor}"),
            "prefer: wait=20\r\n",
            "",
        )
        .await
    });
    let topic = Topic::new("news").unwrap();
    eventually("the poll is held", || {
        handler.broker().subscriber_count(&topic) == 1
    })
    .await;
    let second = send(addr, "POST", "/publish?topic=news", "", "second").await;
    let answer = held.await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["events"][0]["data"], "second");
    assert_eq!(answer.json()["next"], second.body.trim_end());
}

#[tokio::test]
async fn timeout_short_poll_and_bad_input_over_the_wire() {
    let (addr, handler) = start().await;
    let timed_out = send(addr, "GET", "/poll?topic=t&wait=1", "", "").await;
    assert_eq!(timed_out.status, 204);
    let head = handler.broker().head().to_string();
    assert_eq!(timed_out.header("push-cursor"), Some(head.as_str()));
    let etag = format!("\"{head}\"");
    assert_eq!(timed_out.header("etag"), Some(etag.as_str()));
    let not_modified = send(
        addr,
        "GET",
        "/poll?topic=t&wait=0",
        &format!("if-none-match: {etag}\r\n"),
        "",
    )
    .await;
    assert_eq!(not_modified.status, 304);
    let bad = send(addr, "GET", "/poll?topic=t&since=%zz", "", "").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("query string"), "{}", bad.body);
    // A since that is no cursor is an id; one the broker cannot place is a gap, announced,
    // then every retained event (never a 400 the client cannot act on, never silence).
    let unknown = send(addr, "GET", "/poll?topic=t&since=nope&wait=0", "", "").await;
    assert_eq!(unknown.status, 200, "{}", unknown.body);
    assert!(unknown.body.contains("\"gap\":true"), "{}", unknown.body);
    let bad = send(addr, "GET", "/poll?topic=t&wait=1.5", "", "").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("wait"), "{}", bad.body);
    assert_eq!(send(addr, "GET", "/nowhere", "", "").await.status, 404);
    let refused = send(addr, "DELETE", "/poll", "", "").await;
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn a_client_that_disconnects_while_held_frees_its_waiter() {
    let (addr, handler) = start().await;
    let topic = Topic::new("t").unwrap();
    let mut streams = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /poll?topic=t&wait=20 HTTP/1.1\r\nhost: test\r\n\r\n")
            .await
            .unwrap();
        streams.push(s);
    }
    eventually("all 50 are held", || {
        handler.broker().subscriber_count(&topic) == 50
    })
    .await;
    drop(streams);
    eventually("every waiter is freed", || {
        handler.broker().subscriber_count(&topic) == 0 && handler.broker().topic_count() == 0
    })
    .await;
}

#[tokio::test]
async fn curl_can_publish_and_poll() {
    // A real client is the point of this test: never skipped (`cargo xtask ci` installs curl).
    assert!(
        std::process::Command::new("curl")
            .arg("--version")
            .output()
            .is_ok(),
        "curl is not installed: install it (apt-get install curl) or run `cargo xtask ci`"
    );
    let (addr, _handler) = start().await;
    let curl = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let out = std::process::Command::new("curl")
                .args(["-s", "--max-time", "20"])
                .args(args)
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap()
        })
    };
    let base = format!("http://{addr}");
    let held = curl(vec![format!("{base}/poll?topic=c&wait=15")]);
    eventually("curl's poll is held", || {
        _handler
            .broker()
            .subscriber_count(&Topic::new("c").unwrap())
            == 1
    })
    .await;
    let cursor = curl(vec![
        "-d".into(),
        "from curl".into(),
        format!("{base}/publish?topic=c"),
    ])
    .await
    .unwrap()
    .trim_end()
    .to_owned();
    let body = held.await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["events"][0]["data"], "from curl");
    assert_eq!(v["next"], cursor);
    let headers = curl(vec![
        "-i".into(),
        format!("{base}/poll?topic=c&since={cursor}&wait=0"),
    ])
    .await
    .unwrap();
    assert!(headers.starts_with("HTTP/1.1 204"), "{headers}");
    assert!(
        headers
            .to_ascii_lowercase()
            .contains(&format!("push-cursor: {cursor}"))
    );
}

#[tokio::test]
async fn many_polls_held_on_one_http2_connection_and_one_reset_alone() {
    use http_body_util::{BodyExt, Empty};
    let (addr, handler) = start().await;
    let topic = Topic::new("h2").unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .expect("h2c with prior knowledge");
    tokio::spawn(connection);
    let poll = |sender: &hyper::client::conn::http2::SendRequest<Empty<bytes::Bytes>>| {
        let request = http::Request::get(format!("http://{addr}/poll?topic=h2&wait=20"))
            .body(Empty::new())
            .unwrap();
        let mut sender = sender.clone();
        tokio::spawn(async move {
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.version(), http::Version::HTTP_2);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<serde_json::Value>(&body).unwrap()
        })
    };
    // Ten polls held at once on the one connection, and one more that the client gives up on.
    let held: Vec<_> = (0..10).map(|_| poll(&sender)).collect();
    let abandoned = poll(&sender);
    eventually("eleven polls held", || {
        handler.broker().subscriber_count(&topic) == 11
    })
    .await;
    abandoned.abort();
    eventually("the abandoned poll's waiter freed", || {
        handler.broker().subscriber_count(&topic) == 10
    })
    .await;
    let cursor = handler
        .broker()
        .publish_now(&topic, push_core::Event::new("to all"))
        .unwrap();
    for answer in held {
        let v = tokio::time::timeout(Duration::from_secs(20), answer)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v["events"][0]["data"], "to all");
        assert_eq!(v["next"], cursor.to_string());
    }
}

#[tokio::test]
async fn a_publish_names_topics_by_the_one_strict_rule() {
    let (addr, handler) = start().await;
    // Every `topic=` counts (Mercure's union): one event on both topics, one cursor.
    let both = send(addr, "POST", "/publish?topic=b&topic=a&topic=b", "", "x").await;
    assert_eq!(both.status, 200, "{}", both.body);
    let cursors: Vec<&str> = both.body.lines().collect();
    assert_eq!(
        cursors,
        [handler.broker().head().to_string()],
        "{}",
        both.body
    );
    for name in ["a", "b"] {
        let topic = Topic::new(name).unwrap();
        assert_eq!(handler.broker().retained(&topic), 1, "{name}");
    }
    // Invalid escapes and non-UTF-8 are refused, never decoded lossily or taken literally.
    for target in [
        "/publish?topic=a%ffb",
        "/publish?topic=a%feb",
        "/publish?topic=%zz",
    ] {
        let refused = send(addr, "POST", target, "", "x").await;
        assert_eq!(refused.status, 400, "{target}: {}", refused.body);
    }
    let literal = Topic::new("%zz").unwrap();
    assert_eq!(handler.broker().retained(&literal), 0);
}
