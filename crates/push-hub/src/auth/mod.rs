//! Who may subscribe to what and publish where: JWS access tokens, verified against the keys
//! the hub is configured with, read as either Mercure revision.
//!
//! ```text
//!   request head ──► extract (Bearer header > `authorization` query (0.x) > cookie)
//!                       │
//!                       ▼
//!                  jws::read_header (alg, kid, typ; `none`, jku/jwk/x5u/x5c/crit refused)
//!                       │
//!                       ▼
//!                  keys::KeyRing::verify (kid selects, the key's own alg must equal the token's)
//!                       │
//!                       ▼
//!                  claims::grants (draft-07 `mercure` claim, or 1.0 `at+jwt` +
//!                       │          `authorization_details`; exp / nbf / iss / aud)
//!                       ▼
//!         Subscriber { Access: private grant + until = exp }   Publisher { check(topics) }
//!
//!   any failure ──► AuthError ──► 0.x: 401 text/plain saying what was wrong
//!                             └─► 1.0: RFC 6750 401 / 403 / 400 with WWW-Authenticate
//! ```
//!
//! The token itself never appears in an error, a response or a log line.
//!
//! ```
//! use http::Request;
//! use push_hub::auth::{Algorithm, AuthConfig, Authorizer, KeySpec};
//! use push_hub::token::{Claims, mint};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = KeySpec::new("a secret of at least thirty-two bytes!", Algorithm::HS256);
//! let authorizer = Authorizer::new(AuthConfig::with_key(key.clone()))?;
//!
//! let token = mint(&key, &Claims::new().subscribe("https://example.com/books/{id}"))?;
//! let (parts, ()) = Request::get("/.well-known/mercure?topic=https://example.com/books/1")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(())?
//!     .into_parts();
//! let subscriber = authorizer.subscriber(&parts)?;
//! assert!(subscriber.access().private().is_some());
//!
//! // A token for another key answers a message that says what was wrong.
//! let other = KeySpec::new("another secret, also thirty-two bytes", Algorithm::HS256);
//! let forged = mint(&other, &Claims::new().subscribe("*"))?;
//! let (parts, ()) = Request::get("/.well-known/mercure?topic=a")
//!     .header("authorization", format!("Bearer {forged}"))
//!     .body(())?
//!     .into_parts();
//! let refusal = authorizer.subscriber(&parts).unwrap_err().into_refusal();
//! assert_eq!(refusal.status(), 401);
//! assert!(refusal.message().contains("signature"));
//! # Ok(())
//! # }
//! ```

mod alg;
mod authorizer;
mod claims;
mod error;
mod es512;
mod extract;
mod hooks;
mod jws;
mod keys;
mod revision;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_es512;
#[cfg(test)]
mod tests_keys;
#[cfg(test)]
mod tests_request;

use std::time::Duration;

pub use alg::{Algorithm, UnknownAlgorithm};
pub use authorizer::{Authorizer, Publisher, Subscriber};
pub use claims::DETAIL_TYPE;
pub use error::{AuthError, Reason, Role};
pub use hooks::{HubHooks, selector_from_query};
pub use keys::ConfigError;
pub use revision::Revision;

/// The default name of the cookie that carries a 0.x token (Mercure's `mercureAuthorization`).
pub const DEFAULT_COOKIE_NAME: &str = "mercureAuthorization";

/// The cookie a 1.0 subscriber presents its token in (draft-08; `__Secure-` makes browsers
/// keep it to HTTPS origins).
pub const V1_COOKIE_NAME: &str = "__Secure-mercure_access_token";

/// The most selectors one claim (`publish`, `subscribe`, or a 1.0 detail's `topics`) may name,
/// as Mercure's own hub allows: a token past it is refused, so verifying a token costs a bounded
/// amount of work whatever its issuer put in it.
pub const MAX_CLAIM_SELECTORS: usize = 1000;

/// The default longest token read: 16 KiB.
///
/// Enough for a token that names a few hundred selectors; a browser cookie holds at most 4 KiB,
/// and the hub's request-head limit bounds any header anyway. A longer token is refused before
/// it is decoded, so a hostile one costs no base64 or JSON work.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

