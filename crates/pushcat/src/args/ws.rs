//! `pushcat ws`.

use clap::Args;
use push_core::Cursor;

use super::{CountArg, TlsArgs};

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
