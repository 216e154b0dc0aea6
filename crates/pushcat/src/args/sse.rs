//! `pushcat sse decode|listen`.

use clap::builder::RangedU64ValueParser;
use clap::{Args, Subcommand};

use super::{CountArg, TlsArgs};

/// The largest `sse decode --chunk-size`: a read of stdin returns at most a pipe's buffer (64 KiB
/// on Linux) at a time, so a larger chunk gains nothing, and an absurd one (`--chunk-size
/// 99999999999999`) would abort on allocation instead of being refused.
const MAX_CHUNK_SIZE: u64 = 16 << 20;

/// `pushcat sse …`.
#[derive(Debug, Subcommand)]
pub(crate) enum SseCommand {
    /// Decode a raw event stream from stdin.
    Decode(DecodeArgs),
    /// Listen to an SSE URL, reconnecting (resuming from the last event id).
    Listen(ListenArgs),
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
