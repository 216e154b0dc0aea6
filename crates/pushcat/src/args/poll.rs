//! `pushcat poll`.

use clap::Args;
use push_core::Cursor;

use super::{CountArg, TlsArgs};

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
