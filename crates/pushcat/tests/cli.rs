//! pushcat's command line as a user meets it: `--help` at every level, usage errors that name
//! their flag and exit with status 2. No network: every run here stops before connecting.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Runs pushcat with `args`; it must exit by itself within 10 s (a parser that let a bad
/// `--count` through would connect to the unreachable URL and retry forever).
fn pushcat(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pushcat"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..1000 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    panic!("pushcat {args:?} did not exit: {}", stderr(&out));
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `args` and checks it is a usage error (status 2) whose message names `flag`.
fn assert_usage_error(args: &[&str], flag: &str) {
    let out = pushcat(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    assert!(
        stderr(&out).contains(flag),
        "{args:?} should name {flag}: {}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
}

#[test]
fn every_command_answers_help_with_its_flags() {
    for (args, flags) in [
        (
            &["--help"][..],
            &["poll", "sse", "ws", "token", "publish"][..],
        ),
        (
            &["token", "--help"],
            &[
                "--key",
                "--alg",
                "--kid",
                "--publish",
                "--subscribe",
                "--exp",
                "--payload",
            ],
        ),
        (
            &["publish", "--help"],
            &[
                "<URL>",
                "--topic",
                "--data",
                "--id",
                "--type",
                "--retry",
                "--private",
                "--token",
                "--cacert",
            ],
        ),
        (
            &["poll", "--help"],
            &["<URL>", "--since", "--count", "--cacert"],
        ),
        (&["sse", "--help"], &["decode", "listen"]),
        (&["sse", "decode", "--help"], &["--chunk-size"]),
        (
            &["sse", "listen", "--help"],
            &["<URL>", "--last-event-id", "--count", "--cacert"],
        ),
        (
            &["ws", "--help"],
            &["<URL>", "--subscribe", "--from", "--count", "--cacert"],
        ),
        (&["help", "ws"], &["--subscribe"]),
    ] {
        let out = pushcat(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let help = stdout(&out);
        for flag in flags {
            assert!(help.contains(flag), "{args:?} should list {flag}: {help}");
        }
    }
}

#[test]
fn version_is_the_package_version() {
    let out = pushcat(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        format!("pushcat {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_bad_value_names_its_flag() {
    let poll = "http://127.0.0.1:1/poll?topic=t";
    let ws = "ws://127.0.0.1:1/";
    assert_usage_error(&["poll", poll, "--count", "0"], "--count");
    assert_usage_error(&["poll", poll, "--count", "many"], "--count");
    assert_usage_error(&["poll", poll, "--since", "nope"], "--since");
    assert_usage_error(&["sse", "listen", poll, "--count", "0"], "--count");
    assert_usage_error(&["ws", ws, "--subscribe", "t", "--count", "0"], "--count");
    assert_usage_error(&["ws", ws, "--subscribe", "t", "--from", "x"], "--from");
    assert_usage_error(&["sse", "decode", "--chunk-size", "0"], "--chunk-size");
    assert_usage_error(&["sse", "decode", "--chunk-size", "1e99"], "--chunk-size");
}

#[test]
fn a_missing_or_unknown_argument_is_named() {
    assert_usage_error(&["poll"], "<URL>");
    assert_usage_error(&["poll", "http://127.0.0.1:1/", "--count"], "--count");
    assert_usage_error(&["poll", "http://127.0.0.1:1/", "--nope"], "--nope");
    assert_usage_error(&["sse", "listen"], "<URL>");
    assert_usage_error(&["ws", "ws://127.0.0.1:1/"], "--subscribe");
    assert_usage_error(&["sse", "watch"], "watch");
    assert_usage_error(&["pol"], "poll");
}

#[test]
fn no_command_prints_the_commands_as_a_usage_error() {
    for (args, command) in [(&[][..], "poll"), (&["sse"], "listen")] {
        let out = pushcat(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(command), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn an_unreadable_cacert_is_a_usage_error_naming_the_flag() {
    let missing = std::env::temp_dir().join(format!("pushcat-none-{}.pem", std::process::id()));
    let missing = missing.to_str().unwrap();
    assert_usage_error(
        &[
            "poll",
            "https://127.0.0.1:1/poll?topic=t",
            "--cacert",
            missing,
        ],
        "--cacert",
    );
    let args = ["sse", "listen", "https://127.0.0.1:1/", "--cacert", missing];
    assert_usage_error(&args, "--cacert");
    // Reported as clap reports its own errors: with the subcommand's usage line.
    let said = stderr(&pushcat(&args));
    assert!(said.contains("Usage: pushcat sse listen "), "{said}");
    assert_usage_error(
        &[
            "ws",
            "wss://127.0.0.1:1/",
            "--subscribe",
            "t",
            "--cacert",
            missing,
        ],
        "--cacert",
    );
}
