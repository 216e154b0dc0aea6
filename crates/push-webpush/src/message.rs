//! RFC 8291 message encryption: the application server's side ([`Recipient`], [`encrypt`]) and
//! the user agent's ([`Receiver`], for tests and push-service stand-ins).
//!
//! ```text
//! ecdh_secret = ECDH(as_private, ua_public)            as_*: a fresh key pair per message
//! PRK_key     = HKDF-Extract(auth_secret, ecdh_secret)
//! key_info    = "WebPush: info" || 0x00 || ua_public || as_public
//! IKM         = HKDF-Expand(PRK_key, key_info, 32)
//! body        = aes128gcm(IKM, salt, keyid = as_public, one record)
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToSec1Point as _;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

use crate::Error;
use crate::ece::{self, Header, SALT_LEN, TAG_LEN};

/// The length of an uncompressed P-256 point (`0x04 || x || y`), the form of `p256dh` and of
/// the key id.
pub const PUBLIC_KEY_LEN: usize = 65;
/// The length of a subscription's `auth` secret.
pub const AUTH_LEN: usize = 16;
/// The header of a Web Push body: salt, record size, key id length and the 65-byte key id.
pub const HEADER_LEN: usize = SALT_LEN + 4 + 1 + PUBLIC_KEY_LEN;
/// The bytes encryption adds to a plaintext: the header, the delimiter and the tag (103).
pub const OVERHEAD: usize = HEADER_LEN + 1 + TAG_LEN;
/// RFC 8030 §7.2: a push service must accept at least this many bytes of body, and need not
/// accept more — the default limit of [`Encoding::max_body`].
pub const MAX_BODY: usize = 4096;

/// How a message is encoded: padding, record size and the body limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    padding: usize,
    record_size: u32,
    max_body: usize,
}

impl Default for Encoding {
    /// No padding, a record size of 4096 (as RFC 8291's example) and a 4096-byte body limit
    /// (what every push service accepts).
    fn default() -> Self {
        Self {
            padding: 0,
            record_size: 4096,
            max_body: MAX_BODY,
        }
    }
}

impl Encoding {
    /// Adds `padding` zero bytes after the delimiter, hiding the plaintext's length.
    #[must_use]
    pub fn with_padding(mut self, padding: usize) -> Self {
        self.padding = padding;
        self
    }
    /// The record size written in the header; the one record must fit in it.
    #[must_use]
    pub fn with_record_size(mut self, record_size: u32) -> Self {
        self.record_size = record_size;
        self
    }
    /// The largest body [`encrypt`] produces; a larger one is [`Error::TooLarge`].
    #[must_use]
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }
    /// The padding length.
    pub fn padding(&self) -> usize {
        self.padding
    }
    /// The record size.
    pub fn record_size(&self) -> u32 {
        self.record_size
    }
    /// The body limit.
    pub fn max_body(&self) -> usize {
        self.max_body
    }
    /// The largest plaintext that fits this encoding (0 when none does).
    pub fn max_plaintext(&self) -> usize {
        let by_body = self.max_body.saturating_sub(OVERHEAD + self.padding);
        let by_record = usize::try_from(self.record_size)
            .unwrap_or(usize::MAX)
            .saturating_sub(1 + TAG_LEN + self.padding);
        by_body.min(by_record)
    }
}

/// A subscription's keys (`p256dh`, `auth`), validated: the user agent a message is encrypted
/// for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    public: PublicKey,
    public_bytes: [u8; PUBLIC_KEY_LEN],
    auth: [u8; AUTH_LEN],
}

