//! `push-hub`: parse the flags, start the hub, serve until SIGTERM or SIGINT.

use std::process::ExitCode;

use clap::Parser;
use push_hub::args::Args;
use push_hub::ops::{log, shutdown};
use push_hub::serve::Hub;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(error) = log::init(args.log_format, &args.log) {
        eprintln!("push-hub: {error}");
        return ExitCode::from(2);
    }
    let bound = match Hub::open(args).await.and_then(Hub::bind) {
        Ok(bound) => bound,
        Err(error) => {
            eprintln!("push-hub: {}", chain(&error));
            return ExitCode::FAILURE;
        }
    };
    print!("{}", bound.banner());
    let signal = async {
        match shutdown::signals().await {
            Ok(name) => tracing::info!(signal = name, "shutdown requested"),
            Err(error) => {
                tracing::error!(%error, "cannot listen for signals");
                std::future::pending::<()>().await;
            }
        }
    };
    match bound.run(signal).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("push-hub: the listener failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// An error and its sources, one after the other.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
