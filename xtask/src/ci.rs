//! `cargo xtask ci`: what CI runs, in order, stopping at the first failure.

use std::time::Instant;

use crate::{cargo, exec, root, setup, tidy};

/// Packages checked on their own with no default features and with all features, so that
/// feature unification in the workspace build cannot hide a missing feature gate.
const FEATURE_CHECKED: &[&str] = &[
    "push-core",
    "push-broker",
    "push-sse",
    "push-longpoll",
    "push-ws",
    "push-h2",
    "push-net",
    "push-http",
    "push-webpush",
];

/// Feature sets checked on their own besides none and all, where one feature gates a part of
/// another (push-http's `tls` builds on `client`: `client` alone must build without rustls).
const FEATURE_SUBSETS: &[(&str, &str)] = &[("push-http", "client")];

pub(crate) fn run() -> Result<(), String> {
    let started = Instant::now();
    setup::toolchain_components()?;
    setup::test_dependencies()?;

    step("tidy", || {
        tidy::check(&root()).map_err(|problems| problems.join("\n"))
    })?;
    step("format", || exec(cargo().args(["fmt", "--all", "--check"])))?;
    step("clippy (workspace, all targets, all features)", || {
        exec(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    step(
        "clippy per package, no default features and feature subsets",
        || {
            for package in present(FEATURE_CHECKED) {
                exec(cargo().args([
                    "clippy",
                    "-p",
                    package,
                    "--no-default-features",
                    "--locked",
                    "--",
                    "-D",
                    "warnings",
                ]))?;
            }
            for (package, features) in FEATURE_SUBSETS {
                if present(&[package]).is_empty() {
                    continue;
                }
                exec(cargo().args([
                    "clippy",
                    "-p",
                    package,
                    "--no-default-features",
                    "--features",
                    features,
                    "--locked",
                    "--",
                    "-D",
                    "warnings",
                ]))?;
            }
            Ok(())
        },
    )?;
    step(
        "tests (workspace, all features; includes fuzz seed replay)",
        || exec(cargo().args(["test", "--workspace", "--all-features", "--locked"])),
    )?;
    step(
        "load smoke (the push-hub binary and the anchor, debug, tiny)",
        || crate::load::run(&["smoke".to_owned()]),
    )?;
    step("docs (warnings denied)", || {
        exec(
            cargo()
                .args([
                    "doc",
                    "--workspace",
                    "--no-deps",
                    "--all-features",
                    "--locked",
                ])
                .env("RUSTDOCFLAGS", "-D warnings"),
        )
    })?;
    step("fuzz targets compile", || {
        exec(cargo().args([
            "check",
            "--manifest-path",
            "fuzz/Cargo.toml",
            "--bins",
            // The fuzz workspace has no committed lock file: it follows the main one's versions.
        ]))
    })?;
    eprintln!(
        "\nxtask ci: all checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    let started = Instant::now();
    eprintln!("\n=== {name}");
    let result = f();
    eprintln!(
        "=== {name}: {} in {:.0} s",
        if result.is_ok() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    result.map_err(|e| format!("{name}: {e}"))
}

/// The packages of `names` that exist in this checkout.
fn present(names: &[&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .copied()
        .filter(|name| root().join("crates").join(name).join("Cargo.toml").exists())
        .collect()
}
