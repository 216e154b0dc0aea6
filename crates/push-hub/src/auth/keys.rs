//! The verification keys of one role, parsed once, and the choice of key for a token.

use core::fmt;

use jsonwebtoken::{AlgorithmFamily, DecodingKey, Validation};
use serde_json::Value;

use super::error::{AuthError, Reason, Role};
use super::es512::{Es512Error, Es512Key};
use super::jws::Header;
use super::{Algorithm, KeySpec, Revision};

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
    BadPem(Role, Algorithm, Box<dyn std::error::Error + Send + Sync>),
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
            Self::BadPem(_, _, e) => Some(&**e),
            _ => None,
        }
    }
}

/// One key, ready to verify.
struct Key {
    alg: Algorithm,
    kid: Option<String>,
    decoding: Decoding,
}

/// What verifies a key's tokens: jsonwebtoken, or for ES512 (which it lacks) `p521`.
enum Decoding {
    Jwt(jsonwebtoken::Algorithm, DecodingKey),
    Es512(Box<Es512Key>),
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
            match check(token, &key.decoding) {
                Ok(claims) => return Ok(claims),
                Err(e) => last = Some(e),
            }
        }
        let (reason, source) = last.expect("at least one key was tried");
        let error = fail(reason);
        Err(match source {
            Some(source) => error.with_source(source),
            None => error,
        })
    }
}

/// The claims of `token` if `decoding` verifies it, else why not (and jsonwebtoken's error).
fn check(
    token: &str,
    decoding: &Decoding,
) -> Result<Value, (Reason, Option<jsonwebtoken::errors::Error>)> {
    let malformed = |what: &'static str| Reason::Malformed(what.into());
    let (alg, key) = match decoding {
        Decoding::Jwt(alg, key) => (*alg, key),
        Decoding::Es512(key) => {
            return super::es512::verify(token, key).map_err(|e| {
                let reason = match e {
                    Es512Error::Signature => Reason::BadSignature,
                    Es512Error::Json => malformed("its claims are not a JSON object"),
                    Es512Error::Base64 => malformed("its claims or signature are not base64url"),
                };
                (reason, None)
            });
        }
    };
    let mut validation = Validation::new(alg);
    // Time, issuer and audience are checked by `claims`, against the hub's clock and
    // with messages of its own.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    match jsonwebtoken::decode::<Value>(token, key, &validation) {
        Ok(data) => Ok(data.claims),
        Err(error) => {
            let reason = match error.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => Reason::BadSignature,
                jsonwebtoken::errors::ErrorKind::Json(_) => {
                    malformed("its claims are not a JSON object")
                }
                jsonwebtoken::errors::ErrorKind::Base64(_)
                | jsonwebtoken::errors::ErrorKind::Utf8(_) => {
                    malformed("its claims or signature are not base64url")
                }
                _ => malformed("it cannot be verified"),
            };
            Err((reason, Some(error)))
        }
    }
}

fn decoding_key(role: Role, spec: &KeySpec) -> Result<Decoding, ConfigError> {
    let bytes = spec.key.as_bytes();
    let pem = spec.key.trim_start().starts_with("-----BEGIN");
    let Some(alg) = spec.alg.jwt() else {
        // ES512: jsonwebtoken has none.
        let key = Es512Key::from_pem(&spec.key)
            .map_err(|e| ConfigError::BadPem(role, spec.alg, Box::new(e)))?;
        return Ok(Decoding::Es512(Box::new(key)));
    };
    let bad = |e| ConfigError::BadPem(role, spec.alg, Box::new(e));
    let key = match spec.alg.family() {
        AlgorithmFamily::Hmac if pem => return Err(ConfigError::PemAsSecret(role)),
        AlgorithmFamily::Hmac if bytes.is_empty() => return Err(ConfigError::EmptySecret(role)),
        AlgorithmFamily::Hmac => {
            DecodingKey::from_secret(bytes).map_err(|_| ConfigError::EmptySecret(role))?
        }
        AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(bytes).map_err(bad)?,
        AlgorithmFamily::Ec => DecodingKey::from_ec_pem(bytes).map_err(bad)?,
        AlgorithmFamily::Ed => DecodingKey::from_ed_pem(bytes).map_err(bad)?,
    };
    Ok(Decoding::Jwt(alg, key))
}
