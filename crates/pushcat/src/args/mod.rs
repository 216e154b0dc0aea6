//! pushcat's command line, declared with clap's derive: every command, its flags and their
//! validation. Each subcommand module receives its parsed arguments from here.
//!
//! Usage errors (an unknown flag, a missing URL, a bad value) exit with status 2 and name the
//! flag; `--help` works at every level and exits with 0.

use std::fmt::Display;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};

mod poll;
mod publish;
mod sse;
mod token;
mod webhook;
mod ws;

pub(crate) use poll::PollArgs;
pub(crate) use publish::PublishArgs;
pub(crate) use sse::{DecodeArgs, ListenArgs, SseCommand};
pub(crate) use token::TokenArgs;
pub(crate) use webhook::{WebhookCommand, WebhookRegisterArgs, WebhookServeArgs};
pub(crate) use ws::WsArgs;

/// The command-line client of the push project: each command prints one JSON object per line.
#[derive(Debug, Parser)]
#[command(name = "pushcat", version, arg_required_else_help = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// pushcat's commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Long-poll URL (e.g. http://HOST/poll?topic=T), printing events and gaps.
    Poll(PollArgs),
    /// Decode an event stream from stdin, or listen to an SSE URL.
    #[command(subcommand, arg_required_else_help = true)]
    Sse(SseCommand),
    /// Speak the push-ws protocol: subscribe to topics, print every server message.
    Ws(WsArgs),
    /// Mint a Mercure token (JWS) for a hub's key; prints the token.
    Token(TokenArgs),
    /// Publish an update to a Mercure hub; prints the id the hub gives it.
    Publish(PublishArgs),
    /// RESTful callbacks (Standard Webhooks): a verifying receiver.
    #[command(subcommand, arg_required_else_help = true)]
    Webhook(WebhookCommand),
}

/// `--count N`, shared by the network commands.
#[derive(Debug, Args)]
pub(crate) struct CountArg {
    /// Exit after N events (at least 1; default: run until interrupted).
    #[arg(long = "count", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) n: Option<u64>,
}

/// `--cacert FILE`, shared by the network commands.
#[derive(Debug, Args)]
pub(crate) struct TlsArgs {
    /// Also trust the certificates in FILE (PEM or DER) for https:// and wss://; repeatable.
    #[arg(long = "cacert", value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
}

/// Reports a usage error found after parsing (a URL or certificate the client refuses) the way
/// clap reports its own: the message, the usage of `command` (a path of subcommand names, e.g.
/// `["sse", "listen"]`) and a pointer to `--help`, on stderr, with exit status 2.
pub(crate) fn usage_error(command: &[&str], message: impl Display) -> ExitCode {
    let mut cmd = Cli::command();
    cmd.build();
    for name in command {
        if let Some(sub) = cmd.find_subcommand(name) {
            cmd = sub.clone();
        }
    }
    let error = cmd.error(ErrorKind::ValueValidation, message);
    let _ = error.print();
    ExitCode::from(2)
}

#[cfg(test)]
mod tests;
