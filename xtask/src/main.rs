//! `cargo xtask`: the project's CI, benchmark and fuzzing commands, in Rust so they run the same
//! everywhere. Std only; each task in its own module.
//!
//! ```text
//! cargo xtask ci                       # everything CI checks (what .ci/run runs)
//! cargo xtask setup                    # install the external tools the tests drive
//! cargo xtask bench [NAME]             # criterion benches + a summary table of ratios
//! cargo xtask fuzz --list              # the fuzz targets
//! cargo xtask fuzz TARGET [--secs N]   # run one with cargo-fuzz on nightly
//! cargo xtask load idle|fanout|soak    # push-hub's lean SSE path against axum's Sse, loopback
//! cargo xtask load fanout --redis      # two hubs through Redis against one in memory
//! ```

mod bench;
mod ci;
mod fuzz;
mod load;
mod load_redis;
mod load_report;
mod setup;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <ci | setup | bench [NAME] | fuzz --list | fuzz TARGET [--secs N] | load idle|fanout [--redis]|soak | tidy>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("setup") => setup::test_dependencies(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("load") => load::run(&args[1..]),
        Some("tidy") => tidy::check(&root()).map_err(|problems| problems.join("\n")),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

/// Runs a command in the workspace root, echoing it, failing on a non-zero exit.
fn exec(cmd: &mut Command) -> Result<(), String> {
    cmd.current_dir(root());
    eprintln!("\n$ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    if std::env::var_os("CI").is_some() {
        // A fresh CI machine builds every crate once: incremental state is never reused, and
        // full debug info makes each of the ~130 test binaries about 270 MB (a CI machine ran out
        // of disk). Line tables keep backtraces' files and lines at a fifth of the size.
        command
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only");
    }
    command
}
