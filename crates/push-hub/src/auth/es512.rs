//! ES512 (ECDSA on P-521 with SHA-512, RFC 7518 §3.4) verification, which jsonwebtoken lacks:
//! RustCrypto's `p521` checks the signature; the hub reads the claims as for any other
//! algorithm. Verification only: the hub never holds a private key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p521::ecdsa::signature::Verifier as _;
use p521::ecdsa::{Signature, VerifyingKey};
use p521::pkcs8::DecodePublicKey as _;
use serde_json::Value;

/// A P-521 public key, ready to verify.
pub(crate) struct Es512Key(VerifyingKey);

impl Es512Key {
    /// The key of a PEM `PUBLIC KEY` (SPKI) on P-521.
    pub(crate) fn from_pem(pem: &str) -> Result<Self, p521::pkcs8::spki::Error> {
        VerifyingKey::from_public_key_pem(pem.trim()).map(Self)
    }
}

/// Why an ES512 token does not verify.
#[derive(Debug)]
pub(crate) enum Es512Error {
    /// The signature is not `r || s` of 132 bytes, or does not verify.
    Signature,
    /// The payload or signature is not base64url.
    Base64,
    /// The payload is not JSON.
    Json,
}

/// The claims of `token` (a compact JWS whose header the hub has read already), if `key`
/// verifies its signature.
pub(crate) fn verify(token: &str, key: &Es512Key) -> Result<Value, Es512Error> {
    let (signing_input, signature) = token.rsplit_once('.').ok_or(Es512Error::Base64)?;
    let (_, payload) = signing_input.split_once('.').ok_or(Es512Error::Base64)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| Es512Error::Base64)?;
    // JWS's form: r and s, 66 bytes each, not DER (RFC 7518 §3.4).
    let signature = Signature::from_slice(&signature).map_err(|_| Es512Error::Signature)?;
    key.0
        .verify(signing_input.as_bytes(), &signature)
        .map_err(|_| Es512Error::Signature)?;
    let claims = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Es512Error::Base64)?;
    serde_json::from_slice(&claims).map_err(|_| Es512Error::Json)
}
