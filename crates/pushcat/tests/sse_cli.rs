//! `pushcat sse decode` and `pushcat sse listen`, run as a user runs them.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_sse::server::{Config, Endpoint};
use tower::ServiceExt;

use crate::support;

fn pushcat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pushcat"))
}

fn decode(input: &[u8], chunk: Option<usize>) -> String {
    let mut cmd = pushcat();
    cmd.args(["sse", "decode"]);
    if let Some(n) = chunk {
        cmd.args(["--chunk-size", &n.to_string()]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn decode_prints_one_json_line_per_event_and_retry_at_every_chunk_size() {
    let input = b"\xEF\xBB\xBFretry: 3000\r\nevent: add\r\nid: 1\r\ndata: {\"n\": 1}\r\ndata: two\r\r\n: keep-alive\n\ndata: caf\xC3\xA9\rdata:\t\"q\"\\\n\nid\ndata: last\n\ndata: unfinished";
    let expected = concat!(
        "{\"retry\":3000}\n",
        "{\"event\":\"add\",\"data\":\"{\\\"n\\\": 1}\\ntwo\",\"id\":\"1\"}\n",
        "{\"event\":\"message\",\"data\":\"café\\n\\t\\\"q\\\"\\\\\",\"id\":\"1\"}\n",
        "{\"event\":\"message\",\"data\":\"last\",\"id\":\"\"}\n",
    );
    assert_eq!(decode(input, None), expected);
    for chunk in 1..=7 {
        assert_eq!(decode(input, Some(chunk)), expected, "chunk size {chunk}");
    }
}

#[test]
fn decode_rejects_a_bad_chunk_size() {
    let out = pushcat()
        .args(["sse", "decode", "--chunk-size", "0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--chunk-size"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_resumes_from_a_last_event_id_and_prints_events() {
    let broker = MemoryBroker::default();
    let topic = Topic::new("news").unwrap();
    let first = broker.publish_now(&topic, Event::new("zero")).unwrap();
    let second = broker
        .publish_now(&topic, Event::new("one").with_event("story"))
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let endpoint = Endpoint::new(broker.clone(), Config::default());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let endpoint = endpoint.clone();
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                endpoint.clone().oneshot(req)
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let url = format!("http://{addr}/events?topic=news");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args([
            "sse",
            "listen",
            &url,
            "--last-event-id",
            &first.to_string(),
            "--count",
            "2",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        while broker.subscriber_count(&topic) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("pushcat subscribed");
    let live = broker.publish_now(&topic, Event::new("two")).unwrap();
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("pushcat stops after --count events")
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "{{\"event\":\"story\",\"data\":\"one\",\"id\":\"{second}\"}}\n{{\"event\":\"message\",\"data\":\"two\",\"id\":\"{live}\"}}\n"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_over_https_trusting_a_cacert_file() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (acceptor, pem) = support::tls_acceptor("sse");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        // One connection: read the request head, answer one event, keep the stream open.
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            if tls.read(&mut byte).await.unwrap() == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let body = "id: 9\ndata: secret\n\n";
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(response.as_bytes()).await.unwrap();
        tls.flush().await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
    });
    let url = format!("https://localhost:{port}/events");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(["sse", "listen", &url, "--count", "1", "--cacert"])
        .arg(&pem)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("pushcat stops after --count events")
        .unwrap();
    let _ = std::fs::remove_file(&pem);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"event\":\"message\",\"data\":\"secret\",\"id\":\"9\"}\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_survives_a_hostile_retry_and_a_broken_connection() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    // A server that sets a retry of 10^17 ms and then breaks the connection mid-body: the
    // client's backoff overflowed and panicked (exit status 101).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            if tcp.read(&mut byte).await.unwrap() == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let body = "retry: 99999999999999999\ndata: a\n\n";
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n",
            body.len()
        );
        tcp.write_all(response.as_bytes()).await.unwrap();
        tcp.flush().await.unwrap();
        // Dropped without the last chunk: the body breaks.
    });
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(["sse", "listen", &format!("http://{addr}/events")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            let done = line.contains("reconnecting");
            seen.push(line);
            if done {
                return;
            }
        }
    })
    .await
    .expect("pushcat reports the broken connection");
    assert!(
        seen.last().is_some_and(|l| l.contains("reconnecting")),
        "pushcat said {seen:?}"
    );
    // Still alive, waiting (the delay is capped at the policy's 60 s) rather than crashed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(child.try_wait().unwrap().is_none(), "pushcat exited");
    child.kill().await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"retry\":99999999999999999}\n{\"event\":\"message\",\"data\":\"a\",\"id\":\"\"}\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_goes_on_after_an_id_no_header_can_carry() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // `id: a\x01b` is a valid SSE id but no HTTP header value: pushcat exited with "invalid
    // URL". It must report it, reconnect (without the id) and go on.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut heads = Vec::new();
        for body in ["retry: 1\nid: a\x01b\n\n", "data: after\n\n"] {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                if tcp.read(&mut byte).await.unwrap() == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            heads.push(String::from_utf8_lossy(&head).to_lowercase());
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            tcp.write_all(response.as_bytes()).await.unwrap();
            tcp.shutdown().await.unwrap();
        }
        heads
    });
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args([
            "sse",
            "listen",
            &format!("http://{addr}/events"),
            "--count",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("pushcat reconnects and gets the event")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", out.status);
    assert!(
        stderr.contains("cannot be sent as a Last-Event-ID") && stderr.contains("reconnecting"),
        "pushcat said {stderr:?}"
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"retry\":1}\n{\"event\":\"message\",\"data\":\"after\",\"id\":\"a\\u0001b\"}\n"
    );
    let heads = server.await.unwrap();
    assert!(!heads[1].contains("last-event-id"), "{heads:?}");
}
