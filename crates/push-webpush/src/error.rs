//! The crate's one error type.

use std::time::Duration;

/// What went wrong building, encrypting, decrypting or sending a push message.
///
/// Every variant caused by input (a subscription, a body, a key file, a push service's answer)
/// is a value, never a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A subscription key or VAPID key is not valid base64url, or has the wrong length.
    #[error("invalid {what}: {reason}")]
    InvalidKey {
        /// Which key (`p256dh`, `auth`, `VAPID private key`, …).
        what: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A PEM VAPID key could not be read.
    #[error("invalid VAPID PEM key")]
    Pem(#[source] p256::elliptic_curve::DecodeError),
    /// The operating system's random source failed.
    #[error("the system random source failed")]
    Random(#[source] getrandom::Error),
    /// The encrypted message would exceed the limit (RFC 8030 §7.2: push services need only
    /// accept 4096 bytes).
    #[error("the encrypted message is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The size the encrypted body would have.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A record size, padding length or other encoding parameter is out of range.
    #[error("invalid encoding parameter: {0}")]
    Parameter(&'static str),
    /// An `aes128gcm` body is malformed or does not authenticate (RFC 8188 §2).
    #[error("cannot decrypt: {0}")]
    Decrypt(&'static str),
    /// The endpoint URL is not one this policy sends to.
    #[error("endpoint refused: {0}")]
    Endpoint(String),
    /// A VAPID `sub` claim that is neither a `mailto:` nor an `https:` URI (RFC 8292 §2.1).
    #[error("the VAPID subject must be a mailto: or https: URI")]
    Subject,
    /// A `Topic` that is longer than 32 characters or not base64url (RFC 8030 §5.4).
    #[error("a Topic is at most 32 characters of the base64url alphabet")]
    Topic,
    /// The subscription JSON is malformed.
    #[error("invalid subscription JSON")]
    Json(#[source] serde_json::Error),
    /// The sender's queue is full: the message was not accepted (back-pressure, not loss).
    #[error("the Web Push queue is full ({0} messages in flight)")]
    QueueFull(usize),
    /// The request did not complete within the configured time.
    #[error("the push service did not answer within {0:?}")]
    Timeout(Duration),
    /// The HTTP exchange with the push service failed.
    #[error("the request to the push service failed")]
    Http(#[source] Box<dyn std::error::Error + Send + Sync>),
}
