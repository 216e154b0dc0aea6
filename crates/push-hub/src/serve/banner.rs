//! What the hub prints when it starts: where it listens, and, when no key was configured, the
//! development key it made, loudly, with a ready publisher token and a `curl` line that
//! publishes with it.
//!
//! The banner goes to standard output, not to the log: it is for the person who started the
//! hub, and the log never carries a token.

use std::fmt::Write;
use std::net::SocketAddr;

/// The start-up banner.
#[derive(Debug, Clone)]
pub struct Banner {
    tls: bool,
    development: Option<Development>,
    vapid_development: Option<String>,
}

/// The development key and a publisher token signed with it.
#[derive(Debug, Clone)]
pub struct Development {
    /// The random HS256 secret.
    pub key: String,
    /// A publisher token for every topic, signed with `key`.
    pub token: Option<String>,
}

impl Banner {
    /// The banner of a hub with TLS or not, and with the `development` key it made, if any.
    pub fn new(tls: bool, development: Option<Development>) -> Self {
        Self {
            tls,
            development,
            vapid_development: None,
        }
    }

    /// The same banner saying, loudly, that the hub made a development VAPID key (`where`:
    /// where it is kept).
    #[must_use]
    pub fn with_vapid_development(mut self, kept: Option<String>) -> Self {
        self.vapid_development = kept;
        self
    }

    /// The development key, when the hub made one.
    pub fn development(&self) -> Option<&Development> {
        self.development.as_ref()
    }

    /// The text, for a hub listening on `addr`.
    pub fn render(&self, addr: SocketAddr) -> String {
        let mut text = String::new();
        let scheme = if self.tls { "https" } else { "http" };
        let protocols = if self.tls {
            "HTTP/1.1, h2c, and TLS with HTTP/2 or HTTP/1.1"
        } else {
            "HTTP/1.1 and h2c"
        };
        let _ = writeln!(
            text,
            "push-hub listening on http://{addr}/ ({protocols}, one port)"
        );
        if self.tls {
            let _ = writeln!(text, "  also https://{addr}/");
        }
        let _ = writeln!(
            text,
            "  Mercure {scheme}://{addr}/.well-known/mercure · WebSocket /ws · long polling /poll · /metrics · /healthz · demo /"
        );
        let rule = "!".repeat(78);
        // The development VAPID key is said inside the development block (one pair of rules),
        // or in its own block when the JWT key was given.
        let vapid = |text: &mut String| {
            if let Some(kept) = &self.vapid_development {
                let _ = writeln!(
                    text,
                    "!! DEVELOPMENT VAPID KEY: no --vapid-key was given; Web Push signs with a key {kept}."
                );
                let _ = writeln!(
                    text,
                    "!! In production set --vapid-key (or PUSH_HUB_VAPID_KEY) and --vapid-subject."
                );
            }
        };
        if self.development.is_none() && self.vapid_development.is_some() {
            let _ = writeln!(text, "{rule}");
            vapid(&mut text);
            let _ = writeln!(text, "{rule}");
        }
        let Some(development) = &self.development else {
            return text;
        };
        let _ = writeln!(text, "{rule}");
        let _ = writeln!(
            text,
            "!! DEVELOPMENT KEY: no --jwt-key was given, so this hub made a random one."
        );
        let _ = writeln!(
            text,
            "!! Tokens signed with it stop working when the hub restarts. Do not use"
        );
        let _ = writeln!(
            text,
            "!! this in production: set --jwt-key (or PUSH_HUB_JWT_KEY)."
        );
        let _ = writeln!(
            text,
            "!! Subscribers without a token get public updates (as --anonymous), so the demo works."
        );
        let _ = writeln!(text, "!! key (HS256): {}", development.key);
        if let Some(token) = &development.token {
            let _ = writeln!(text, "!! publisher token (every topic): {token}");
            let _ = writeln!(text, "!! publish with:");
            let _ = writeln!(
                text,
                "curl -H 'Authorization: Bearer {token}' -d topic=demo -d data=hello {scheme}://{addr}/.well-known/mercure"
            );
            let _ = writeln!(
                text,
                "!! the demo, with the token to run its job: {scheme}://{addr}/#token={token}"
            );
        }
        vapid(&mut text);
        let _ = writeln!(text, "{rule}");
        text
    }
}

/// A random development key: 32 bytes from the system's random source, in hex.
pub(crate) fn random_key() -> String {
    let mut bytes = [0_u8; 32];
    // Without the system's randomness there is no safe key; a fixed one would be worse than
    // none, so fail loudly.
    getrandom::fill(&mut bytes).expect("the system's random source is unavailable");
    bytes.iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_key_gets_a_quiet_banner() {
        let banner = Banner::new(false, None);
        let text = banner.render("127.0.0.1:8080".parse().unwrap());
        assert!(
            text.starts_with("push-hub listening on http://127.0.0.1:8080/"),
            "{text}"
        );
        assert!(!text.contains("DEVELOPMENT"));
    }

    #[test]
    fn a_development_key_is_random_and_announced_loudly() {
        let key = random_key();
        assert_eq!(key.len(), 64);
        assert_ne!(key, random_key());
        let development = Development {
            key: key.clone(),
            token: Some("TOKEN".into()),
        };
        let text = Banner::new(true, Some(development)).render("127.0.0.1:8443".parse().unwrap());
        assert!(text.contains("DEVELOPMENT KEY"), "{text}");
        assert!(text.contains(&key));
        assert!(text.contains(
            "curl -H 'Authorization: Bearer TOKEN' -d topic=demo -d data=hello https://127.0.0.1:8443/.well-known/mercure"
        ), "{text}");
    }
}
