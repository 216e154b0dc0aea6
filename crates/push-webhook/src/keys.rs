//! The keys of the two signature schemes, in the specification's serialization: a symmetric
//! `whsec_` secret (`v1`, HMAC-SHA256), an ed25519 `whsk_` signing key and its `whpk_` public
//! key (`v1a`).

use core::fmt;
use core::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};

/// The prefix of a serialized symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The prefix of a serialized ed25519 signing (secret) key.
pub const SIGNING_KEY_PREFIX: &str = "whsk_";
/// The prefix of a serialized ed25519 public key.
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";

/// The fewest bytes a generated secret has (the specification's range is 24–64 bytes).
const MIN_GENERATED: usize = 24;
/// The most bytes a secret may have when parsed: far above the specification's 64, so that
/// secrets other implementations made are accepted, but bounded.
const MAX_SECRET: usize = 1024;

/// Why a key could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyError {
    /// The text after the prefix is not base64.
    Base64(base64::DecodeError),
    /// The secret decodes to nothing (an empty string or a bare `whsec_`).
    Empty,
    /// The secret decodes to more than 1024 bytes.
    TooLong,
    /// An ed25519 key is not 32 bytes, or the public key is not a curve point.
    Ed25519,
    /// A key serialized with the wrong prefix (`whsk_` where `whpk_` was expected, ...).
    Prefix,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Base64(_) => "the key is not base64",
            Self::Empty => "the secret is empty",
            Self::TooLong => "the secret is longer than 1024 bytes",
            Self::Ed25519 => "the key is not a 32-byte ed25519 key",
            Self::Prefix => "the key has another kind's prefix",
        })
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Base64(e) => Some(e),
            _ => None,
        }
    }
}

/// A symmetric `v1` secret (HMAC-SHA256). Its `Debug` hides the bytes; `Display` writes the
/// `whsec_` serialization.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A fresh random secret of 32 bytes from the operating system's generator.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = vec![0; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// A secret from raw bytes.
    ///
    /// # Errors
    /// [`KeyError::Empty`] for no bytes, [`KeyError::TooLong`] past 1024.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        match bytes.len() {
            0 => Err(KeyError::Empty),
            n if n > MAX_SECRET => Err(KeyError::TooLong),
            _ => Ok(Self(bytes.to_vec())),
        }
    }

    /// The raw bytes (the HMAC key).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether the secret is as long as the specification asks of a new one (24 bytes or more).
    #[must_use]
    pub fn is_strong(&self) -> bool {
        self.0.len() >= MIN_GENERATED
    }
}

impl FromStr for Secret {
    type Err = KeyError;

    /// Reads `whsec_BASE64` or bare `BASE64` (both are in use); padding is optional.
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let text = s.strip_prefix(SECRET_PREFIX).unwrap_or(s);
        if text.starts_with(SIGNING_KEY_PREFIX) || text.starts_with(PUBLIC_KEY_PREFIX) {
            return Err(KeyError::Prefix);
        }
        if text.len() > MAX_SECRET * 2 {
            return Err(KeyError::TooLong);
        }
        let bytes = STANDARD_PAD_INDIFFERENT
            .decode(text)
            .map_err(KeyError::Base64)?;
        Self::from_bytes(&bytes)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// An ed25519 signing key for `v1a` signatures (`whsk_` + base64 of the 32-byte seed).
#[derive(Clone)]
pub struct SigningKey(pub(crate) ed25519_dalek::SigningKey);

impl SigningKey {
    /// A fresh key from the operating system's generator.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut seed = [0; 32];
        getrandom::fill(&mut seed)?;
        Ok(Self(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// The public key receivers put in their trust list.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }
}

impl FromStr for SigningKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        let seed = decode_32(s, SIGNING_KEY_PREFIX)?;
        Ok(Self(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }
}

impl fmt::Display for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seed = self.0.to_bytes();
        write!(f, "{SIGNING_KEY_PREFIX}{}", STANDARD.encode(seed))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public_key())
    }
}

/// An ed25519 public key that verifies `v1a` signatures (`whpk_` + base64 of 32 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub(crate) ed25519_dalek::VerifyingKey);

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        let bytes = decode_32(s, PUBLIC_KEY_PREFIX)?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| KeyError::Ed25519)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PUBLIC_KEY_PREFIX}{}",
            STANDARD.encode(self.0.to_bytes())
        )
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// Decodes `PREFIX` + base64 of exactly 32 bytes (the prefix is optional; another kind's is not).
fn decode_32(s: &str, prefix: &str) -> Result<[u8; 32], KeyError> {
    let text = s.strip_prefix(prefix).unwrap_or(s);
    if [SECRET_PREFIX, SIGNING_KEY_PREFIX, PUBLIC_KEY_PREFIX]
        .iter()
        .any(|p| text.starts_with(p))
    {
        return Err(KeyError::Prefix);
    }
    if text.len() > 64 {
        return Err(KeyError::Ed25519);
    }
    let bytes = STANDARD_PAD_INDIFFERENT
        .decode(text)
        .map_err(KeyError::Base64)?;
    bytes.try_into().map_err(|_| KeyError::Ed25519)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_read_with_and_without_prefix_and_padding() {
        let a: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        let b: Secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_bytes().len(), 24);
        assert_eq!(a.to_string(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        // Unpadded base64 (Python's library tolerates it too).
        let c: Secret = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            .parse()
            .unwrap();
        assert_eq!(c.as_bytes().len(), 32);
    }

    #[test]
    fn empty_and_malformed_secrets_are_errors_with_a_source() {
        assert!(matches!("".parse::<Secret>(), Err(KeyError::Empty)));
        assert!(matches!("whsec_".parse::<Secret>(), Err(KeyError::Empty)));
        let err = "whsec_!!!!".parse::<Secret>().unwrap_err();
        assert!(matches!(err, KeyError::Base64(_)));
        assert!(std::error::Error::source(&err).is_some());
        let long = format!("whsec_{}", "A".repeat(4000));
        assert!(matches!(long.parse::<Secret>(), Err(KeyError::TooLong)));
    }

    #[test]
    fn generated_keys_round_trip_through_their_serialization() {
        let secret = Secret::generate().unwrap();
        assert!(secret.is_strong());
        assert_eq!(secret.to_string().parse::<Secret>().unwrap(), secret);
        assert!(!format!("{secret:?}").contains(&secret.to_string()[6..]));

        let key = SigningKey::generate().unwrap();
        let text = key.to_string();
        assert!(text.starts_with("whsk_"));
        let again: SigningKey = text.parse().unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let public: PublicKey = key.public_key().to_string().parse().unwrap();
        assert_eq!(public, key.public_key());
        // A signing key is never accepted where a public key is expected, nor the reverse.
        assert!(matches!(text.parse::<PublicKey>(), Err(KeyError::Prefix)));
        assert!(matches!(
            public.to_string().parse::<SigningKey>(),
            Err(KeyError::Prefix)
        ));
        assert!(matches!(text.parse::<Secret>(), Err(KeyError::Prefix)));
    }
}
