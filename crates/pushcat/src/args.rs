//! pushcat's command line, declared with clap's derive: every command, its flags and their
//! validation. Each subcommand module receives its parsed arguments from here.
//!
//! Usage errors (an unknown flag, a missing URL, a bad value) exit with status 2 and name the
//! flag; `--help` works at every level and exits with 0.

use std::fmt::Display;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::RangedU64ValueParser;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use push_core::Cursor;

/// The largest `sse decode --chunk-size`: a read of stdin returns at most a pipe's buffer (64 KiB
/// on Linux) at a time, so a larger chunk gains nothing, and an absurd one (`--chunk-size
/// 99999999999999`) would abort on allocation instead of being refused.
const MAX_CHUNK_SIZE: u64 = 16 << 20;

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
}

/// `pushcat sse …`.
#[derive(Debug, Subcommand)]
pub(crate) enum SseCommand {
    /// Decode a raw event stream from stdin.
    Decode(DecodeArgs),
    /// Listen to an SSE URL, reconnecting (resuming from the last event id).
    Listen(ListenArgs),
}

/// `pushcat poll URL [--since CURSOR] [--count N] [--cacert FILE]`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub(crate) struct PollArgs {
    /// The long-poll endpoint (http:// or https://).
    pub(crate) url: String,
    /// Start after this cursor (an event id printed earlier).
    #[arg(long, value_name = "CURSOR")]
    pub(crate) since: Option<Cursor>,
    #[command(flatten)]
    pub(crate) count: CountArg,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// `pushcat sse decode [--chunk-size N]`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub(crate) struct DecodeArgs {
    /// Feed the decoder at most N bytes at a time (reproduces chunk boundaries).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 64 * 1024,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_CHUNK_SIZE),
    )]
    pub(crate) chunk_size: usize,
}

/// `pushcat sse listen URL [--last-event-id ID] [--count N] [--cacert FILE]`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub(crate) struct ListenArgs {
    /// The event stream (http:// or https://).
    pub(crate) url: String,
    /// Send this Last-Event-ID on the first connection.
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub(crate) last_event_id: Option<String>,
    #[command(flatten)]
    pub(crate) count: CountArg,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// `pushcat ws URL --subscribe TOPIC... [--from CURSOR] [--count N] [--cacert FILE]`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub(crate) struct WsArgs {
    /// The push-ws endpoint (ws://HOST:PORT/PATH or wss://…).
    pub(crate) url: String,
    /// Subscribe to TOPIC (repeat for several; at least one).
    #[arg(
        long = "subscribe",
        value_name = "TOPIC",
        required = true,
        allow_hyphen_values = true
    )]
    pub(crate) topics: Vec<String>,
    /// Replay the events after this cursor first.
    #[arg(long, value_name = "CURSOR")]
    pub(crate) from: Option<Cursor>,
    #[command(flatten)]
    pub(crate) count: CountArg,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
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
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("pushcat").chain(words.iter().copied()))
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_a_url_repeatable_options_and_the_last_of_a_repeated_flag() {
        let cli = parse(&[
            "ws",
            "--count",
            "3",
            "ws://x/",
            "--subscribe",
            "a",
            "--subscribe",
            "-b",
            "--count",
            "4",
            "--cacert",
            "one.pem",
            "--cacert",
            "two.pem",
        ])
        .unwrap();
        let Command::Ws(ws) = cli.command else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(ws.url, "ws://x/");
        assert_eq!(ws.topics, ["a", "-b"]);
        assert_eq!(ws.count.n, Some(4));
        assert_eq!(ws.from, None);
        assert_eq!(ws.tls.files, [PathBuf::from("one.pem"), "two.pem".into()]);
    }

    #[test]
    fn sse_defaults() {
        let Command::Sse(SseCommand::Decode(decode)) = parse(&["sse", "decode"]).unwrap().command
        else {
            panic!("not sse decode")
        };
        assert_eq!(decode.chunk_size, 64 * 1024);
        let cli = parse(&["sse", "listen", "http://x/"]).unwrap();
        let Command::Sse(SseCommand::Listen(listen)) = cli.command else {
            panic!("not sse listen")
        };
        assert_eq!((listen.last_event_id, listen.count.n), (None, None));
    }

    #[test]
    fn errors_name_the_flag_and_are_usage_errors() {
        for (words, flag) in [
            (&["poll", "http://x/", "--count"][..], "--count"),
            (&["poll", "http://x/", "--count", "0"], "--count"),
            (&["poll", "http://x/", "--since", "nope"], "--since"),
            (&["poll", "u", "--nope", "1"], "--nope"),
            (&["sse", "decode", "--chunk-size", "0"], "--chunk-size"),
            (
                &["sse", "decode", "--chunk-size", "16777217"],
                "--chunk-size",
            ),
            (&["sse", "listen"], "<URL>"),
            (&["ws", "ws://x/"], "--subscribe"),
        ] {
            let error = parse(words).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{words:?}");
            let text = error.to_string();
            assert!(text.contains(flag), "{words:?}: {text}");
        }
    }

    #[test]
    fn help_is_not_an_error() {
        for words in [
            &["--help"][..],
            &["poll", "--help"],
            &["sse", "listen", "-h"],
        ] {
            let error = parse(words).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::DisplayHelp, "{words:?}");
            assert_eq!(error.exit_code(), 0, "{words:?}");
        }
    }
}
