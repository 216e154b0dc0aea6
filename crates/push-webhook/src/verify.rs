//! The receiver's side: `verify(headers, raw_body, keys)` — the three headers required, the
//! timestamp within a tolerance both ways, every signature entry tried against every trusted key
//! with a constant-time comparison.

use core::fmt;
use core::num::ParseIntError;
use core::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName};
use subtle::ConstantTimeEq as _;

use crate::keys::{PublicKey, Secret};
use crate::sign::{WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, hmac_v1, signed_content};

/// The default timestamp tolerance, both directions: 5 minutes, what every reference library of
/// the specification uses.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The default number of signature entries read from one request. A rotation sends two or three;
/// the bound keeps a hostile header from making the receiver run thousands of ed25519 checks.
pub const DEFAULT_MAX_SIGNATURES: usize = 16;

/// A key the receiver trusts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Trusted {
    /// Accepts `v1` signatures made with this secret.
    Secret(Secret),
    /// Accepts `v1a` signatures this public key verifies.
    PublicKey(PublicKey),
}

impl From<Secret> for Trusted {
    fn from(secret: Secret) -> Self {
        Self::Secret(secret)
    }
}

impl From<PublicKey> for Trusted {
    fn from(key: PublicKey) -> Self {
        Self::PublicKey(key)
    }
}

/// Why a request is not an authentic, fresh delivery.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyError {
    /// One of `webhook-id`, `webhook-timestamp`, `webhook-signature` is missing.
    MissingHeader(HeaderName),
    /// A header is not visible ASCII text.
    InvalidHeader(HeaderName),
    /// `webhook-timestamp` is not a whole number of seconds.
    InvalidTimestamp(ParseIntError),
    /// The timestamp is older than the tolerance allows (a replay, or a clock far behind).
    TooOld,
    /// The timestamp is further in the future than the tolerance allows.
    TooNew,
    /// No signature entry verifies with any trusted key (a tampered body, id or timestamp, an
    /// unknown key, or only entries of unknown versions).
    NoMatchingSignature,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHeader(name) => write!(f, "the `{name}` header is missing"),
            Self::InvalidHeader(name) => write!(f, "the `{name}` header is not ASCII text"),
            Self::InvalidTimestamp(_) => f.write_str("`webhook-timestamp` is not an integer"),
            Self::TooOld => f.write_str("the timestamp is too old"),
            Self::TooNew => f.write_str("the timestamp is too far in the future"),
            Self::NoMatchingSignature => f.write_str("no signature matches"),
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidTimestamp(e) => Some(e),
            _ => None,
        }
    }
}

/// What a verified request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `webhook-id`: the idempotency key.
    pub id: String,
    /// `webhook-timestamp`: the Unix seconds of this attempt.
    pub timestamp: i64,
}

/// Checks deliveries against a trust list. Reads no clock: `now` is an argument.
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: Vec<Trusted>,
    tolerance: Duration,
    max_signatures: usize,
}

impl Verifier {
    /// A verifier trusting `keys`, with the default tolerance (5 minutes).
    #[must_use]
    pub fn new(keys: impl IntoIterator<Item = Trusted>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
            tolerance: DEFAULT_TOLERANCE,
            max_signatures: DEFAULT_MAX_SIGNATURES,
        }
    }

    /// Sets the timestamp tolerance (both directions).
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets how many signature entries of one request are read (default 16).
    #[must_use]
    pub fn max_signatures(mut self, max: usize) -> Self {
        self.max_signatures = max;
        self
    }

    /// Verifies one request: `body` must be the raw bytes received, not a re-serialization.
    ///
    /// # Errors
    /// See [`VerifyError`]: a missing or malformed header, a timestamp outside the tolerance of
    /// `now`, no matching signature.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        let id = header(headers, &WEBHOOK_ID)?;
        let timestamp_text = header(headers, &WEBHOOK_TIMESTAMP)?;
        // Present, even if checked after the timestamp.
        header(headers, &WEBHOOK_SIGNATURE)?;
        let timestamp: i64 = timestamp_text
            .parse()
            .map_err(VerifyError::InvalidTimestamp)?;
        self.check_time(timestamp, now)?;

        let mut content = None;
        let mut entries = 0;
        for value in headers.get_all(&WEBHOOK_SIGNATURE) {
            let value = value
                .to_str()
                .map_err(|_| VerifyError::InvalidHeader(WEBHOOK_SIGNATURE))?;
            for entry in value.split(' ').filter(|e| !e.is_empty()) {
                entries += 1;
                if entries > self.max_signatures {
                    return Err(VerifyError::NoMatchingSignature);
                }
                let Some((version, signature)) = entry.split_once(',') else {
                    continue;
                };
                if self.entry_matches(version, signature, id, timestamp_text, body, &mut content) {
                    return Ok(Verified {
                        id: id.to_owned(),
                        timestamp,
                    });
                }
            }
        }
        Err(VerifyError::NoMatchingSignature)
    }

    fn check_time(&self, timestamp: i64, now: SystemTime) -> Result<(), VerifyError> {
        let now = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
        };
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if timestamp < now.saturating_sub(tolerance) {
            return Err(VerifyError::TooOld);
        }
        if timestamp > now.saturating_add(tolerance) {
            return Err(VerifyError::TooNew);
        }
        Ok(())
    }

    /// Whether one `version,base64` entry verifies with a trusted key of its version. Entries of
    /// unknown versions, undecodable or of the wrong length match nothing.
    fn entry_matches(
        &self,
        version: &str,
        signature: &str,
        id: &str,
        timestamp: &str,
        body: &[u8],
        content: &mut Option<Vec<u8>>,
    ) -> bool {
        let Ok(signature) = STANDARD.decode(signature) else {
            return false;
        };
        match version {
            "v1" if signature.len() == 32 => self.keys.iter().any(|key| match key {
                Trusted::Secret(secret) => {
                    let expected = hmac_v1(secret, id, timestamp, body);
                    bool::from(expected.ct_eq(&signature[..]))
                }
                Trusted::PublicKey(_) => false,
            }),
            "v1a" => {
                let Ok(signature) = ed25519_dalek::Signature::from_slice(&signature) else {
                    return false;
                };
                let content = content.get_or_insert_with(|| signed_content(id, timestamp, body));
                self.keys.iter().any(|key| match key {
                    Trusted::PublicKey(public) => {
                        public.0.verify_strict(content, &signature).is_ok()
                    }
                    Trusted::Secret(_) => false,
                })
            }
            _ => false,
        }
    }
}

/// `verify(headers, raw_body, keys)` with the default tolerance: a shorthand for
/// [`Verifier::verify`].
///
/// # Errors
/// See [`VerifyError`].
pub fn verify(
    headers: &HeaderMap,
    raw_body: &[u8],
    keys: impl IntoIterator<Item = Trusted>,
    now: SystemTime,
) -> Result<Verified, VerifyError> {
    Verifier::new(keys).verify(headers, raw_body, now)
}

fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<&'a str, VerifyError> {
    headers
        .get(name)
        .ok_or_else(|| VerifyError::MissingHeader(name.clone()))?
        .to_str()
        .map_err(|_| VerifyError::InvalidHeader(name.clone()))
}
