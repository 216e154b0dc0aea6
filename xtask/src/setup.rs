//! Installs what the checks need when it is missing, so CI passes on a fresh machine.

use std::process::{Command, Stdio};

use crate::{cargo, exec};

/// rustfmt and clippy, through rustup when they are missing.
pub(crate) fn toolchain_components() -> Result<(), String> {
    for (component, probe) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        let present = cargo()
            .args([probe, "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !present {
            exec(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    Ok(())
}

/// External programs the tests drive (real clients and servers), installed with apt-get when
/// missing. Tests that need them find them on PATH.
pub(crate) fn test_dependencies() -> Result<(), String> {
    apt(&[
        // curl: a real HTTP client in the SSE and long-poll tests.
        ("curl", "curl"),
        // Chromium: a real browser EventSource in the SSE tests (run headless).
        ("chromium", "chromium"),
        // nghttp: a real HTTP/2 client that shows PUSH_PROMISE frames (push-h2's tests).
        ("nghttp2-client", "nghttp"),
        // Node.js and npm: Node's `eventsource` package in the SSE tests (npm installs it into
        // .tools/node on first use).
        ("nodejs", "node"),
        ("npm", "npm"),
    ])
}

/// Installs the Debian packages whose probe binary is missing.
pub(crate) fn apt(packages: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, binary)| !on_path(binary))
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo = !is_root();
    let apt_get = |args: &[&str]| {
        let mut cmd = if sudo {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        } else {
            Command::new("apt-get")
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    exec(&mut apt_get(&["update", "-q"]))?;
    let mut install = apt_get(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    exec(&mut install)
}

/// Whether `binary` is an executable on PATH.
pub(crate) fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(binary).is_file()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}
