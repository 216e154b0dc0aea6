//! pushcat's command line, declared with clap's derive: every command, its flags and their
//! validation. Each subcommand module receives its parsed arguments from here.
//!
//! Usage errors (an unknown flag, a missing URL, a bad value) exit with status 2 and name the
//! flag; `--help` works at every level and exits with 0.

use std::fmt::Display;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use push_core::Cursor;
use push_hub::auth::Algorithm;

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
    /// Mint a Mercure token (JWS) for a hub's key; prints the token.
    Token(TokenArgs),
    /// Publish an update to a Mercure hub; prints the id the hub gives it.
    Publish(PublishArgs),
    /// RESTful callbacks (Standard Webhooks): a verifying receiver.
    #[command(subcommand, arg_required_else_help = true)]
    Webhook(WebhookCommand),
}

/// `pushcat webhook …`.
#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Receive callbacks on ADDR: verify each, drop duplicates (by `webhook-id`), print each
    /// delivery as one JSON line.
    Serve(WebhookServeArgs),
    /// Register a callback URL with a hub for topics; prints the registration (JSON, with its
    /// `secret`).
    Register(WebhookRegisterArgs),
}

/// `pushcat webhook register HUB_URL --url URL --topic T… --id ID --token JWT [--in-flight N]`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub(crate) struct WebhookRegisterArgs {
    /// The hub (http:// or https://); a URL without a path means
    /// `/.well-known/push/callbacks`.
    pub(crate) hub: String,
    /// The callback URL the hub will POST each event to.
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,
    /// A topic selector (exact topic, URI template or `*`); repeatable. The token must grant
    /// subscribing to each.
    #[arg(
        long = "topic",
        value_name = "T",
        required = true,
        allow_hyphen_values = true
    )]
    pub(crate) topics: Vec<String>,
    /// Your id for the registration, echoed in every delivery; registering the same id again
    /// with the same URL and topics returns the same registration.
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub(crate) id: String,
    /// How many deliveries may be in flight at once (default 1: in order).
    #[arg(long, value_name = "N")]
    pub(crate) in_flight: Option<u32>,
    /// A subscriber's token (see `pushcat token`), sent as `Authorization: Bearer`.
    #[arg(long, value_name = "JWT", required = true)]
    pub(crate) token: String,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// `pushcat webhook serve ADDR --secret whsec_… [--fail-first N]`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub(crate) struct WebhookServeArgs {
    /// The address to listen on (e.g. 127.0.0.1:9000; port 0 picks one, printed on stderr).
    pub(crate) addr: std::net::SocketAddr,
    /// The registration's secret (`whsec_…`); repeat it during a rotation.
    #[arg(long = "secret", value_name = "whsec_…", required = true)]
    pub(crate) secrets: Vec<push_webhook::Secret>,
    /// Answer the first N verified attempts with 503, to watch the sender retry.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) fail_first: u32,
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

/// `pushcat token --key KEY [--alg ALG] [--kid KID] --publish SEL… --subscribe SEL… [--exp DURATION]`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub(crate) struct TokenArgs {
    /// The signing key: for HS256/384/512 the secret itself; for the public-key algorithms
    /// the path of a PEM private key (or its PEM text). `@FILE` reads the key from FILE.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    pub(crate) key: String,
    /// The algorithm: HS256 (default), HS384, HS512, RS256/384/512, PS256/384/512, ES256,
    /// ES384 or EdDSA.
    #[arg(long, value_name = "ALG", default_value = "HS256", value_parser = parse_alg)]
    pub(crate) alg: Algorithm,
    /// The key id (`kid`) the hub selects its key with.
    #[arg(long, value_name = "KID")]
    pub(crate) kid: Option<String>,
    /// Allow publishing to SEL: a topic, a URI template or `*` (several after one flag, or
    /// the flag repeated).
    #[arg(long = "publish", value_name = "SEL", num_args = 1..)]
    pub(crate) publish: Vec<String>,
    /// Allow receiving private updates on SEL: a topic, a URI template or `*` (several after
    /// one flag, or the flag repeated).
    #[arg(long = "subscribe", value_name = "SEL", num_args = 1..)]
    pub(crate) subscribe: Vec<String>,
    /// Expire the token after DURATION: seconds, or a number with s, m, h or d (`90m`, `7d`).
    /// Default: no expiry (a 1.0 token: one hour).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) exp: Option<Duration>,
    /// The JSON payload subscription events show (`mercure.payload`).
    #[arg(long, value_name = "JSON", value_parser = parse_json)]
    pub(crate) payload: Option<serde_json::Value>,
    /// Mint a 1.0 access token (`at+jwt`) for this issuer (needs --audience).
    #[arg(long, value_name = "ISS", requires = "audience")]
    pub(crate) issuer: Option<String>,
    /// The 1.0 token's audience: the hub URL (needs --issuer).
    #[arg(long, value_name = "AUD", requires = "issuer")]
    pub(crate) audience: Option<String>,
}

/// `pushcat publish HUB_URL --topic T… --data D [--id ID] [--type TYPE] [--retry MS] [--private] [--token JWT]`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub(crate) struct PublishArgs {
    /// The hub (http:// or https://); a URL without a path means `/.well-known/mercure`.
    pub(crate) url: String,
    /// The update's topic; the first is canonical, the others alternates (repeatable).
    #[arg(
        long = "topic",
        value_name = "T",
        required = true,
        allow_hyphen_values = true
    )]
    pub(crate) topics: Vec<String>,
    /// The update's data.
    #[arg(long, value_name = "D", allow_hyphen_values = true)]
    pub(crate) data: String,
    /// The update's id (default: the hub makes one).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub(crate) id: Option<String>,
    /// The update's SSE event type.
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) event_type: Option<String>,
    /// The reconnection time subscribers are told, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub(crate) retry: Option<u64>,
    /// Send the update only to subscribers whose token allows one of its topics.
    #[arg(long)]
    pub(crate) private: bool,
    /// The publisher's token (see `pushcat token`), sent as `Authorization: Bearer`.
    #[arg(long, value_name = "JWT")]
    pub(crate) token: Option<String>,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// A JWS algorithm by its name (`HS256`, `ES256`, `EdDSA`, …).
fn parse_alg(text: &str) -> Result<Algorithm, String> {
    if text == "ES512" {
        return Err("the hub verifies ES512 tokens but does not mint them: sign them with                     your issuer's library"
            .to_owned());
    }
    Algorithm::from_str(text).map_err(|_| {
        "expected HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 \
         or EdDSA"
            .to_owned()
    })
}

/// `3600`, `3600s`, `90m`, `12h`, `7d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| "expected a number of seconds, or a number with s, m, h or d".to_owned())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    n.checked_mul(scale)
        .filter(|&secs| secs > 0 && secs <= 100 * 365 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| "expected a duration from 1 second to 100 years".to_owned())
}

fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
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
