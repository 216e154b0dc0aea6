//! `pushcat`: the command-line client of the push project.
//!
//! ```text
//! pushcat poll URL [--since CURSOR] [--count N] [--cacert FILE]
//! pushcat sse decode [--chunk-size N]
//! pushcat sse listen URL [--last-event-id ID] [--count N] [--cacert FILE]
//! pushcat ws URL --subscribe TOPIC... [--from CURSOR] [--count N] [--cacert FILE]
//! pushcat token --key KEY [--alg ALG] [--kid KID] --publish SEL... --subscribe SEL... [--exp DURATION]
//! pushcat webhook serve ADDR --secret whsec_... [--fail-first N]
//! pushcat webhook register HUB_URL --url URL --topic T... --id ID --token JWT [--in-flight N]
//! pushcat publish HUB_URL --topic T... --data D [--id ID] [--type TYPE] [--retry MS] [--private] [--token JWT]
//! ```
//!
//! Every listening subcommand prints one JSON object per line on standard output, so its output
//! can be piped into `jq` or compared in tests; `token` prints the token and `publish` the
//! update's id, each alone on its line, for `$(…)` in a shell. The command line is declared in `args` (clap): every
//! command answers `--help`, and a usage error names its flag and exits with status 2. Each
//! subcommand lives in its own module.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

mod args;
mod json;
mod poll;
mod publish;
mod sse;
mod tls;
mod token;
mod webhook;
mod ws;

use args::{Cli, Command, SseCommand, WebhookCommand};

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Poll(args) => poll::run(args),
        Command::Sse(SseCommand::Decode(args)) => sse::decode(&args),
        Command::Sse(SseCommand::Listen(args)) => sse::listen(args),
        Command::Ws(args) => ws::run(args),
        Command::Token(args) => token::run(&args),
        Command::Publish(args) => publish::run(args),
        Command::Webhook(WebhookCommand::Serve(args)) => webhook::serve(args),
        Command::Webhook(WebhookCommand::Register(args)) => webhook::register(&args),
    }
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
