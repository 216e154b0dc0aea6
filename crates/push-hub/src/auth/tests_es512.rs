//! ES512 (P-521), which jsonwebtoken lacks: a token signed by Python's `cryptography`
//! (`testdata/es512_token.py`, an implementation nobody here wrote) verifies with the key's
//! PEM; a tampered one does not; the algorithm stays tied to its key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::tests::{authorizer, bearer, reason, request};
use super::*;
use crate::token::{Claims, mint};

const P521_PUB: &str = include_str!("../../testdata/keys/p521.pub");
const P256_PUB: &str = include_str!("../../testdata/keys/p256.pub");
/// Grants publishing and subscribing to `*`, no expiry; signed with `keys/p521.key`.
const PYTHON_TOKEN: &str = include_str!("../../testdata/es512.jwt");

fn with_bearer(token: &str) -> http::request::Parts {
    request(
        "/.well-known/mercure?topic=a",
        &[("authorization", &bearer(token))],
    )
}

fn es512() -> Authorizer {
    authorizer(AuthConfig::with_key(KeySpec::new(
        P521_PUB,
        Algorithm::ES512,
    )))
}

#[test]
fn a_token_python_signed_verifies_with_the_p521_key() {
    let token = PYTHON_TOKEN.trim();
    let auth = es512();
    let subscriber = auth.subscriber(&with_bearer(token)).unwrap();
    assert!(subscriber.access().private().is_some());
    auth.publisher(&with_bearer(token)).unwrap();
}

#[test]
fn a_tampered_es512_token_is_a_bad_signature() {
    let token = PYTHON_TOKEN.trim();
    let (head, signature) = token.rsplit_once('.').unwrap();
    let (header, _) = head.split_once('.').unwrap();
    let auth = es512();
    // Other claims under the same signature.
    let claims = URL_SAFE_NO_PAD.encode(r#"{"mercure":{"subscribe":["*"],"publish":["*"]}}"#);
    let forged = format!("{header}.{claims}.{signature}");
    assert!(matches!(
        reason(auth.subscriber(&with_bearer(&forged))),
        Reason::BadSignature
    ));
    // One bit of the signature flipped; a signature of the wrong length; a DER signature
    // (what ECDSA libraries give, not what JWS carries).
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(bytes.len(), 132);
    bytes[70] ^= 1;
    let flipped = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bytes));
    let short = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bytes[..131]));
    let der = format!(
        "{head}.{}",
        URL_SAFE_NO_PAD.encode([0x30, 0x06, 2, 1, 1, 2, 1, 1])
    );
    for bad in [flipped, short, der] {
        assert!(
            matches!(
                reason(auth.subscriber(&with_bearer(&bad))),
                Reason::BadSignature
            ),
            "{bad}"
        );
    }
    let not_base64 = format!("{head}.***");
    assert!(matches!(
        reason(auth.subscriber(&with_bearer(&not_base64))),
        Reason::Malformed(_)
    ));
}

#[test]
fn es512_is_tied_to_its_key_both_ways() {
    let token = PYTHON_TOKEN.trim();
    // An ES512 token where the key is ES256's: refused before any signature check.
    let es256 = authorizer(AuthConfig::with_key(KeySpec::new(
        P256_PUB,
        Algorithm::ES256,
    )));
    assert!(matches!(
        reason(es256.subscriber(&with_bearer(token))),
        Reason::WrongAlg { .. }
    ));
    // An HMAC token "signed" with the public key's PEM text: the key verifies ES512 only.
    let forged = mint(
        &KeySpec::new(P521_PUB, Algorithm::HS512),
        &Claims::new().subscribe("*"),
    )
    .unwrap();
    assert!(matches!(
        reason(es512().subscriber(&with_bearer(&forged))),
        Reason::WrongAlg { .. }
    ));
}

#[test]
fn an_es512_key_must_be_a_p521_public_key_and_is_not_minted_with() {
    let config = |spec: KeySpec| Authorizer::new(AuthConfig::with_key(spec)).unwrap_err();
    for bad in [P256_PUB, "not a pem", ""] {
        let error = config(KeySpec::new(bad, Algorithm::ES512));
        assert!(
            matches!(error, ConfigError::BadPem(_, Algorithm::ES512, _)),
            "{error:?}"
        );
        assert!(std::error::Error::source(&error).is_some());
    }
    assert!(mint(&KeySpec::new(P521_PUB, Algorithm::ES512), &Claims::new()).is_err());
}
