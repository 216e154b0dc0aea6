//! What the push-hub integration tests share. Starting a hub for a test: in-process (the library, to publish through its broker) or as the
//! binary (what people run), on a loopback port chosen by the system.

#![allow(dead_code, unreachable_pub)]

pub mod service;
pub mod webpush;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use push_hub::args::Args;
use push_hub::ops::shutdown::Shutdown;
use push_hub::serve::{Hub, HubBroker};
use tokio::task::JoinHandle;

/// A hub running in this process.
pub struct InProcess {
    pub addr: SocketAddr,
    pub broker: HubBroker,
    /// Its callbacks (the registry, to store a registration as the routes do).
    pub callbacks: std::sync::Arc<push_hub::callbacks::Callbacks>,
    pub shutdown: Shutdown,
    pub task: JoinHandle<std::io::Result<()>>,
}

/// The key of the test hubs.
pub const KEY: &str = "a-test-secret-that-is-long-enough-for-hs256";

/// Arguments for a test hub: loopback, any port, memory only, the key [`KEY`], anonymous
/// subscribers allowed (public updates).
pub fn args() -> Args {
    let mut args = Args::defaults();
    args.addr = "127.0.0.1:0".parse().unwrap();
    args.in_memory = true;
    args.anonymous = true;
    args.jwt_key = vec![KEY.into()];
    args
}

/// A token signed with [`KEY`] granting `claims`.
pub fn token(claims: push_hub::token::Claims) -> String {
    let key = push_hub::auth::KeySpec::new(KEY, push_hub::auth::Algorithm::HS256);
    push_hub::token::mint(&key, &claims).unwrap()
}

/// Starts a hub with `args` in this process.
pub fn start(args: Args) -> InProcess {
    let bound = Hub::new(args).unwrap().bind().unwrap();
    let addr = bound.local_addr();
    let broker = bound.hub().broker().clone();
    let callbacks = std::sync::Arc::clone(bound.hub().callbacks());
    let shutdown = bound.hub().shutdown().clone();
    let task = tokio::spawn(bound.run(std::future::pending()));
    InProcess {
        addr,
        broker,
        callbacks,
        shutdown,
        task,
    }
}

/// Starts a hub with `args` in this process through [`Hub::open`] (which connects to Redis
/// with `--redis`).
pub async fn open(args: Args) -> InProcess {
    let bound = Hub::open(args).await.unwrap().bind().unwrap();
    let addr = bound.local_addr();
    let broker = bound.hub().broker().clone();
    let callbacks = std::sync::Arc::clone(bound.hub().callbacks());
    let shutdown = bound.hub().shutdown().clone();
    let task = tokio::spawn(bound.run(std::future::pending()));
    InProcess {
        addr,
        broker,
        callbacks,
        shutdown,
        task,
    }
}

/// Stops `hub` (a hub with a `--data-dir`), writes `events` on `topic` into its history
/// while nothing fans out, and starts it again with `args`: the restarted hub finds them in
/// its journal. Returns the restarted hub's shutdown and task.
pub async fn restart_after(
    hub: InProcess,
    topic: &str,
    events: Vec<push_core::Event>,
    args: impl Fn() -> Args,
) -> (Shutdown, JoinHandle<std::io::Result<()>>) {
    use push_core::Broker as _;
    hub.shutdown.trigger();
    hub.task.await.unwrap().unwrap();
    drop(hub.broker);
    drop(hub.callbacks);
    let dir = args().data_dir;
    let store = retry(|| push_hub::store::open(&dir, push_broker::Config::default())).await;
    let topics = [push_core::Topic::new(topic).unwrap()];
    for event in events {
        store.publish(&topics, event).await.unwrap();
    }
    drop(store);
    let bound = retry(|| Hub::new(args())).await.bind().unwrap();
    let shutdown = bound.hub().shutdown().clone();
    (shutdown, tokio::spawn(bound.run(std::future::pending())))
}

/// Retries `open` for up to 5 s: a stopped hub's tasks let go of its files as they are
/// dropped (an aborted task is dropped at the runtime's next turn).
pub async fn retry<T, E: std::fmt::Debug>(mut open: impl FnMut() -> Result<T, E>) -> T {
    let mut last = None;
    for _ in 0..100 {
        match open() {
            Ok(value) => return value,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{last:?}")
}

/// `curl ARGS…` with a bounded time; its status, stdout and stderr.
pub fn curl(args: &[&str]) -> (bool, String, String) {
    let curl = push_test_support::tools::program("curl", "curl");
    let output = Command::new(curl)
        .args(["--silent", "--show-error", "--max-time", "10"])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// [`curl`] off the async runtime's threads.
pub async fn curl_async(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&args)
    })
    .await
    .unwrap()
}

