//! The sender's side of the signature scheme: `webhook-id`, `webhook-timestamp` and a
//! `webhook-signature` holding one entry per active key (several during a rotation).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::Signer as _;
use hmac::{KeyInit as _, Mac as _};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest as _, Sha256};

use crate::keys::{Secret, SigningKey};

/// `webhook-id`: the message's id, the same on every retry (the receiver's idempotency key).
pub const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
/// `webhook-timestamp`: the Unix seconds of this attempt.
pub const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
/// `webhook-signature`: space-separated `version,base64` entries.
pub const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

pub(crate) type HmacSha256 = hmac::Hmac<Sha256>;

/// One key the sender signs with.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Key {
    /// `v1`: HMAC-SHA256 with a shared secret.
    Symmetric(Secret),
    /// `v1a`: ed25519 with a signing key whose public key the receiver trusts.
    Asymmetric(SigningKey),
}

impl From<Secret> for Key {
    fn from(secret: Secret) -> Self {
        Self::Symmetric(secret)
    }
}

impl From<SigningKey> for Key {
    fn from(key: SigningKey) -> Self {
        Self::Asymmetric(key)
    }
}

/// Signs deliveries with every key it holds: during a rotation it holds the new key and the old
/// one, and the header carries both signatures, so receivers that know either accept it.
#[derive(Debug, Clone, Default)]
pub struct Signer {
    keys: Vec<Key>,
}

impl Signer {
    /// A signer with one key.
    #[must_use]
    pub fn new(key: impl Into<Key>) -> Self {
        Self {
            keys: vec![key.into()],
        }
    }

    /// Adds a key (its signature goes after the others').
    #[must_use]
    pub fn with_key(mut self, key: impl Into<Key>) -> Self {
        self.keys.push(key.into());
        self
    }

    /// The keys, in signing order.
    #[must_use]
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The `webhook-signature` value of `body` sent as message `id` at `timestamp` (Unix
    /// seconds): one `v1,` or `v1a,` entry per key, separated by spaces.
    ///
    /// `id` must not contain `.` (the signed content is `id.timestamp.body`); [`message_id`]
    /// makes ids that cannot.
    #[must_use]
    pub fn signature(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        debug_assert!(!id.contains('.'), "a message id must not contain `.`");
        let timestamp = timestamp.to_string();
        let mut out = String::with_capacity(self.keys.len() * 92);
        let mut content: Option<Vec<u8>> = None;
        for key in &self.keys {
            if !out.is_empty() {
                out.push(' ');
            }
            match key {
                Key::Symmetric(secret) => {
                    out.push_str("v1,");
                    let mac = hmac_v1(secret, id, &timestamp, body);
                    STANDARD.encode_string(mac, &mut out);
                }
                Key::Asymmetric(signing) => {
                    out.push_str("v1a,");
                    let content =
                        content.get_or_insert_with(|| signed_content(id, &timestamp, body));
                    let signature = signing.0.sign(content);
                    STANDARD.encode_string(signature.to_bytes(), &mut out);
                }
            }
        }
        out
    }

    /// The three headers of one attempt.
    ///
    /// # Panics
    /// Never for ids from [`message_id`]; an `id` with characters a header value cannot hold
    /// (control characters) panics, since the sender, not a peer, makes ids.
    #[must_use]
    pub fn headers(&self, id: &str, timestamp: u64, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(3);
        let id_value = HeaderValue::from_str(id).expect("message ids are visible ASCII");
        headers.insert(WEBHOOK_ID, id_value);
        headers.insert(WEBHOOK_TIMESTAMP, HeaderValue::from(timestamp));
        let signature = self.signature(id, timestamp, body);
        // base64, `v1`, `,` and spaces only: always a valid header value.
        let signature = HeaderValue::from_str(&signature).expect("base64 is visible ASCII");
        headers.insert(WEBHOOK_SIGNATURE, signature);
        headers
    }
}

/// HMAC-SHA256 over `id.timestamp.body`, fed in pieces (no copy of the body).
pub(crate) fn hmac_v1(secret: &Secret, id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length; `Secret` is never empty.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// `id.timestamp.body` in one buffer (ed25519 signs a whole message).
pub(crate) fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// The `webhook-id` of the event at `cursor` delivered to `registration` (the hub's own id of
/// the registration): `msg_` and 27 URL-safe base64 characters of a SHA-256 over both.
///
/// It is derived from the hub's position, never from an id a publisher supplies (which may
/// repeat): unique per (event, registration), the same on every retry and after a restart, and
/// free of `.`.
#[must_use]
pub fn message_id(registration: &str, cursor: &str) -> String {
    let mut hash = Sha256::new();
    hash.update((registration.len() as u64).to_be_bytes());
    hash.update(registration.as_bytes());
    hash.update(cursor.as_bytes());
    let digest = hash.finalize();
    let mut id = String::with_capacity(31);
    id.push_str("msg_");
    // 20 bytes → 27 characters, the length of the specification's examples.
    URL_SAFE_NO_PAD.encode_string(&digest[..20], &mut id);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_distinct_and_dot_free() {
        let a = message_id("reg1", "5eed-2a");
        assert_eq!(a, message_id("reg1", "5eed-2a"));
        assert_eq!(a.len(), 31);
        assert!(a.starts_with("msg_") && !a.contains('.'));
        assert_ne!(a, message_id("reg2", "5eed-2a"));
        assert_ne!(a, message_id("reg1", "5eed-2b"));
        // The registration's length is hashed in: ("ab", "c") and ("a", "bc") differ.
        assert_ne!(message_id("ab", "c"), message_id("a", "bc"));
    }

    #[test]
    fn every_key_signs_in_order() {
        let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        let signing = SigningKey::generate().unwrap();
        let signer = Signer::new(secret.clone()).with_key(signing);
        let header = signer.signature("msg_1", 1, b"{}");
        let entries: Vec<&str> = header.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].starts_with("v1,"));
        assert!(entries[1].starts_with("v1a,"));
        assert_eq!(entries[1].len(), 4 + 88);
        let headers = signer.headers("msg_1", 1, b"{}");
        assert_eq!(headers[WEBHOOK_SIGNATURE], header.as_str());
        assert_eq!(headers[WEBHOOK_TIMESTAMP], "1");
    }
}