impl Recipient {
    /// From the raw keys: `p256dh` an uncompressed point on P-256, `auth` 16 bytes.
    pub fn new(p256dh: &[u8], auth: &[u8]) -> Result<Self, Error> {
        let public_bytes: [u8; PUBLIC_KEY_LEN] =
            p256dh.try_into().map_err(|_| Error::InvalidKey {
                what: "p256dh",
                reason: "not 65 bytes",
            })?;
        if public_bytes[0] != 4 {
            return Err(Error::InvalidKey {
                what: "p256dh",
                reason: "not an uncompressed point",
            });
        }
        let public = PublicKey::from_sec1_bytes(&public_bytes).map_err(|_| Error::InvalidKey {
            what: "p256dh",
            reason: "not a point on P-256",
        })?;
        let auth = auth.try_into().map_err(|_| Error::InvalidKey {
            what: "auth",
            reason: "not 16 bytes",
        })?;
        Ok(Self {
            public,
            public_bytes,
            auth,
        })
    }

    /// From the base64url text of `PushSubscription.toJSON()` (padding optional).
    pub fn from_base64url(p256dh: &str, auth: &str) -> Result<Self, Error> {
        Self::new(&decode_key("p256dh", p256dh)?, &decode_key("auth", auth)?)
    }

    /// The `p256dh` key (an uncompressed point).
    pub fn p256dh(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.public_bytes
    }

    /// The `auth` secret.
    pub fn auth(&self) -> &[u8; AUTH_LEN] {
        &self.auth
    }
}

/// Decodes base64url with or without padding (browsers write none; some servers add it).
pub(crate) fn decode_key(what: &'static str, text: &str) -> Result<Vec<u8>, Error> {
    let engine = if text.ends_with('=') {
        &URL_SAFE
    } else {
        &URL_SAFE_NO_PAD
    };
    engine.decode(text).map_err(|_| Error::InvalidKey {
        what,
        reason: "not base64url",
    })
}

/// Encrypts `plaintext` for `recipient` as one `aes128gcm` record under a fresh key pair and
/// salt (RFC 8291 §3–4); the body is at most `encoding.max_body()` bytes or
/// [`Error::TooLarge`].
pub fn encrypt(
    recipient: &Recipient,
    plaintext: &[u8],
    encoding: &Encoding,
) -> Result<Vec<u8>, Error> {
    let mut salt = [0_u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(Error::Random)?;
    encrypt_with(recipient, &random_secret()?, &salt, plaintext, encoding)
}

/// [`encrypt`] with a given sender key and salt: RFC 8291's worked example, and nothing else,
/// needs them fixed.
pub(crate) fn encrypt_with(
    recipient: &Recipient,
    sender: &SecretKey,
    salt: &[u8; SALT_LEN],
    plaintext: &[u8],
    encoding: &Encoding,
) -> Result<Vec<u8>, Error> {
    let size = plaintext
        .len()
        .saturating_add(OVERHEAD)
        .saturating_add(encoding.padding);
    if size > encoding.max_body {
        return Err(Error::TooLarge {
            size,
            limit: encoding.max_body,
        });
    }
    let record = size - HEADER_LEN;
    if usize::try_from(encoding.record_size).unwrap_or(usize::MAX) < record {
        return Err(Error::Parameter(
            "the record size is smaller than the one record",
        ));
    }
    let sender_public = public_bytes(&sender.public_key());
    let shared = sender.diffie_hellman(&recipient.public);
    let ikm = ikm(
        shared.raw_secret_bytes(),
        &recipient.auth,
        &recipient.public_bytes,
        &sender_public,
    );
    ece::encrypt(
        &ikm,
        salt,
        &sender_public,
        encoding.record_size,
        encoding.padding,
        plaintext,
    )
}

fn ikm(
    ecdh_secret: &[u8],
    auth: &[u8; AUTH_LEN],
    ua_public: &[u8; PUBLIC_KEY_LEN],
    as_public: &[u8; PUBLIC_KEY_LEN],
) -> [u8; 32] {
    let mut info = [0_u8; 14 + 2 * PUBLIC_KEY_LEN];
    info[..14].copy_from_slice(b"WebPush: info\0");
    info[14..14 + PUBLIC_KEY_LEN].copy_from_slice(ua_public);
    info[14 + PUBLIC_KEY_LEN..].copy_from_slice(as_public);
    let mut ikm = [0_u8; 32];
    // Invariant: 32 bytes are far below HKDF-SHA-256's output limit.
    Hkdf::<Sha256>::new(Some(auth), ecdh_secret)
        .expand(&info, &mut ikm)
        .expect("32 bytes of HKDF");
    ikm
}

pub(crate) fn public_bytes(key: &PublicKey) -> [u8; PUBLIC_KEY_LEN] {
    let point = key.to_sec1_point(false);
    // Invariant: an uncompressed P-256 point is 65 bytes.
    point
        .as_bytes()
        .try_into()
        .expect("65-byte uncompressed point")
}

/// A fresh P-256 secret key from the operating system's random source.
pub(crate) fn random_secret() -> Result<SecretKey, Error> {
    // A random 32-byte string is a valid scalar except with probability ~2^-32; a handful of
    // draws never all fail unless the random source is broken.
    for _ in 0..8 {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes).map_err(Error::Random)?;
        if let Ok(key) = SecretKey::from_slice(&bytes) {
            return Ok(key);
        }
    }
    Err(Error::Parameter(
        "the random source gives no valid P-256 scalar",
    ))
}

