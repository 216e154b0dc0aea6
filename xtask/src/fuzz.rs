//! `cargo xtask fuzz`: lists the targets, or runs one with cargo-fuzz on the nightly toolchain.

use std::process::{Command, Stdio};

use crate::{cargo, exec, root};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let targets = targets()?;
    match args {
        [flag] if flag == "--list" => {
            for t in &targets {
                println!("{t}");
            }
            Ok(())
        }
        [target, rest @ ..] => {
            if !targets.contains(target) {
                return Err(format!(
                    "unknown fuzz target {target:?}; targets: {}",
                    targets.join(", ")
                ));
            }
            let secs = match rest {
                [] => 60,
                [flag, n] if flag == "--secs" => n
                    .parse::<u64>()
                    .map_err(|_| format!("--secs wants a number of seconds, not {n:?}"))?,
                _ => return Err("usage: cargo xtask fuzz TARGET [--secs N]".to_owned()),
            };
            ensure_cargo_fuzz()?;
            let seeds = root().join("fuzz/seeds").join(target);
            let corpus = root().join("fuzz/corpus").join(target);
            std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
            let mut cmd = Command::new("cargo");
            cmd.args(["+nightly", "fuzz", "run", target])
                .arg(&corpus)
                .arg(&seeds)
                .arg("--")
                .arg(format!("-max_total_time={secs}"))
                .current_dir(root().join("fuzz"));
            exec(&mut cmd)
        }
        [] => Err("usage: cargo xtask fuzz --list | TARGET [--secs N]".to_owned()),
    }
}

/// The `[[bin]]` names of fuzz/Cargo.toml.
pub(crate) fn targets() -> Result<Vec<String>, String> {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml"))
        .map_err(|e| format!("fuzz/Cargo.toml: {e}"))?;
    let mut targets = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(value) = line.strip_prefix("name") {
            let name = value
                .trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            targets.push(name.to_owned());
        }
    }
    Ok(targets)
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let installed = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        return Ok(());
    }
    exec(cargo().args(["install", "cargo-fuzz", "--locked"]))
}
