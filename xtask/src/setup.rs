//! Installs what the checks need when it is missing, so CI passes on a fresh machine.

use std::process::{Command, Stdio};

use crate::{cargo, exec, root};

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
        // Chromium: a real browser in the SSE tests and push-hub's page tests (run headless,
        // driven over DevTools).
        ("chromium", "chromium"),
        // PHP: Symfony's Mercure component publishing to push-hub (its interop test).
        ("php-cli", "php"),
        // zbarimg: a real QR decoder reading back push-hub's sign-in QR code.
        ("zbar-tools", "zbarimg"),
        // nghttp: a real HTTP/2 client that shows PUSH_PROMISE frames (push-h2's tests).
        ("nghttp2-client", "nghttp"),
        // Node.js and npm: Node's `eventsource` package in the SSE tests (npm installs it into
        // .tools/node on first use).
        ("nodejs", "node"),
        ("npm", "npm"),
        // Python 3 with venv: Python `websockets` in the WebSocket interop tests.
        ("python3", "python3"),
        // Redis 7 (redis-server and redis-cli): push-redis' tests start their own servers.
        ("redis-server", "redis-server"),
    ])?;
    // venv's ensurepip comes in a separate Debian package that has no binary to probe.
    if !python_venv_works() {
        apt_install(&["python3-venv"])?;
    }
    // Symfony's Mercure component is PHP source with no binary to probe: its autoloader.
    if !std::path::Path::new(SYMFONY_MERCURE).is_file() {
        apt_install(&["php-symfony-mercure"])?;
    }
    node_packages()?;
    python_packages()
}

/// Where Debian's `php-symfony-mercure` puts its autoloader (push_test_support::tools reads the
/// same path).
const SYMFONY_MERCURE: &str = "/usr/share/php/Symfony/Component/Mercure/autoload.php";

/// The packages of the workspace's git-ignored `.tools/`, where tests find them
/// (`push_test_support::tools`): npm's into `.tools/node`, PyPI's into the venv `.tools/venv`.
// @stomp/stompjs and ws: push-hub's STOMP interop tests (stompjs in Node, with `ws` as its
// WebSocket, and its UMD bundle in Chromium).
const NODE_PACKAGES: &[&str] = &["eventsource@3", "@stomp/stompjs@7", "ws@8"];
// standardwebhooks: the Standard Webhooks reference library (push-webhook's interop test);
// http_ece, cryptography, py_vapid: independent RFC 8291 / 8292 checks (push-webpush's interop test);
// `stomp.py` (imported as `stomp`): the STOMP-over-WebSocket interop tests of push-stomp.
const PYTHON_PACKAGES: &[&str] = &[
    "websockets",
    "standardwebhooks",
    "http_ece",
    "cryptography",
    "py_vapid",
    "stomp.py",
];

fn node_packages() -> Result<(), String> {
    let dir = root().join(".tools/node");
    let missing = NODE_PACKAGES.iter().any(|spec| {
        let name = spec.rsplit_once('@').map_or(*spec, |(name, _)| name);
        !dir.join("node_modules")
            .join(name)
            .join("package.json")
            .exists()
    });
    if !missing {
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    exec(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .args(NODE_PACKAGES),
    )
}

fn python_packages() -> Result<(), String> {
    let venv = root().join(".tools/venv");
    let python = venv.join("bin/python");
    // A distribution's module is its name before any `.` (`stomp.py` installs `stomp`).
    let modules: Vec<&str> = PYTHON_PACKAGES
        .iter()
        .map(|p| p.split('.').next().unwrap_or(p))
        .collect();
    let imports = modules.join(", ");
    let present = Command::new(&python)
        .args(["-c", &format!("import {imports}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    if !python.exists() {
        exec(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    exec(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet"])
            .args(PYTHON_PACKAGES),
    )
}

fn python_venv_works() -> bool {
    let probe = std::env::temp_dir().join(format!("push-venv-probe-{}", std::process::id()));
    let ok = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let _ = std::fs::remove_dir_all(&probe);
    ok
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
    apt_install(&missing)
}

/// `apt-get update` then `apt-get install` of `packages` (through sudo when not root).
fn apt_install(packages: &[&str]) -> Result<(), String> {
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
    install.args(packages);
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