/// Publishes through curl to the hub at `addr`, with a publisher token for every topic: one
/// `-d` per field of `form` (curl joins them with `&`). The update's id.
pub async fn curl_publish(addr: SocketAddr, form: &[&str]) -> String {
    let authorization = format!(
        "Authorization: Bearer {}",
        token(push_hub::token::Claims::new().publish("*"))
    );
    let mut args = vec!["-f".to_owned(), "-H".to_owned(), authorization];
    for field in form {
        args.extend(["-d".to_owned(), (*field).to_owned()]);
    }
    args.push(format!("http://{addr}/.well-known/mercure"));
    let (ok, id, err) = curl_async(args).await;
    assert!(ok, "publish {form:?}: {err}");
    id
}

/// A raw HTTP/1.1 `POST` of `form` to `/.well-known/mercure` with `token`: the status and
/// the body.
pub async fn post_form(addr: SocketAddr, token: &str, form: &str) -> (u16, String) {
    let request = format!(
        "POST /.well-known/mercure HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{form}",
        form.len()
    );
    let text = push_test_support::http::RawClient::send(addr, &request)
        .await
        .to_end()
        .await;
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_owned())
}

/// A raw HTTP/1.1 `GET` of `target` with the extra header lines `headers` (each ending in
/// CRLF): the status, and the connection (held, for a stream).
pub async fn get_status(
    addr: SocketAddr,
    target: &str,
    headers: &str,
) -> (u16, push_test_support::http::RawClient) {
    let mut raw = push_test_support::http::RawClient::get(addr, target, headers).await;
    let line = raw.until("\r\n").await;
    (line[9..12].parse().unwrap(), raw)
}

/// Opens a WebSocket to `request` (a `/ws` URL, or a request with its headers) on `addr` and
/// waits (10 s at most) for its first `event` message: that message's text, and every
/// message before it (the `subscribed` answer…), as debug text.
pub async fn first_ws_event<R>(addr: SocketAddr, request: R) -> (String, Vec<String>)
where
    R: tokio_tungstenite::tungstenite::client::IntoClientRequest + Unpin,
{
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    let mut seen = Vec::new();
    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await.unwrap().unwrap() {
                Message::Text(text) if text.contains("\"event\"") => return text.to_string(),
                other => seen.push(format!("{other:?}")),
            }
        }
    })
    .await;
    match event {
        Ok(event) => (event, seen),
        Err(_) => panic!("no event over /ws: {seen:?}"),
    }
}

/// The `push-hub` binary, started in a fresh temporary folder with `env` and `flags`; its
/// banner read up to the first line that names where it listens.
pub struct Binary {
    pub child: Child,
    pub addr: SocketAddr,
    pub banner: String,
    pub dir: PathBuf,
    pub stdout: BufReader<std::process::ChildStdout>,
    /// Whether dropping removes `dir`.
    pub owns_dir: bool,
}

/// A fresh temporary folder.
pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "push-hub-test-{}-{}",
        std::process::id(),
        getrandom_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Binary {
    pub fn start(env: &[(&str, &str)], flags: &[&str]) -> Self {
        let mut binary = Self::start_in(temp_dir(), env, flags);
        binary.owns_dir = true;
        binary
    }

    /// Starts the binary in `dir` (kept when it ends: a restart can use it again).
    pub fn start_in(dir: PathBuf, env: &[(&str, &str)], flags: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_push-hub"));
        command
            .current_dir(&dir)
            .env_remove("RUST_LOG")
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // The log, kept beside the data (an unread pipe could fill up and stall the hub).
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        let addr = loop {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "the hub exited: {banner}"
            );
            banner.push_str(&line);
            if let Some(rest) = line.strip_prefix("push-hub listening on http://") {
                let addr = rest.split('/').next().unwrap();
                break addr.parse().unwrap();
            }
        };
        Self {
            child,
            addr,
            banner,
            dir,
            stdout,
            owns_dir: false,
        }
    }

    /// Reads the rest of the banner (the lines printed with the first one).
    pub fn read_banner_until(&mut self, done: impl Fn(&str) -> bool) {
        while !done(&self.banner) {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "{}",
                self.banner
            );
            self.banner.push_str(&line);
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the hub did not exit in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn getrandom_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
