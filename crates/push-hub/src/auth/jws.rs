//! The JWS header, read by the hub itself before any key is touched: so that each way a token
//! can be hostile (`alg: none`, a key or key URL carried in the header, an unknown critical
//! extension, an encrypted token) is refused with a message that names it.

use std::borrow::Cow;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::{Algorithm, Reason};

/// The longest `kid` read (a key id is a short name).
const MAX_KID_LEN: usize = 256;

/// The longest header decoded when only its `typ` is peeked at ([`is_access_token`]).
const MAX_PEEK_LEN: usize = 4096;

/// What the hub reads of a token's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    /// `typ: at+jwt` (RFC 9068): a 1.0 access token.
    pub(crate) access_token: bool,
}

/// Reads and checks the header of the compact JWS `token`.
///
/// # Errors
/// [`Reason::Malformed`] for a token that is not three base64url segments with a JSON object
/// header; [`Reason::Unsupported`] for `alg: none` or an unknown algorithm, a `jku`, `jwk`,
/// `x5u` or `x5c` header parameter, or a `crit` one.
pub(crate) fn read_header(token: &str) -> Result<Header, Reason> {
    let mut segments = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        let count = token.split('.').count();
        return Err(if count == 5 {
            unsupported("it is an encrypted token (JWE); the hub reads signed tokens (JWS)")
        } else {
            malformed("a token is three base64url segments separated by dots")
        });
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| malformed("its header is not base64url"))?;
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(malformed("its header is not a JSON object"));
    };
    for (name, why) in [
        (
            "jku",
            "its header names a key URL (jku); keys are never fetched from a token",
        ),
        (
            "x5u",
            "its header names a certificate URL (x5u); keys are never fetched from a token",
        ),
        (
            "jwk",
            "its header carries its own key (jwk); only the hub's keys verify tokens",
        ),
        (
            "x5c",
            "its header carries its own certificate (x5c); only the hub's keys verify tokens",
        ),
        (
            "crit",
            "its header names critical extensions (crit) the hub does not implement",
        ),
    ] {
        if fields.contains_key(name) {
            return Err(unsupported(why));
        }
    }
    let Some(Value::String(alg)) = fields.get("alg") else {
        return Err(malformed("its header names no algorithm (alg)"));
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(unsupported("alg none: unsigned tokens are never accepted"));
    }
    let alg = Algorithm::from_str(alg).map_err(|_| {
        let shown: String = alg.chars().take(20).collect();
        Reason::Unsupported(Cow::Owned(format!(
            "its algorithm {shown:?} is not one the hub knows"
        )))
    })?;
    let kid = match fields.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(kid)) if kid.len() <= MAX_KID_LEN => Some(kid.clone()),
        Some(Value::String(_)) => return Err(malformed("its key id (kid) is too long")),
        Some(_) => return Err(malformed("its key id (kid) is not a string")),
    };
    let access_token = fields
        .get("typ")
        .and_then(Value::as_str)
        .is_some_and(is_at_jwt);
    Ok(Header {
        alg,
        kid,
        access_token,
    })
}

/// `at+jwt` or `application/at+jwt`, any case (RFC 9068 §2.1, RFC 7515 §4.1.9).
fn is_at_jwt(typ: &str) -> bool {
    let typ = typ.strip_prefix("application/").unwrap_or(typ);
    typ.eq_ignore_ascii_case("at+jwt")
}

/// Whether `token`'s header says `typ: at+jwt`; false for anything unreadable (the full
/// check comes later, this only picks the revision).
pub(crate) fn is_access_token(token: &str) -> bool {
    let header = token.split('.').next().unwrap_or("");
    if header.len() > MAX_PEEK_LEN {
        return false;
    }
    URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|v| v.get("typ").and_then(Value::as_str).map(is_at_jwt))
        .unwrap_or(false)
}

fn malformed(what: &'static str) -> Reason {
    Reason::Malformed(Cow::Borrowed(what))
}

fn unsupported(what: &'static str) -> Reason {
    Reason::Unsupported(Cow::Borrowed(what))
}
