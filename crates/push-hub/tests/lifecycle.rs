//! The binary as people run it: it starts with no flag and says where it listens and what key
//! it made; it refuses connections over its limit with 503 and Retry-After; SIGTERM ends held
//! streams with a jittered retry hint and exits within its bound.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::{Binary, KEY, curl, temp_dir};

#[test]
fn starts_without_flags_and_prints_the_banner() {
    // No flag: the address comes from the environment only so parallel tests do not collide.
    let mut hub = Binary::start(&[("PUSH_HUB_ADDR", "127.0.0.1:0")], &[]);
    let rule = format!("{}\n", "!".repeat(78));
    hub.read_banner_until(|banner| banner.matches(&rule).count() == 2);
    assert!(hub.banner.contains("DEVELOPMENT KEY"), "{}", hub.banner);
    let key_line = hub
        .banner
        .lines()
        .find(|l| l.starts_with("!! key (HS256): "))
        .unwrap();
    assert_eq!(key_line.len(), "!! key (HS256): ".len() + 64);
    let token_line = hub
        .banner
        .lines()
        .find(|l| l.starts_with("!! publisher token"))
        .unwrap();
    assert_eq!(token_line.matches('.').count(), 2, "a JWS: {token_line}");
    let curl_line = hub.banner.lines().find(|l| l.starts_with("curl ")).unwrap();
    assert!(
        curl_line.contains("Authorization: Bearer ey"),
        "{curl_line}"
    );
    let demo_line = hub
        .banner
        .lines()
        .find(|l| l.starts_with("!! the demo"))
        .unwrap();
    assert!(demo_line.contains("/#token=ey"), "{demo_line}");
    let (ok, body, err) = curl(&[&format!("http://{}/healthz", hub.addr)]);
    assert!(ok, "{err}");
    assert_eq!(body, "ok\n");
    // Development mode lets a subscriber without a token in (public updates), so the demo
    // page works with no flag.
    let (ok, status, err) = curl(&[
        "-I",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("http://{}/.well-known/mercure?topic=demo", hub.addr),
    ]);
    assert!(ok, "{err}");
    assert_eq!(status, "200");
    hub.terminate();
    assert!(hub.wait(Duration::from_secs(15)).success());
}

#[test]
fn a_configured_key_starts_quietly() {
    let hub = Binary::start(
        &[("PUSH_HUB_JWT_KEY", "configured-secret-configured-secret")],
        &["--addr", "127.0.0.1:0", "--in-memory"],
    );
    assert!(!hub.banner.contains("DEVELOPMENT"), "{}", hub.banner);
}

#[test]
fn connections_over_the_limit_get_503_with_retry_after() {
    let hub = Binary::start(&[], &["--addr", "127.0.0.1:0", "--max-connections", "1"]);
    // One connection that says nothing yet holds the only place.
    let _holder = TcpStream::connect(hub.addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut second = TcpStream::connect(hub.addr).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    second.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    assert!(answer.contains("retry-after: 5\r\n"), "{answer}");
}

#[test]
fn sigterm_ends_held_polls_with_a_jittered_retry_after_and_exits() {
    let mut hub = Binary::start(
        &[],
        &[
            "--addr",
            "127.0.0.1:0",
            "--anonymous",
            "--shutdown-retry",
            "3s",
            "--shutdown-timeout",
            "5s",
        ],
    );
    let url = format!("http://{}/poll?topic=t&wait=60", hub.addr);
    let polls: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || curl(&["-i", &url]))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    hub.terminate();
    for poll in polls {
        let (_, head, err) = poll.join().unwrap();
        assert!(head.starts_with("HTTP/1.1 503"), "{head} {err}");
        let delay: u64 = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("retry-after: ")
                    .map(str::to_owned)
            })
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!((3..=6).contains(&delay), "{head}");
    }
    // (A 503 is the shutdown's answer: the 60 s wait would have ended with 204.)
    assert!(hub.wait(Duration::from_secs(10)).success());
}

