//! Every transport on the one port, over loopback: HTTP/1.1, h2c with prior knowledge, TLS with
//! ALPN h2 and http/1.1; `/healthz`, `/metrics`, the pages and HTTP/2 push, `/ws` and `/poll`
//! delivering a published event; the stream quota.

use crate::support;

use std::time::Duration;

use futures_util::StreamExt;
use push_core::{Broker, Event, Topic};
use support::{args, curl_async, start};
use tokio_tungstenite::tungstenite::Message;

async fn publish(broker: &push_hub::serve::HubBroker, topic: &str, data: &str) {
    let topic = Topic::new(topic).unwrap();
    broker
        .publish(std::slice::from_ref(&topic), Event::new(data.to_owned()))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_metrics_and_pages_over_http1_and_h2c() {
    let hub = start(args());
    let base = format!("http://{}", hub.addr);
    for version in ["--http1.1", "--http2-prior-knowledge"] {
        let (ok, body, err) = curl_async(vec![version.into(), format!("{base}/healthz")]).await;
        assert!(ok, "{version}: {err}");
        assert_eq!(body, "ok\n");
        let (ok, body, _) = curl_async(vec![version.into(), format!("{base}/metrics")]).await;
        assert!(
            ok && body.contains("push_hub_connections{protocol="),
            "{body}"
        );
        assert!(body.ends_with("# EOF\n"), "{body}");
        let (_, status, _) = curl_async(vec![
            version.into(),
            "-o/dev/null".into(),
            "-w%{http_code}".into(),
            format!("{base}/nope"),
        ])
        .await;
        assert_eq!(status, "404");
        let (ok, js, _) = curl_async(vec![version.into(), format!("{base}/push.js")]).await;
        assert!(ok && js == push_hub::pages::find("/push.js").unwrap().body);
        // Mercure 1.0 clients discover the hub's authorization from its RFC 9728 metadata.
        let (ok, metadata, err) = curl_async(vec![
            version.into(),
            format!("{base}/.well-known/oauth-protected-resource/.well-known/mercure"),
        ])
        .await;
        assert!(ok, "{err}");
        assert!(metadata.contains("\"resource\""), "{metadata}");
    }
    // The metrics counted the connections of both protocols.
    let (_, metrics, _) = curl_async(vec![format!("{base}/metrics")]).await;
    assert!(
        metrics.contains("push_hub_connections{protocol=\"http1\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_pushed_with_its_script_over_h2c() {
    let hub = start(args());
    let url = format!("http://{}/", hub.addr);
    let output = tokio::task::spawn_blocking(move || {
        let nghttp = push_test_support::tools::program("nghttp", "nghttp2-client");
        std::process::Command::new(nghttp)
            .args(["-nv", "--timeout=10", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("PUSH_PROMISE"), "{log}");
    assert!(log.contains(":path: /push.js"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_delivers_a_published_event() {
    let hub = start(args());
    let from = hub.broker.head();
    let tcp = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let url = format!("ws://{}/ws?topic=news&from={from}", hub.addr);
    let (mut ws, response) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
    assert_eq!(response.status(), 101);
    publish(&hub.broker, "news", "over the websocket").await;
    let message = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await.unwrap().unwrap() {
                Message::Text(text) if text.contains("\"event\"") => return text,
                _ => {}
            }
        }
    })
    .await
    .unwrap();
    assert!(message.contains("over the websocket"), "{message}");
    let (_, metrics, _) = curl_async(vec![format!("http://{}/metrics", hub.addr)]).await;
    assert!(
        metrics.contains("push_hub_streams{transport=\"websocket\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("push_hub_events_delivered_total 1"),
        "{metrics}"
    );
    drop(ws);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_long_poll_delivers_a_published_event_on_every_protocol() {
    let hub = start(args());
    for (n, version) in ["--http1.1", "--http2-prior-knowledge"]
        .into_iter()
        .enumerate()
    {
        let since = hub.broker.head();
        let url = format!("http://{}/poll?topic=jobs&since={since}&wait=20", hub.addr);
        let poll = tokio::spawn(curl_async(vec![version.into(), url]));
        tokio::time::sleep(Duration::from_millis(300)).await;
        publish(&hub.broker, "jobs", &format!("done {n}")).await;
        let (ok, body, err) = poll.await.unwrap();
        assert!(ok, "{err}");
        assert!(body.contains(&format!("\"data\":\"done {n}\"")), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_speaks_h2_and_http1_by_alpn_beside_plain_http() {
    let dir = std::env::temp_dir().join(format!("push-hub-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let identity = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, identity.cert.pem()).unwrap();
    std::fs::write(&key, identity.key_pair.serialize_pem()).unwrap();
    let mut hub_args = args();
    hub_args.tls_cert = Some(cert.clone());
    hub_args.tls_key = Some(key);
    let hub = start(hub_args);
    let port = hub.addr.port();
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}/healthz");
    for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let (ok, out, err) = curl_async(vec![
            flag.into(),
            "--cacert".into(),
            cert.display().to_string(),
            "--resolve".into(),
            resolve.clone(),
            "-w".into(),
            " %{http_version}".into(),
            url.clone(),
        ])
        .await;
        assert!(ok, "{flag}: {err}");
        assert_eq!(out, format!("ok\n {version}"));
    }
    // A long poll over TLS with HTTP/2.
    let since = hub.broker.head();
    let poll = tokio::spawn(curl_async(vec![
        "--http2".into(),
        "--cacert".into(),
        cert.display().to_string(),
        "--resolve".into(),
        resolve.clone(),
        format!("https://localhost:{port}/poll?topic=secure&since={since}&wait=20"),
    ]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    publish(&hub.broker, "secure", "sealed").await;
    let (ok, body, err) = poll.await.unwrap();
    assert!(ok && body.contains("sealed"), "{body} {err}");
    // Plain HTTP on the same port.
    let (ok, body, _) = curl_async(vec![format!("http://127.0.0.1:{port}/healthz")]).await;
    assert!(ok && body == "ok\n");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_and_poll_are_authorized_by_the_hub_tokens() {
    let mut hub_args = args();
    hub_args.anonymous = false;
    let hub = start(hub_args);
    let poll = format!("http://{}/poll?topic=private-room&wait=0", hub.addr);
    // No token and no anonymous access: 401, counted.
    let (_, head, _) = curl_async(vec!["-i".into(), poll.clone()]).await;
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    let tcp = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let url = format!("ws://{}/ws?topic=private-room", hub.addr);
    let refused = tokio_tungstenite::client_async(url, tcp).await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
    // A subscriber token: private updates of its topics too.
    let token = support::token(push_hub::token::Claims::new().subscribe("private-room"));
    let since = hub.broker.head();
    let topic = Topic::new("private-room").unwrap();
    let event = Event::new("for the token").with_audience(push_core::Audience::Private);
    hub.broker
        .publish(std::slice::from_ref(&topic), event)
        .await
        .unwrap();
    let (ok, body, err) = curl_async(vec![
        "-H".into(),
        format!("Authorization: Bearer {token}"),
        format!("{poll}&since={since}"),
    ])
    .await;
    assert!(ok && body.contains("for the token"), "{body} {err}");
    let (_, metrics, _) = curl_async(vec![format!("http://{}/metrics", hub.addr)]).await;
    assert!(
        metrics.contains("push_hub_auth_failures_total 2"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_stream_quota_gets_429_with_retry_after() {
    let mut hub_args = args();
    hub_args.max_streams_per_client = 1;
    let hub = start(hub_args);
    let since = hub.broker.head();
    let url = format!("http://{}/poll?topic=q&since={since}&wait=20", hub.addr);
    let held = tokio::spawn(curl_async(vec![url.clone()]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, head, _) = curl_async(vec!["-i".into(), url]).await;
    assert!(head.starts_with("HTTP/1.1 429"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 5"),
        "{head}"
    );
    publish(&hub.broker, "q", "release").await;
    let (ok, body, _) = held.await.unwrap();
    assert!(ok && body.contains("release"), "{body}");
    let (_, metrics, _) = curl_async(vec![format!("http://{}/metrics", hub.addr)]).await;
    assert!(
        metrics.contains("push_hub_refused_total{limit=\"stream_quota\"} 1"),
        "{metrics}"
    );
}

/// The status line a subscribe with `token` gets (read from a raw socket: the stream itself
/// never ends).
async fn subscribe_status(addr: std::net::SocketAddr, token: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /.well-known/mercure?topic=t/0 HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut head)).await;
    let n = read.expect("no answer").unwrap();
    let text = String::from_utf8_lossy(&head[..n]).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

/// `--max-grant-selectors` bounds a subscriber token's grant: 100 selectors pass by default
/// (push-core's request selectors hold 64), and are refused past a lower flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grant_limit_is_the_flag() {
    let mut claims = push_hub::token::Claims::new();
    for i in 0..100 {
        claims = claims.subscribe(format!("t/{i}"));
    }
    let token = support::token(claims);
    let hub = start(args());
    assert_eq!(subscribe_status(hub.addr, &token).await, "HTTP/1.1 200 OK");
    let mut narrow = args();
    narrow.max_grant_selectors = 99;
    let hub = start(narrow);
    let status = subscribe_status(hub.addr, &token).await;
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");
}

/// `/poll` through the hub: a `Prefer: wait` hold is answered by the event with
/// `Preference-Applied`, and a short poll's `ETag` sent back as `If-None-Match` with nothing
/// new gets `304`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_honours_prefer_wait_and_answers_an_unchanged_etag_with_304() {
    let hub = start(args());
    let since = hub.broker.head();
    let url = format!("http://{}/poll?topic=pref&since={since}", hub.addr);
    let prefer = ["-si", "-H", "Prefer: wait=20", &url].map(String::from);
    let held = tokio::spawn(curl_async(prefer.to_vec()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    publish(&hub.broker, "pref", "preferred").await;
    let (ok, out, err) = held.await.unwrap();
    assert!(ok, "{err}");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains("preference-applied: wait="),
        "{out}"
    );
    assert!(out.contains("\"data\":\"preferred\""), "{out}");

    let now = hub.broker.head();
    let short = format!("http://{}/poll?topic=pref&since={now}&wait=0", hub.addr);
    let (_, first, _) = curl_async(vec!["-si".into(), short.clone()]).await;
    let etag = first
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("etag")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no ETag: {first}"));
    let if_none_match = format!("If-None-Match: {etag}");
    let again = ["-si", "-H", &if_none_match, &short].map(String::from);
    let (_, second, _) = curl_async(again.to_vec()).await;
    assert!(second.starts_with("HTTP/1.1 304"), "{second}");
    // Something new: the same tag gets the event.
    publish(&hub.broker, "pref", "newer").await;
    let (_, third, _) = curl_async(again.to_vec()).await;
    assert!(third.starts_with("HTTP/1.1 200"), "{third}");
    assert!(third.contains("\"data\":\"newer\""), "{third}");
}

/// HTTP/2 with push turned off (curl never takes a push): the demo page is announced with
/// `103 Early Hints` naming its script before the page itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_push_off_the_page_gets_early_hints_over_h2c() {
    let hub = start(args());
    let url = format!("http://{}/", hub.addr);
    let (ok, out, err) =
        curl_async(vec!["-si".into(), "--http2-prior-knowledge".into(), url]).await;
    assert!(ok, "{err}");
    let (hints, page) = out
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(hints.starts_with("HTTP/2 103"), "{out}");
    assert!(hints.contains("</push.js>; rel=preload"), "{hints}");
    assert!(page.starts_with("HTTP/2 200"), "{page}");
}
