//! The verification keys of one role, parsed once, and the choice of key for a token.

use core::fmt;

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::Value;

use super::error::{AuthError, Reason, Role};
use super::jws::Header;
use super::{KeySpec, Revision};

/// A key that cannot be used: the configuration is refused when the hub starts, not when the
/// first token arrives.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// An HMAC secret is empty.
    EmptySecret(Role),
    /// A PEM key was given with an HMAC algorithm: the PEM text would be an HMAC secret that
    /// anyone holding the public key knows.
    PemAsSecret(Role),
    /// A public-key algorithm was given a key that is not a PEM key of its family.
    BadPem(Role, Algorithm, jsonwebtoken::errors::Error),
    /// Two keys of one role share a key id.
    DuplicateKid(Role, String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret(role) => write!(f, "the {role} key is empty"),
            Self::PemAsSecret(role) => write!(
                f,
                "the {role} key is a PEM key but its algorithm is HMAC: name the key's \
                 algorithm (RS256, ES256, EdDSA, …)"
            ),
            Self::BadPem(role, alg, _) => write!(
                f,
                "the {role} key is not a PEM public key of the {alg:?} family"
            ),
            Self::DuplicateKid(role, kid) => {
                write!(f, "two {role} keys share the key id {kid:?}")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::BadPem(_, _, e) => Some(e),
            _ => None,
        }
    }
}

/// One key, ready to verify.
struct Key {
    alg: Algorithm,
    kid: Option<String>,
    decoding: DecodingKey,
}

/// The keys of one role.
pub(crate) struct KeyRing {
    role: Role,
    keys: Vec<Key>,
}

impl fmt::Debug for KeyRing {
    /// Names the keys' algorithms and ids, never their material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| (k.alg, k.kid.as_deref())))
            .finish()
    }
}

impl KeyRing {
    pub(crate) fn new(role: Role, specs: &[KeySpec]) -> Result<Self, ConfigError> {
        let mut keys: Vec<Key> = Vec::with_capacity(specs.len());
        for spec in specs {
            if let Some(kid) = &spec.kid
                && keys.iter().any(|k| k.kid.as_ref() == Some(kid))
            {
                return Err(ConfigError::DuplicateKid(role, kid.clone()));
            }
            keys.push(Key {
                alg: spec.alg,
                kid: spec.kid.clone(),
                decoding: decoding_key(role, spec)?,
            });
        }
        Ok(Self { role, keys })
    }

    pub(crate) fn role(&self) -> Role {
        self.role
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies `token` (whose header is `header`) and returns its claims.
    ///
    /// The keys tried: the one whose `kid` the token names; a token naming an id no key has
    /// (or naming none) is tried against the keys without an id. Of those, only keys of the
    /// token's own algorithm: a token of another algorithm is refused before any signature
    /// check, so an HMAC token can never be checked against a public key's bytes.
    pub(crate) fn verify(
        &self,
        token: &str,
        header: &Header,
        revision: Revision,
    ) -> Result<Value, AuthError> {
        let fail = |reason| AuthError::new(reason, revision);
        if self.keys.is_empty() {
            return Err(fail(Reason::NoKey(self.role)));
        }
        let named: Vec<&Key> = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .filter(|k| k.kid.as_ref() == Some(kid))
                .collect(),
            None => Vec::new(),
        };
        let candidates: Vec<&Key> = if named.is_empty() {
            let anonymous: Vec<&Key> = self.keys.iter().filter(|k| k.kid.is_none()).collect();
            match (&header.kid, anonymous.is_empty()) {
                (Some(_), true) => return Err(fail(Reason::UnknownKid)),
                // A token without a `kid` when every key has one: try them all (a single
                // named key still verifies tokens of issuers that set no `kid`).
                (None, true) => self.keys.iter().collect(),
                (_, false) => anonymous,
            }
        } else {
            named
        };
        let of_alg: Vec<&Key> = candidates
            .iter()
            .copied()
            .filter(|k| k.alg == header.alg)
            .collect();
        if of_alg.is_empty() {
            let mut expected: Vec<String> =
                candidates.iter().map(|k| format!("{:?}", k.alg)).collect();
            expected.dedup();
            return Err(fail(Reason::WrongAlg {
                token: format!("{:?}", header.alg),
                expected: expected.join(" or "),
            }));
        }
        let mut last = None;
        for key in of_alg {
            let mut validation = Validation::new(key.alg);
            // Time, issuer and audience are checked by `claims`, against the hub's clock and
            // with messages of its own.
            validation.validate_exp = false;
            validation.validate_nbf = false;
            validation.validate_aud = false;
            validation.required_spec_claims.clear();
            match jsonwebtoken::decode::<Value>(token, &key.decoding, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => last = Some(e),
            }
        }
        let error = last.expect("at least one key was tried");
        let reason = match error.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => Reason::BadSignature,
            jsonwebtoken::errors::ErrorKind::Json(_) => {
                Reason::Malformed("its claims are not a JSON object".into())
            }
            jsonwebtoken::errors::ErrorKind::Base64(_)
            | jsonwebtoken::errors::ErrorKind::Utf8(_) => {
                Reason::Malformed("its claims or signature are not base64url".into())
            }
            _ => Reason::Malformed("it cannot be verified".into()),
        };
        Err(fail(reason).with_source(error))
    }
}

fn decoding_key(role: Role, spec: &KeySpec) -> Result<DecodingKey, ConfigError> {
    let bytes = spec.key.as_bytes();
    let pem = spec.key.trim_start().starts_with("-----BEGIN");
    let bad = |e| ConfigError::BadPem(role, spec.alg, e);
    match spec.alg.family() {
        AlgorithmFamily::Hmac if pem => Err(ConfigError::PemAsSecret(role)),
        AlgorithmFamily::Hmac if bytes.is_empty() => Err(ConfigError::EmptySecret(role)),
        AlgorithmFamily::Hmac => {
            DecodingKey::from_secret(bytes).map_err(|_| ConfigError::EmptySecret(role))
        }
        AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(bytes).map_err(bad),
        AlgorithmFamily::Ec => DecodingKey::from_ec_pem(bytes).map_err(bad),
        AlgorithmFamily::Ed => DecodingKey::from_ed_pem(bytes).map_err(bad),
    }
}
