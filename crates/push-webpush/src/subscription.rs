//! The subscription a browser hands over: `PushSubscription.toJSON()`.
//!
//! ```json
//! {"endpoint":"https://…","expirationTime":null,"keys":{"p256dh":"B…","auth":"…"}}
//! ```
//!
//! `expirationTime` is a number of milliseconds since the epoch or `null` (written as `null`,
//! as browsers do); the keys are base64url without padding. Unknown members are ignored, as a
//! newer browser may add some.

use serde::{Deserialize, Serialize};

use crate::{Error, Recipient};

/// A browser's `PushSubscription`, as `toJSON()` serialises it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushSubscription {
    /// The push service URL messages are POSTed to. User-supplied: check it with an
    /// [`EndpointPolicy`](crate::EndpointPolicy) before sending anything.
    pub endpoint: String,
    /// When the subscription expires (milliseconds since the Unix epoch), if the push service
    /// said.
    #[serde(default)]
    pub expiration_time: Option<f64>,
    /// The user agent's keys.
    pub keys: SubscriptionKeys,
}

/// The `keys` member of a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionKeys {
    /// The user agent's P-256 public key, base64url of the uncompressed point.
    pub p256dh: String,
    /// The 16-byte authentication secret, base64url.
    pub auth: String,
}

impl PushSubscription {
    /// Parses `PushSubscription.toJSON()` text; the keys are checked by [`Self::recipient`].
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(json).map_err(Error::Json)
    }

    /// The JSON text, as a browser writes it.
    pub fn to_json(&self) -> String {
        // Invariant: strings and an optional number always serialise.
        serde_json::to_string(self).expect("JSON of strings")
    }

    /// The validated keys to encrypt for.
    pub fn recipient(&self) -> Result<Recipient, Error> {
        Recipient::from_base64url(&self.keys.p256dh, &self.keys.auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shape Chromium and Firefox print for `JSON.stringify(subscription)`.
    const BROWSER: &str = r#"{"endpoint":"https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b","expirationTime":null,"keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}"#;

    #[test]
    fn the_browser_json_round_trips_exactly() {
        let subscription = PushSubscription::from_json(BROWSER.as_bytes()).unwrap();
        assert_eq!(subscription.expiration_time, None);
        assert_eq!(subscription.keys.auth, "BTBZMqHH6r4Tts7J_aSIgg");
        assert_eq!(subscription.to_json(), BROWSER);
        subscription.recipient().unwrap();
    }

    #[test]
    fn an_expiration_time_and_extra_members_are_read() {
        let json = r#"{"endpoint":"https://x","expirationTime":1700000000000,"keys":{"p256dh":"a","auth":"b"},"future":1}"#;
        let subscription = PushSubscription::from_json(json.as_bytes()).unwrap();
        assert_eq!(subscription.expiration_time, Some(1_700_000_000_000.0));
        assert!(subscription.recipient().is_err());
        let missing = r#"{"endpoint":"https://x","keys":{"p256dh":"a","auth":"b"}}"#;
        assert_eq!(
            PushSubscription::from_json(missing.as_bytes())
                .unwrap()
                .expiration_time,
            None
        );
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            "",
            "{}",
            r#"{"endpoint":1}"#,
            r#"{"endpoint":"x","keys":{"auth":"b"}}"#,
        ] {
            assert!(
                matches!(
                    PushSubscription::from_json(bad.as_bytes()),
                    Err(Error::Json(_))
                ),
                "{bad}"
            );
        }
    }
}
