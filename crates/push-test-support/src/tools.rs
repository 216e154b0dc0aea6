//! The external programs and packages tests drive, found where `cargo xtask setup` (run by
//! `cargo xtask ci`) installs them. A test that needs one and cannot find it fails and says
//! what to run: no test skips because a tool is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (this crate lives in `crates/push-test-support`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The path of `binary` on PATH; panics naming the Debian package to install when it is missing.
pub fn program(binary: &str, debian_package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(binary))
                .find(|path| path.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "`{binary}` is not on PATH: run `cargo xtask setup` \
                 (or `apt-get install {debian_package}`)"
            )
        })
}

/// The folder whose `node_modules` holds the npm `package` (`.tools/node`); panics when it is
/// not installed there.
pub fn node_modules(package: &str) -> PathBuf {
    program("node", "nodejs");
    let dir = workspace_root().join(".tools/node");
    assert!(
        dir.join("node_modules")
            .join(package)
            .join("package.json")
            .exists(),
        "the npm package `{package}` is not in {}: run `cargo xtask setup`",
        dir.display()
    );
    dir
}

/// The Python of the venv `.tools/venv`, checked to import every module of `modules`; panics
/// when one is missing.
pub fn python(modules: &[&str]) -> PathBuf {
    let python = workspace_root().join(".tools/venv/bin/python");
    let imports = modules.join(", ");
    let ok = Command::new(&python)
        .args(["-c", &format!("import {imports}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{} cannot import {imports}: run `cargo xtask setup`",
        python.display()
    );
    python
}

/// Debian's `chromium` (headless browser tests); panics saying to run `cargo xtask setup` when it
/// is missing.
pub fn chromium() -> PathBuf {
    program("chromium", "chromium")
}

/// Headless [`chromium`] on the fresh profile `profile`, as every browser test starts it: no
/// sandbox, GPU, QUIC, first-run page or background traffic, its output dropped. Add the
/// test's own flags and the page, then spawn it (`tokio::process::Command::from` it first, to
/// have it killed with the test's runtime).
pub fn headless_chromium(profile: &Path) -> Command {
    let mut command = Command::new(chromium());
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Where Debian's `php-symfony-mercure` installs the component's autoloader.
pub const SYMFONY_MERCURE: &str = "/usr/share/php/Symfony/Component/Mercure/autoload.php";

/// PHP (`php-cli`), checked to have Symfony's Mercure component ([`SYMFONY_MERCURE`], Debian's
/// `php-symfony-mercure`) beside it; panics saying to run `cargo xtask setup` when either is
/// missing.
pub fn php_symfony_mercure() -> PathBuf {
    let php = program("php", "php-cli");
    assert!(
        Path::new(SYMFONY_MERCURE).is_file(),
        "Symfony's Mercure component is not installed ({SYMFONY_MERCURE} is missing): \
         run `cargo xtask setup` (or `apt-get install php-symfony-mercure`)"
    );
    php
}

/// `zbarimg` (Debian's `zbar-tools`), a QR decoder; panics saying to run `cargo xtask setup` when
/// it is missing.
pub fn zbarimg() -> PathBuf {
    program("zbarimg", "zbar-tools")
}
