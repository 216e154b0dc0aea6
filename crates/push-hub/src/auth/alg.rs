//! `Algorithm`: the JWS algorithms the hub verifies — jsonwebtoken's, and ES512, which
//! jsonwebtoken lacks and RustCrypto's `p521` verifies (`es512`).

use core::fmt;
use core::str::FromStr;

use jsonwebtoken::AlgorithmFamily;

/// A JWS algorithm (RFC 7518 names). A key verifies exactly one: a token whose header names
/// another is refused before any signature check.
///
/// ```
/// use push_hub::auth::Algorithm;
///
/// let alg: Algorithm = "ES512".parse().unwrap();
/// assert_eq!(alg, Algorithm::ES512);
/// assert_eq!(alg.to_string(), "ES512");
/// assert!("none".parse::<Algorithm>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// ECDSA on P-521 with SHA-512 (verified with RustCrypto's `p521`; the hub does not mint
    /// these).
    ES512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// Ed25519.
    EdDSA,
}

/// Every algorithm, by its name.
const NAMES: [(Algorithm, &str); 13] = [
    (Algorithm::HS256, "HS256"),
    (Algorithm::HS384, "HS384"),
    (Algorithm::HS512, "HS512"),
    (Algorithm::ES256, "ES256"),
    (Algorithm::ES384, "ES384"),
    (Algorithm::ES512, "ES512"),
    (Algorithm::RS256, "RS256"),
    (Algorithm::RS384, "RS384"),
    (Algorithm::RS512, "RS512"),
    (Algorithm::PS256, "PS256"),
    (Algorithm::PS384, "PS384"),
    (Algorithm::PS512, "PS512"),
    (Algorithm::EdDSA, "EdDSA"),
];

impl Algorithm {
    /// The RFC 7518 name.
    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(alg, _)| *alg == self)
            .map_or("", |(_, name)| name)
    }

    /// The family of keys it takes (an HMAC secret, an RSA, EC or Ed25519 key).
    pub fn family(self) -> AlgorithmFamily {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => AlgorithmFamily::Hmac,
            Self::ES256 | Self::ES384 | Self::ES512 => AlgorithmFamily::Ec,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => {
                AlgorithmFamily::Rsa
            }
            Self::EdDSA => AlgorithmFamily::Ed,
        }
    }

    /// jsonwebtoken's algorithm, for all but ES512.
    pub(crate) fn jwt(self) -> Option<jsonwebtoken::Algorithm> {
        use jsonwebtoken::Algorithm as Jwt;
        Some(match self {
            Self::HS256 => Jwt::HS256,
            Self::HS384 => Jwt::HS384,
            Self::HS512 => Jwt::HS512,
            Self::ES256 => Jwt::ES256,
            Self::ES384 => Jwt::ES384,
            Self::ES512 => return None,
            Self::RS256 => Jwt::RS256,
            Self::RS384 => Jwt::RS384,
            Self::RS512 => Jwt::RS512,
            Self::PS256 => Jwt::PS256,
            Self::PS384 => Jwt::PS384,
            Self::PS512 => Jwt::PS512,
            Self::EdDSA => Jwt::EdDSA,
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no algorithm the hub knows (`none` included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownAlgorithm;

impl fmt::Display for UnknownAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "not an algorithm the hub knows (HS256/384/512, RS*, PS*, ES256/384/512, EdDSA)",
        )
    }
}

impl std::error::Error for UnknownAlgorithm {}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// The exact RFC 7518 name (case matters, as in a JWS header).
    fn from_str(name: &str) -> Result<Self, UnknownAlgorithm> {
        NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(alg, _)| *alg)
            .ok_or(UnknownAlgorithm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_jsonwebtokens() {
        for (alg, name) in NAMES {
            assert_eq!(name.parse::<Algorithm>(), Ok(alg));
            assert_eq!(alg.to_string(), name);
            assert_eq!(format!("{alg:?}"), name);
            if let Some(jwt) = alg.jwt() {
                assert_eq!(format!("{jwt:?}"), name);
                assert_eq!(jwt.family(), alg.family());
            }
        }
        assert_eq!(Algorithm::ES512.jwt(), None);
        assert_eq!(Algorithm::ES512.family(), AlgorithmFamily::Ec);
        for bad in ["none", "es512", "ES521", ""] {
            assert!(bad.parse::<Algorithm>().is_err(), "{bad}");
        }
    }
}
