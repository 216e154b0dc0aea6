//! The flags of Web Push (`POST /.well-known/push/webpush` registers a browser's push
//! subscription; see [`crate::webpush`]).

/// The Web Push flags (flattened into [`Args`](super::Args)).
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct WebPushArgs {
    /// The VAPID private key (P-256) that signs every push request: a PEM document (SEC1 or
    /// PKCS#8), the base64url raw 32-byte key, or @FILE to read either. Without it the hub
    /// makes a development key, keeps it in --data-dir (vapid.pem; in memory only with
    /// --in-memory) and says so at start-up: subscriptions are bound to the key, so losing
    /// it loses every subscription.
    #[arg(long, hide_env_values = true, value_name = "KEY")]
    pub vapid_key: Option<String>,

    /// The contact push services may use to reach the hub's operator (RFC 8292's `sub`): a
    /// mailto: or https: URI.
    #[arg(long, default_value = "mailto:push-hub@localhost", value_name = "URI")]
    pub vapid_subject: String,

    /// Accept push subscriptions whose endpoint is on loopback over plain http (tests with a
    /// local push service stand-in only). Without it only the known push services (Google,
    /// Mozilla, Apple, Microsoft) over https are accepted.
    #[arg(long)]
    pub webpush_allow_loopback: bool,
}
