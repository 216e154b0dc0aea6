//! `pushcat webhook serve|register`.

use clap::{Args, Subcommand};

use super::TlsArgs;

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