/// Clients that would hold their connections for two minutes (a request head never finished,
/// a publish body never sent): the shutdown waits `--shutdown-timeout` for them, then exits.
/// With the same clients and a 30 s shutdown timeout the hub stays up those 30 s (measured by
/// hand); the bound here is the clients' 120 s, not a speed.
#[test]
fn a_shutdown_exits_at_its_bound_whatever_clients_hold() {
    use std::io::Write as _;
    let mut hub = Binary::start(
        &[],
        &[
            "--addr",
            "127.0.0.1:0",
            "--request-timeout",
            "120s",
            "--body-timeout",
            "120s",
            "--shutdown-timeout",
            "1s",
        ],
    );
    let mut head = TcpStream::connect(hub.addr).unwrap();
    head.write_all(b"GET /poll?topic=t HTTP/1.1\r\nHost: hub\r\n")
        .unwrap();
    let mut body = TcpStream::connect(hub.addr).unwrap();
    body.write_all(
        b"POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nContent-Length: 100\r\n\r\ntopic=a",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    hub.terminate();
    assert!(hub.wait(Duration::from_secs(60)).success());
    drop((head, body));
}

#[test]
fn the_banner_curl_line_publishes() {
    let mut hub = Binary::start(&[("PUSH_HUB_ADDR", "127.0.0.1:0")], &[]);
    let rule = format!("{}\n", "!".repeat(78));
    hub.read_banner_until(|banner| banner.matches(&rule).count() == 2);
    let line = hub.banner.lines().find(|l| l.starts_with("curl ")).unwrap();
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{line} --silent --show-error --max-time 10"))
        .output()
        .unwrap();
    let id = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(id.starts_with("urn:uuid:"), "{id}");
}

/// Waits (bounded) until the hub at `addr` holds `count` SSE streams.
fn wait_for_sse_streams(addr: std::net::SocketAddr, count: usize) {
    let line = format!("push_hub_streams{{transport=\"sse\"}} {count}\n");
    for _ in 0..500 {
        let (_, metrics, _) = curl(&[&format!("http://{addr}/metrics")]);
        if metrics.contains(&line) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the hub never held {count} SSE streams");
}

#[test]
fn sigterm_ends_event_streams_with_a_jittered_retry_hint() {
    let mut hub = Binary::start(
        &[],
        &[
            "--addr",
            "127.0.0.1:0",
            "--anonymous",
            "--shutdown-retry",
            "2s",
            "--shutdown-timeout",
            "5s",
            "--log",
            "push_hub=debug,info",
        ],
    );
    let url = format!("http://{}/.well-known/mercure?topic=t", hub.addr);
    // Over h2c (the router) and over HTTP/1.1 (the lean path).
    let h2 = std::thread::spawn({
        let url = url.clone();
        move || curl(&["--http2-prior-knowledge", "-N", &url])
    });
    let h1 = std::thread::spawn(move || curl(&["-N", &url]));
    wait_for_sse_streams(hub.addr, 2);
    hub.terminate();
    let (ok, body, err) = h2.join().unwrap();
    assert!(ok, "{err}");
    let retry: u64 = body
        .rsplit_once("retry: ")
        .and_then(|(_, rest)| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| {
            let log = std::fs::read_to_string(hub.dir().join("stderr.log")).unwrap_or_default();
            panic!("no retry hint in {body:?}; the hub's log:\n{log}")
        })
        .parse()
        .unwrap();
    assert!((2000..=4000).contains(&retry), "{body:?}");
    // The lean path's stream ends the same way.
    let (ok, body, err) = h1.join().unwrap();
    assert!(ok && body.starts_with(':'), "{body:?} {err}");
    let retry: u64 = body
        .rsplit_once("retry: ")
        .and_then(|(_, rest)| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("no retry hint on the lean path: {body:?}"))
        .parse()
        .unwrap();
    assert!((2000..=4000).contains(&retry), "{body:?}");
    assert!(hub.wait(Duration::from_secs(10)).success());
}

#[test]
fn a_restart_resumes_from_the_store() {
    let dir = temp_dir();
    let env = [("PUSH_HUB_JWT_KEY", KEY)];
    let flags = ["--addr", "127.0.0.1:0", "--anonymous"];
    let token = support::token(push_hub::token::Claims::new().publish("*"));
    let bearer = format!("Authorization: Bearer {token}");
    let mut first = Binary::start_in(dir.clone(), &env, &flags);
    let hub_url = format!("http://{}/.well-known/mercure", first.addr);
    for (id, data) in [("a", "one"), ("b", "two")] {
        let (ok, answer, err) = curl(&[
            "-H",
            &bearer,
            "-d",
            &format!("topic=jobs&id={id}&data={data}"),
            &hub_url,
        ]);
        assert!(ok && answer == id, "{answer} {err}");
    }
    first.terminate();
    assert!(first.wait(Duration::from_secs(10)).success());
    drop(first);
    let second = Binary::start_in(dir.clone(), &env, &flags);
    let url = format!("http://{}/.well-known/mercure?topic=jobs", second.addr);
    // The client saw `a` before the restart: it resumes with `b`, and only `b`.
    let (_, body, _) = curl(&["-N", "--max-time", "2", "-H", "Last-Event-ID: a", &url]);
    assert!(body.contains("id: b\ndata: two\n"), "{body:?}");
    assert!(!body.contains("data: one"), "{body:?}");
    drop(second);
    std::fs::remove_dir_all(dir).unwrap();
}
