//! The flags of Web Push (`POST /.well-known/push/webpush` registers a browser's push
//! subscription; see [`crate::webpush`]).

use std::time::Duration;

use push_webpush::Urgency;

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

    /// How long a push service keeps each message for a browser that is offline (RFC 8030
    /// `TTL`, whole seconds; 0: deliver now or drop). The default, four weeks, is push-webpush's:
    /// what the push services keep at most anyway. The TTL counts from the publish: a message
    /// still in the hub's retry queue when it runs out is dropped, never sent late.
    #[arg(long, default_value = "28d", value_parser = super::units::duration, value_name = "AGE")]
    pub webpush_ttl: Duration,

    /// The RFC 8030 `Urgency` of every message: very-low, low, normal or high (how much of the
    /// device's battery it may wake). Without it the header is not sent: push services treat
    /// that as normal.
    #[arg(long, value_parser = urgency, value_name = "URGENCY")]
    pub webpush_urgency: Option<Urgency>,
}

/// `--webpush-urgency`'s value, as the header spells it.
fn urgency(text: &str) -> Result<Urgency, String> {
    match text {
        "very-low" => Ok(Urgency::VeryLow),
        "low" => Ok(Urgency::Low),
        "normal" => Ok(Urgency::Normal),
        "high" => Ok(Urgency::High),
        _ => Err(format!(
            "`{text}` is not an urgency (very-low, low, normal or high)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgencies_are_the_headers_words() {
        for u in [
            Urgency::VeryLow,
            Urgency::Low,
            Urgency::Normal,
            Urgency::High,
        ] {
            assert_eq!(urgency(u.as_str()), Ok(u));
        }
        assert!(urgency("urgent").is_err());
    }
}
