//! `pushcat`: the command-line client of the push project.
//!
//! Every subcommand prints one JSON object per line on standard output, so its output can be
//! piped into `jq` or compared in tests. Each subcommand lives in its own module.
#![forbid(unsafe_code)]

use std::process::ExitCode;

mod poll;

const USAGE: &str = "usage: pushcat <command> [args]

commands:
  poll URL [--since CURSOR] [--count N]   long-poll URL (e.g. http://HOST/poll?topic=T)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("poll") => poll::run(&args[1..]),
        Some(other) => {
            eprintln!("pushcat: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