/// A user agent's side of RFC 8291: its key pair and `auth` secret, and decryption. For tests,
/// push-service stand-ins and tools; a server only ever needs [`Recipient`].
#[derive(Clone)]
pub struct Receiver {
    secret: SecretKey,
    recipient: Recipient,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A fresh key pair and `auth` secret, as a browser makes for a subscription.
    pub fn generate() -> Result<Self, Error> {
        let mut auth = [0_u8; AUTH_LEN];
        getrandom::fill(&mut auth).map_err(Error::Random)?;
        Ok(Self::from_secret(random_secret()?, auth))
    }

    /// From a raw 32-byte private key and the `auth` secret.
    pub fn new(private_key: &[u8], auth: [u8; AUTH_LEN]) -> Result<Self, Error> {
        let secret = SecretKey::from_slice(private_key).map_err(|_| Error::InvalidKey {
            what: "user agent private key",
            reason: "not a P-256 scalar",
        })?;
        Ok(Self::from_secret(secret, auth))
    }

    fn from_secret(secret: SecretKey, auth: [u8; AUTH_LEN]) -> Self {
        let public = secret.public_key();
        let recipient = Recipient {
            public_bytes: public_bytes(&public),
            public,
            auth,
        };
        Self { secret, recipient }
    }

    /// The keys a subscription hands to the server.
    pub fn recipient(&self) -> &Recipient {
        &self.recipient
    }

    /// The subscription a browser with these keys would hand over for `endpoint`.
    pub fn subscription(&self, endpoint: &str) -> crate::PushSubscription {
        crate::PushSubscription {
            endpoint: endpoint.to_owned(),
            expiration_time: None,
            keys: crate::SubscriptionKeys {
                p256dh: URL_SAFE_NO_PAD.encode(self.recipient.public_bytes),
                auth: URL_SAFE_NO_PAD.encode(self.recipient.auth),
            },
        }
    }

    /// The raw private key (32 bytes).
    pub fn private_key(&self) -> [u8; 32] {
        self.secret.to_bytes().into()
    }

    /// Decrypts a Web Push body: its key id must be the sender's public key (65 bytes).
    pub fn decrypt(&self, body: &[u8]) -> Result<Vec<u8>, Error> {
        let header = Header::parse(body)?;
        let sender = PublicKey::from_sec1_bytes(header.key_id)
            .map_err(|_| Error::Decrypt("the key id is not a P-256 public key"))?;
        let as_public: &[u8; PUBLIC_KEY_LEN] = header
            .key_id
            .try_into()
            .map_err(|_| Error::Decrypt("the key id is not an uncompressed point"))?;
        let shared = self.secret.diffie_hellman(&sender);
        let ikm = ikm(
            shared.raw_secret_bytes(),
            &self.recipient.auth,
            &self.recipient.public_bytes,
            as_public,
        );
        ece::decrypt(&ikm, &header, body)
    }
}

#[cfg(test)]
mod tests;
