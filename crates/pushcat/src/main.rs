//! `pushcat`: the command-line client of the push project.
//!
//! Every subcommand prints one JSON object per line on standard output, so its output can be
//! piped into `jq` or compared in tests. Each subcommand lives in its own module.
#![forbid(unsafe_code)]

use std::process::ExitCode;

mod args;
mod json;
mod poll;
mod sse;
mod tls;
mod ws;

const USAGE: &str = "usage: pushcat <command> [args]

commands:
  poll URL [--since CURSOR] [--count N] [--cacert FILE]
                                          long-poll URL (e.g. http://HOST/poll?topic=T)
  sse decode [--chunk-size N]             decode a raw event stream from stdin
  sse listen URL [--last-event-id ID] [--count N] [--cacert FILE]
                                          listen to an SSE URL, reconnecting
  ws URL [--subscribe TOPIC]... [--from CURSOR] [--count N] [--cacert FILE]
                                          push-ws protocol: subscribe, print messages
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("poll") => poll::run(&args[1..]),
        Some("sse") => sse::run(&args[1..]),
        Some("ws") => ws::run(&args[1..]),
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

/// Reports a usage error (exit status 2).
fn usage_error(message: &str) -> ExitCode {
    eprintln!("pushcat: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

/// Runs `future` on a single-threaded runtime.
fn block_on(future: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(e) => {
            eprintln!("pushcat: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
