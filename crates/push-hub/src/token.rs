//! Minting tokens: what the hub's development-key banner and `pushcat token` print.
//!
//! ```
//! use std::time::Duration;
//! use push_hub::auth::{Algorithm, KeySpec};
//! use push_hub::token::{Claims, mint};
//!
//! let key = KeySpec::new("a development secret of 32 bytes!", Algorithm::HS256);
//! let claims = Claims::new()
//!     .publish("*")
//!     .subscribe("https://example.com/users/7/{+any}")
//!     .expires_in(Duration::from_secs(3600));
//! let token = mint(&key, &claims).unwrap();
//! assert_eq!(token.split('.').count(), 3);
//! ```

use core::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{AlgorithmFamily, EncodingKey, Header};
use serde_json::{Map, Value, json};

use crate::auth::KeySpec;

/// What a minted token grants: draft-07 `mercure` claim selectors, a payload, an expiry; or,
/// with [`access_token`](Self::access_token), the same as a 1.0 `at+jwt` token.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims {
    publish: Vec<String>,
    subscribe: Vec<String>,
    payload: Option<Value>,
    exp: Option<SystemTime>,
    access_token: Option<(String, String)>,
}

impl Claims {
    /// No grant at all (a token that only proves who signed it).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a publish selector (`*`, a URI template, or a topic).
    #[must_use]
    pub fn publish(mut self, selector: impl Into<String>) -> Self {
        self.publish.push(selector.into());
        self
    }

    /// Adds a subscribe selector (`*`, a URI template, or a topic).
    #[must_use]
    pub fn subscribe(mut self, selector: impl Into<String>) -> Self {
        self.subscribe.push(selector.into());
        self
    }

    /// Sets the payload subscription events show.
    #[must_use]
    pub fn payload(mut self, payload: Value) -> Self {
        self.payload = Some(payload);
        self
    }

    /// Expires the token at `at`.
    #[must_use]
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.exp = Some(at);
        self
    }

    /// Expires the token `after` from now.
    #[must_use]
    pub fn expires_in(self, after: Duration) -> Self {
        self.expires_at(SystemTime::now() + after)
    }

    /// Mints a 1.0 access token (`typ: at+jwt`, `iss`, `aud`, `authorization_details` with
    /// exact matchers) instead of a draft-07 one. A 1.0 token needs an expiry: one hour
    /// from now unless one is set.
    #[must_use]
    pub fn access_token(mut self, issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        self.access_token = Some((issuer.into(), audience.into()));
        self
    }

    /// The JSON payload of the token.
    pub fn to_json(&self) -> Value {
        let mut claims = Map::new();
        let unix = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Some((iss, aud)) = &self.access_token {
            let exp = self
                .exp
                .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(3600));
            claims.insert("iss".into(), iss.as_str().into());
            claims.insert("aud".into(), aud.as_str().into());
            claims.insert("exp".into(), unix(exp).into());
            claims.insert("iat".into(), unix(SystemTime::now()).into());
            let matchers = |list: &[String]| -> Vec<Value> {
                list.iter()
                    .map(|m| json!({"match": m, "match_type": "exact"}))
                    .collect()
            };
            let mut details = Vec::new();
            for (action, list) in [("publish", &self.publish), ("subscribe", &self.subscribe)] {
                if list.is_empty() {
                    continue;
                }
                let mut detail = json!({
                    "type": crate::auth::DETAIL_TYPE,
                    "actions": [action],
                    "topics": matchers(list),
                });
                if action == "subscribe"
                    && let Some(payload) = &self.payload
                {
                    detail["payload"] = payload.clone();
                }
                details.push(detail);
            }
            claims.insert("authorization_details".into(), details.into());
            return claims.into();
        }
        let mut mercure = Map::new();
        if !self.publish.is_empty() {
            mercure.insert("publish".into(), self.publish.clone().into());
        }
        if !self.subscribe.is_empty() {
            mercure.insert("subscribe".into(), self.subscribe.clone().into());
        }
        if let Some(payload) = &self.payload {
            mercure.insert("payload".into(), payload.clone());
        }
        claims.insert("mercure".into(), mercure.into());
        if let Some(exp) = self.exp {
            claims.insert("exp".into(), unix(exp).into());
        }
        claims.into()
    }
}

/// A key that cannot sign: an HMAC secret that is empty, or a PEM private key that is not one
/// of the algorithm's family.
#[derive(Debug)]
pub struct MintError(jsonwebtoken::errors::Error);

impl fmt::Display for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the key cannot sign a token with its algorithm")
    }
}

impl std::error::Error for MintError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Signs `claims` with `key` (an HMAC secret, or the PEM private key of a public-key
/// algorithm), naming `key.kid` in the header.
///
/// # Errors
/// [`MintError`] when the key cannot sign with its algorithm.
pub fn mint(key: &KeySpec, claims: &Claims) -> Result<String, MintError> {
    let bytes = key.key.as_bytes();
    if bytes.is_empty() {
        return Err(MintError(
            jsonwebtoken::errors::ErrorKind::InvalidKeyFormat.into(),
        ));
    }
    // ES512 keys verify only: the hub mints with jsonwebtoken, which has no ES512.
    let alg = key
        .alg
        .jwt()
        .ok_or_else(|| MintError(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into()))?;
    let encoding = match key.alg.family() {
        AlgorithmFamily::Hmac => EncodingKey::from_secret(bytes),
        AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(bytes),
        AlgorithmFamily::Ec => EncodingKey::from_ec_pem(bytes),
        AlgorithmFamily::Ed => EncodingKey::from_ed_pem(bytes),
    }
    .map_err(MintError)?;
    let mut header = Header::new(alg);
    header.kid.clone_from(&key.kid);
    if claims.access_token.is_some() {
        header.typ = Some("at+jwt".into());
    }
    jsonwebtoken::encode(&header, &claims.to_json(), &encoding).map_err(MintError)
}
