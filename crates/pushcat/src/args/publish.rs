//! `pushcat publish`.

use clap::Args;

use super::TlsArgs;

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
