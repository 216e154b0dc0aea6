//! RFC 8292 VAPID: the application server's key, and the `Authorization: vapid t=…, k=…`
//! header, an ES256 JWT per push service origin, cached until shortly before it expires.
//!
//! ```text
//! t = base64url({"typ":"JWT","alg":"ES256"}) . base64url({"aud":ORIGIN,"exp":SECONDS,"sub":CONTACT})
//!     . base64url(ECDSA-P256-SHA256 signature, r || s)
//! k = base64url(uncompressed public key)
//! ```
//!
//! The clock is the caller's: every method that needs the time takes `now`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::SecretKey;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::LineEnding;
use serde::Serialize;

use crate::Error;
use crate::message::{decode_key, public_bytes, random_secret};

/// RFC 8292 §2: a push service refuses an `exp` more than 24 hours ahead.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// An application server's VAPID key pair (P-256).
#[derive(Clone)]
pub struct VapidKey {
    signing: SigningKey,
    public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    /// A fresh key pair from the operating system's random source.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self::from_secret(&random_secret()?))
    }

    /// From a PEM private key: SEC1 (`EC PRIVATE KEY`, what `openssl ecparam -genkey` writes)
    /// or PKCS#8 (`PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        SecretKey::from_pem(pem)
            .map(|secret| Self::from_secret(&secret))
            .map_err(Error::Pem)
    }

    /// From the base64url raw 32-byte private key (the form web-push tools print).
    pub fn from_base64url(private_key: &str) -> Result<Self, Error> {
        let bytes = decode_key("VAPID private key", private_key)?;
        let secret = SecretKey::from_slice(&bytes).map_err(|_| Error::InvalidKey {
            what: "VAPID private key",
            reason: "not a 32-byte P-256 scalar",
        })?;
        Ok(Self::from_secret(&secret))
    }

    fn from_secret(secret: &SecretKey) -> Self {
        Self {
            signing: SigningKey::from(secret),
            public: URL_SAFE_NO_PAD.encode(public_bytes(&secret.public_key())),
        }
    }

    /// The public key, base64url: the `k` of the header, and the `applicationServerKey` a page
    /// passes to `pushManager.subscribe`.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The private key as base64url raw bytes (keep it secret).
    pub fn private_key_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.signing.to_bytes())
    }

    /// The private key as a SEC1 PEM document (keep it secret).
    pub fn to_pem(&self) -> String {
        let secret = SecretKey::from(self.signing.as_nonzero_scalar());
        // Invariant: encoding a valid P-256 key as SEC1 DER/PEM cannot fail.
        secret
            .to_sec1_pem(LineEnding::LF)
            .expect("a P-256 key encodes as PEM")
            .to_string()
    }

    /// A signed token for `audience` (a push service origin) expiring at `exp` (Unix seconds).
    pub fn token(&self, audience: &str, exp: u64, subject: &str) -> String {
        #[derive(Serialize)]
        struct Claims<'a> {
            aud: &'a str,
            exp: u64,
            sub: &'a str,
        }
        // Invariant: serialising three plain fields cannot fail.
        let claims = serde_json::to_vec(&Claims {
            aud: audience,
            exp,
            sub: subject,
        })
        .expect("JSON of three fields");
        let mut token = String::with_capacity(256);
        token.push_str("eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9."); // {"typ":"JWT","alg":"ES256"}
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let signature: Signature = self.signing.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        token
    }
}

/// Signs VAPID headers for one key and contact, caching one token per audience.
#[derive(Debug)]
pub struct Vapid {
    key: VapidKey,
    subject: String,
    lifetime: Duration,
    refresh_before: Duration,
    max_audiences: usize,
    cache: Mutex<HashMap<String, Cached>>,
}

#[derive(Debug)]
struct Cached {
    header: http::HeaderValue,
    renew_at: SystemTime,
}

