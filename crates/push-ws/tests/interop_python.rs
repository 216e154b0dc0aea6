//! Interop with a real non-Rust client: Python's `websockets` (PyPI) against our echo and push
//! servers on loopback.
//!
//! `cargo xtask setup` (run by `cargo xtask ci`) installs the client into the git-ignored
//! `.tools/venv` at the workspace root; without it the tests fail and say so.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use push_broker::MemoryBroker;
use push_core::{Event, Topic};
use push_ws::server::Config;
use serde_json::Value;
use support::server;

/// The venv's python with `websockets` (installed by `cargo xtask setup`; the test fails and
/// says so when it is missing).
fn python_websockets() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| push_test_support::tools::python(&["websockets"]))
        .clone()
}

/// Runs `script` with `args`, killed after 30 s; returns its stdout lines parsed as JSON.
fn run_python(python: &Path, script: &str, args: &[String]) -> Vec<Value> {
    let mut child = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().expect("wait works").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the python client did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    assert!(output.status.success(), "python client failed");
    String::from_utf8(output.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

const ECHO_CLIENT: &str = r#"
import asyncio, json, sys
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

async def main(url):
    async with connect(url) as ws:
        await ws.send("héllo")
        print(json.dumps({"text": await ws.recv()}))
        await ws.send(b"\x00\xff")
        print(json.dumps({"binary": list(await ws.recv())}))
        try:
            await ws.send("x" * (2 << 20))
            await ws.recv()
        except ConnectionClosedError as e:
            print(json.dumps({"closed": e.rcvd.code}))
    try:
        async with connect(url, origin="https://evil.example"):
            pass
    except InvalidStatus as e:
        print(json.dumps({"refused": e.response.status_code}))
    async with connect(url, origin="https://app.example") as ws:
        await ws.close()
        print(json.dumps({"closed": ws.close_code}))

asyncio.run(asyncio.wait_for(main(sys.argv[1]), 20))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_websockets_against_the_echo_server() {
    let python = python_websockets();
    let accept = Config::default().with_allowed_origin("https://app.example");
    let (addr, _outcomes) = server(accept, None).await;
    let url = format!("ws://{addr}/");
    let lines = tokio::task::spawn_blocking(move || run_python(&python, ECHO_CLIENT, &[url]))
        .await
        .unwrap();
    let want: Vec<Value> = [
        r#"{"text":"héllo"}"#,
        r#"{"binary":[0,255]}"#,
        r#"{"closed":1009}"#,
        r#"{"refused":403}"#,
        r#"{"closed":1000}"#,
    ]
    .iter()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    assert_eq!(lines, want);
}

const PUSH_CLIENT: &str = r#"
import asyncio, json, sys
from websockets.asyncio.client import connect

async def main(url, cursor):
    async with connect(url) as ws:
        await ws.send(json.dumps({"type": "hello"}))
        print(await ws.recv())
        await ws.send(json.dumps({"type": "subscribe", "topics": ["py"], "from": cursor}))
        for _ in range(4):
            message = await ws.recv()
            print(json.dumps({"bytes": list(message)}) if isinstance(message, bytes) else message)

asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2]), 20))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_websockets_resumes_with_a_cursor() {
    let python = python_websockets();
    let broker = MemoryBroker::default();
    let topic = Topic::new("py").unwrap();
    let before = broker.publish_now(&topic, Event::new("seen")).unwrap();
    let text = broker.publish_now(&topic, Event::new("missed")).unwrap();
    let binary = broker
        .publish_now(&topic, Event::new(vec![1u8, 0xff]))
        .unwrap();
    let (addr, _outcomes) = server(Config::default(), Some(broker)).await;
    let args = [format!("ws://{addr}/"), before.to_string()];
    let lines = tokio::task::spawn_blocking(move || run_python(&python, PUSH_CLIENT, &args))
        .await
        .unwrap();
    assert_eq!(lines[0]["type"], "error");
    assert_eq!(lines[1]["type"], "subscribed");
    assert_eq!(lines[1]["cursor"], before.to_string());
    assert_eq!(lines[2]["data"], "missed");
    assert_eq!(lines[2]["id"], text.to_string());
    assert_eq!(lines[3]["binary"], 2);
    assert_eq!(lines[3]["id"], binary.to_string());
    assert_eq!(lines[4]["bytes"], serde_json::json!([1, 255]));
}
