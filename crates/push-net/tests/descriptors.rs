//! Running out of file descriptors, for real: a server in a child process (this test, run
//! again with an environment variable set) with `RLIMIT_NOFILE` at 64, exhausted with idle loopback connections. It must not
//! exit, must not spin, and must serve again once the connections are gone.

#![cfg(target_os = "linux")]

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use push_net::{Acceptor, ServerConfig};

/// Set in the child: the server runs instead of the test.
const CHILD: &str = "PUSH_NET_DESCRIPTOR_CHILD";
const NOFILE: u32 = 64;

/// The server the child runs: the accept loop every example uses, answering `200 ok`.
fn child_server() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = ServerConfig::default();
        let acceptor = Acceptor::bind("127.0.0.1:0".parse().unwrap(), &config).unwrap();
        println!("LISTENING {}", acceptor.local_addr().unwrap());
        // An accept error ends the child, which the parent sees.
        support::serve_ok(acceptor, config).await;
    });
}

/// Kills the child however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_server() -> (Server, SocketAddr) {
    let exe = std::env::current_exe().unwrap();
    // `ulimit` in a shell that then becomes the server: no unsafe `setrlimit` here, and no
    // dependency beyond a POSIX shell.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {NOFILE} && exec \"$0\" \"$@\""))
        .arg(exe)
        .args([
            &in_this_module("exhausted_descriptors_pause_accepting"),
            "--exact",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    for line in BufReader::new(stdout).lines().take(20) {
        if let Some(addr) = line.unwrap().strip_prefix("LISTENING ") {
            return (server, addr.parse().unwrap());
        }
    }
    panic!("the child server did not start");
}

/// The name the test harness knows a test of this module by: its path below the crate root.
fn in_this_module(test: &str) -> String {
    match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::{test}"),
        None => test.to_owned(),
    }
}

/// User plus system CPU time of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn get(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

#[test]
fn exhausted_descriptors_pause_accepting() {
    if std::env::var_os(CHILD).is_some() {
        // This is the child: be the server (until the parent kills it).
        return child_server();
    }
    let (mut server, addr) = spawn_server();
    assert!(
        get(addr).unwrap().starts_with("HTTP/1.1 200"),
        "served at first"
    );

    // Twice the descriptor limit in idle connections: the kernel completes them (the backlog
    // holds what the server cannot accept), the server runs out of descriptors.
    let idle: Vec<TcpStream> = (0..2 * NOFILE)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .collect();
    assert!(
        idle.len() > NOFILE as usize,
        "only {} connected",
        idle.len()
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "the server exited when it ran out of descriptors"
    );
    // Not spinning: over one second it uses well under half a core (a spinning accept loop
    // uses all of one; the accept pause wakes a few times a second).
    let pid = server.0.id();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(pid) - before;
    assert!(
        used < 30,
        "{used} ticks of CPU in a second while out of descriptors"
    );

    drop(idle);
    // Bounded: the accept pause is at most a second; 20 tries of 2 s each.
    let served = (0..20).any(|_| {
        let ok = get(addr).is_ok_and(|r| r.starts_with("HTTP/1.1 200"));
        if !ok {
            std::thread::sleep(Duration::from_millis(250));
        }
        ok
    });
    assert!(served, "the server did not serve again");
    assert!(server.0.try_wait().unwrap().is_none(), "the server exited");
}