impl Vapid {
    /// Tokens for `key` naming `subject` (a `mailto:` or `https:` URI the push service may use
    /// to reach the operator).
    ///
    /// Defaults: tokens live 12 hours (half the 24-hour maximum, so a clock a few hours off
    /// still yields a valid `exp`), are renewed when less than an hour is left, and at most 64
    /// audiences are cached (there are a handful of push services; the bound keeps memory fixed
    /// if an allowlist admits more).
    pub fn new(key: VapidKey, subject: impl Into<String>) -> Result<Self, Error> {
        let subject = subject.into();
        let valid = subject
            .strip_prefix("mailto:")
            .is_some_and(|rest| rest.contains('@'))
            || url::Url::parse(&subject).is_ok_and(|u| u.scheme() == "https" && u.has_host());
        if !valid || http::HeaderValue::from_str(&subject).is_err() {
            return Err(Error::Subject);
        }
        Ok(Self {
            key,
            subject,
            lifetime: Duration::from_secs(12 * 60 * 60),
            refresh_before: Duration::from_secs(60 * 60),
            max_audiences: 64,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// How long a token is valid, at most [`MAX_LIFETIME`] (a longer one is shortened).
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime.min(MAX_LIFETIME);
        self
    }

    /// How long before expiry a cached token is replaced (at most the lifetime).
    #[must_use]
    pub fn with_refresh_before(mut self, refresh_before: Duration) -> Self {
        self.refresh_before = refresh_before;
        self
    }

    /// The key.
    pub fn key(&self) -> &VapidKey {
        &self.key
    }

    /// The `Authorization` header for a push service at `audience` (its origin, e.g.
    /// `https://fcm.googleapis.com`), signed anew only when the cached one is near expiry.
    pub fn authorization(&self, audience: &str, now: SystemTime) -> http::HeaderValue {
        // A poisoned lock only means another thread panicked mid-insert; the map is still a map.
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cached) = cache.get(audience).filter(|c| now < c.renew_at) {
            return cached.header.clone();
        }
        let exp_at = now + self.lifetime;
        let exp = exp_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let token = self.key.token(audience, exp, &self.subject);
        let text = format!("vapid t={token}, k={}", self.key.public_key());
        // Invariant: base64url, '=', ',', '.' and spaces are visible ASCII.
        let header = http::HeaderValue::from_str(&text).expect("ASCII header");
        if cache.len() >= self.max_audiences && !cache.contains_key(audience) {
            cache.retain(|_, c| now < c.renew_at);
            if cache.len() >= self.max_audiences {
                cache.clear();
            }
        }
        let renew_at = exp_at
            .checked_sub(self.refresh_before.min(self.lifetime))
            .unwrap_or(now);
        cache.insert(
            audience.to_owned(),
            Cached {
                header: header.clone(),
                renew_at,
            },
        );
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier as _;

    fn decode(part: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(part).unwrap()
    }

    fn parts(header: &http::HeaderValue) -> (String, String) {
        let text = header.to_str().unwrap();
        let rest = text.strip_prefix("vapid t=").unwrap();
        let (t, k) = rest.split_once(", k=").unwrap();
        (t.to_owned(), k.to_owned())
    }

    #[test]
    fn the_token_verifies_and_carries_the_claims() {
        let vapid = Vapid::new(VapidKey::generate().unwrap(), "mailto:ops@example.com").unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let (t, k) = parts(&vapid.authorization("https://push.example.net", now));
        assert_eq!(k, vapid.key().public_key());
        let (signed, signature) = t.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&decode(&k)).unwrap();
        let signature = Signature::from_slice(&decode(signature)).unwrap();
        key.verify(signed.as_bytes(), &signature).unwrap();
        let (head, claims) = signed.split_once('.').unwrap();
        let head: serde_json::Value = serde_json::from_slice(&decode(head)).unwrap();
        assert_eq!(head, serde_json::json!({"typ": "JWT", "alg": "ES256"}));
        let claims: serde_json::Value = serde_json::from_slice(&decode(claims)).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({
                "aud": "https://push.example.net",
                "exp": 1_700_000_000 + 12 * 3600,
                "sub": "mailto:ops@example.com",
            })
        );
    }

    #[test]
    fn tokens_are_cached_per_audience_until_near_expiry() {
        let vapid = Vapid::new(VapidKey::generate().unwrap(), "https://example.com/contact")
            .unwrap()
            .with_lifetime(Duration::from_secs(48 * 3600));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let a = vapid.authorization("https://a.example", t0);
        let b = vapid.authorization("https://b.example", t0);
        assert_ne!(a, b);
        // The lifetime was capped at 24 hours: renewal an hour before, at 23 hours.
        let almost = t0 + Duration::from_secs(23 * 3600 - 1);
        assert_eq!(vapid.authorization("https://a.example", almost), a);
        let renewed = vapid.authorization("https://a.example", almost + Duration::from_secs(1));
        assert_ne!(renewed, a);
        let (t, _) = parts(&renewed);
        let claims: serde_json::Value =
            serde_json::from_slice(&decode(t.split('.').nth(1).unwrap())).unwrap();
        assert_eq!(claims["exp"], 1_000_000 + 23 * 3600 + 24 * 3600);
    }

    #[test]
    fn the_audience_cache_is_bounded() {
        let vapid = Vapid::new(VapidKey::generate().unwrap(), "mailto:a@b.c").unwrap();
        let now = SystemTime::UNIX_EPOCH;
        for i in 0..200 {
            vapid.authorization(&format!("https://{i}.example"), now);
        }
        assert!(vapid.cache.lock().unwrap().len() <= 64);
    }

    #[test]
    fn keys_load_from_pem_and_base64url() {
        let key = VapidKey::generate().unwrap();
        let from_pem = VapidKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(from_pem.public_key(), key.public_key());
        let from_raw = VapidKey::from_base64url(&key.private_key_base64url()).unwrap();
        assert_eq!(from_raw.public_key(), key.public_key());
        assert!(
            VapidKey::from_pem(
                "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"
            )
            .is_err()
        );
        assert!(VapidKey::from_base64url("AAAA").is_err());
    }

    #[test]
    fn a_subject_is_a_mailto_or_https_uri() {
        let key = VapidKey::generate().unwrap();
        for bad in [
            "ops@example.com",
            "http://example.com",
            "mailto:nobody",
            "https://",
            "mailto:a@b\n",
        ] {
            assert!(Vapid::new(key.clone(), bad).is_err(), "{bad}");
        }
    }
}