/// The default of [`AuthConfig::max_grant_selectors`]: 1,000, every selector a claim may
/// name. Tokens are signed by the hub's keys, so this bounds a mistake, not an attacker: a
/// grant holds its selectors for the subscription's life (about 100 bytes each, so 100 KiB
/// for a subscriber holding 1,000; a 1 GiB deployment holds thousands of those beside its
/// ordinary subscribers), and each topic the subscriber follows is matched once against them.
pub const DEFAULT_MAX_GRANT_SELECTORS: usize = MAX_CLAIM_SELECTORS;

/// One verification key: a secret (HMAC) or a PEM public key, the one algorithm it verifies,
/// and optionally the key id (`kid`) tokens name it by.
///
/// The algorithm is tied to the key: a token whose header names any other algorithm is
/// refused, so an RSA public key can never be used as an HMAC secret.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// The HMAC secret, or the PEM text of the public key (private key for minting).
    pub key: String,
    /// The one algorithm this key verifies (and signs, when minting).
    pub alg: Algorithm,
    /// The key id tokens select it with; `None` for a key that any token without a matching
    /// `kid` may be tried against.
    pub kid: Option<String>,
}

impl KeySpec {
    /// A key without a key id.
    pub fn new(key: impl Into<String>, alg: Algorithm) -> Self {
        Self {
            key: key.into(),
            alg,
            kid: None,
        }
    }

    /// The same key, named `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }
}

impl core::fmt::Debug for KeySpec {
    /// Never prints the key: a secret must not reach a log.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeySpec")
            .field("key", &"<redacted>")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish()
    }
}

/// How the hub verifies tokens and which requests it lets in without one.
///
/// Several keys per role may be active at once (key rotation): a token naming a `kid` is
/// verified with the key of that id, a token without one with each key of its algorithm.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// The keys publishers' tokens are verified with. Empty: nobody can publish.
    pub publisher: Vec<KeySpec>,
    /// The keys subscribers' tokens are verified with. Empty: only anonymous subscribers, when
    /// [`anonymous`](Self::anonymous) allows them.
    pub subscriber: Vec<KeySpec>,
    /// Whether a subscriber without a token is let in (public updates only). A token that is
    /// present but invalid is refused all the same.
    pub anonymous: bool,
    /// The cookie a 0.x token is read from (default [`DEFAULT_COOKIE_NAME`]).
    pub cookie_name: String,
    /// The origins (`https://example.com`) a publish authenticated by a cookie may come from;
    /// `*` allows any. Empty (the default): no cookie-authenticated publish is accepted, the
    /// safe answer to cross-site request forgery.
    pub publish_origins: Vec<String>,
    /// The issuers (`iss`) whose 1.0 (`at+jwt`) tokens are accepted. Empty (the default): any
    /// issuer, since trust comes from the configured keys; an `iss` is still required, as RFC
    /// 9068 wants one.
    pub issuers: Vec<String>,
    /// The resource identifiers a 1.0 token's `aud` must name one of. Empty (the default): the
    /// hub URL of the request, `https://HOST/.well-known/mercure` (or `http://`), from its
    /// `Host` (or `:authority`).
    pub audience: Vec<String>,
    /// How far a token's `exp` and `nbf` may be off the hub's clock. Default 0, as Mercure's
    /// hub: a token is expired the second its `exp` is reached.
    pub leeway: Duration,
    /// The longest token read (default [`DEFAULT_MAX_TOKEN_LEN`]).
    pub max_token_len: usize,
    /// The most distinct selectors a subscriber's token may grant (its subscribe claim; `*`
    /// counts as every topic whatever else it names); a token granting more is refused with
    /// a message that says so. Default [`DEFAULT_MAX_GRANT_SELECTORS`]; a claim never names
    /// more than [`MAX_CLAIM_SELECTORS`].
    pub max_grant_selectors: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            publisher: Vec::new(),
            subscriber: Vec::new(),
            anonymous: false,
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            publish_origins: Vec::new(),
            issuers: Vec::new(),
            audience: Vec::new(),
            leeway: Duration::ZERO,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            max_grant_selectors: DEFAULT_MAX_GRANT_SELECTORS,
        }
    }
}

impl AuthConfig {
    /// One key for both roles (Mercure's `jwt_key`), every other setting at its default.
    pub fn with_key(key: KeySpec) -> Self {
        Self {
            publisher: vec![key.clone()],
            subscriber: vec![key],
            ..Self::default()
        }
    }
}
