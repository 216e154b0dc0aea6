//! A compact cache digest of what a client already has, carried in a cookie (as h2o's CASPer).

use http::HeaderMap;
use http::header::HeaderValue;

use crate::Error;
use crate::diary::resource_hash;

/// The longest digest text accepted, in characters.
pub const MAX_DIGEST_LEN: usize = 4096;
/// The most entries a digest holds; inserts beyond it are ignored.
pub const MAX_DIGEST_ENTRIES: usize = 4096;
/// The default size of the hash universe, in bits: with `n` entries a false positive ("the
/// client has it" when it does not) has probability about `n / 2^20`.
pub const DEFAULT_UNIVERSE_BITS: u8 = 20;

/// A Golomb–Rice coded set of (path, ETag) hashes, base64url in a cookie.
///
/// Wire form (before base64url, no padding): one byte `U` (universe bits, 8..=62), one byte `P`
/// (Rice parameter, `P <= U`), two bytes big-endian count, then the sorted distinct hashes
/// (each truncated to its top `U` bits) as Rice-coded deltas: the quotient `delta >> P` in unary
/// (ones, then a zero) and the low `P` bits. Padding bits in the last byte are ones. About
/// `P + 2` bits per entry: 256 resources fit in ~600 bytes of cookie text.
///
/// [`decode`](Self::decode) takes hostile text: it bounds length and count, rejects overflow, out
/// of order or duplicate entries and trailing bytes, and never panics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheDigest {
    universe_bits: u8,
    values: Vec<u64>,
}

impl Default for CacheDigest {
    fn default() -> Self {
        Self::new(DEFAULT_UNIVERSE_BITS)
    }
}

impl CacheDigest {
    /// An empty digest whose hashes keep `universe_bits` bits (clamped to 8..=62).
    pub fn new(universe_bits: u8) -> Self {
        Self {
            universe_bits: universe_bits.clamp(8, 62),
            values: Vec::new(),
        }
    }

    fn key(&self, path: &str, etag: Option<&str>) -> u64 {
        resource_hash(path, etag) >> (64 - u32::from(self.universe_bits))
    }

    /// Adds a resource; false if it was already in (or the digest is full).
    pub fn insert(&mut self, path: &str, etag: Option<&str>) -> bool {
        let key = self.key(path, etag);
        match self.values.binary_search(&key) {
            Ok(_) => false,
            Err(_) if self.values.len() >= MAX_DIGEST_ENTRIES => false,
            Err(at) => {
                self.values.insert(at, key);
                true
            }
        }
    }

    /// Whether the client (probably) has this resource.
    pub fn contains(&self, path: &str, etag: Option<&str>) -> bool {
        self.values.binary_search(&self.key(path, etag)).is_ok()
    }

    /// How many distinct hashes the digest holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The digest as base64url text (no padding).
    pub fn encode(&self) -> String {
        let u = u32::from(self.universe_bits);
        let n = self.values.len().max(1) as u64;
        let p = u.saturating_sub(64 - (n - 1).leading_zeros()).min(u) as u8;
        let mut bits = BitWriter::default();
        bits.bytes.extend_from_slice(&[self.universe_bits, p]);
        bits.bytes
            .extend_from_slice(&(self.values.len() as u16).to_be_bytes());
        let mut prev = 0;
        for &v in &self.values {
            let delta = v - prev;
            prev = v;
            for _ in 0..(delta >> p) {
                bits.push(true);
            }
            bits.push(false);
            for i in (0..p).rev() {
                bits.push((delta >> i) & 1 == 1);
            }
        }
        while bits.used != 0 {
            bits.push(true);
        }
        base64url_encode(&bits.bytes)
    }

    /// Decodes digest text (as [`encode`](Self::encode) writes it).
    pub fn decode(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_DIGEST_LEN {
            return Err(Error::InvalidDigest("too long"));
        }
        let bytes =
            base64url_decode(text.as_bytes()).ok_or(Error::InvalidDigest("not base64url"))?;
        let [u, p, c0, c1, body @ ..] = bytes.as_slice() else {
            return Err(Error::InvalidDigest("truncated header"));
        };
        let (u, p, count) = (*u, *p, usize::from(u16::from_be_bytes([*c0, *c1])));
        if !(8..=62).contains(&u) || p > u {
            return Err(Error::InvalidDigest("bad parameters"));
        }
        if count > MAX_DIGEST_ENTRIES {
            return Err(Error::InvalidDigest("too many entries"));
        }
        let limit = 1u64 << u;
        let mut reader = BitReader {
            bytes: body,
            pos: 0,
        };
        let mut values = Vec::with_capacity(count);
        let mut prev = 0u64;
        for i in 0..count {
            let mut q = 0u64;
            while reader.next().ok_or(Error::InvalidDigest("truncated"))? {
                q += 1;
                if q >= limit {
                    return Err(Error::InvalidDigest("entry out of range"));
                }
            }
            let mut r = 0u64;
            for _ in 0..p {
                r = (r << 1) | u64::from(reader.next().ok_or(Error::InvalidDigest("truncated"))?);
            }
            let delta = q
                .checked_shl(u32::from(p))
                .filter(|d| d >> p == q)
                .map(|d| d | r);
            let value = delta
                .and_then(|d| prev.checked_add(d))
                .filter(|&v| v < limit);
            let value = value.ok_or(Error::InvalidDigest("entry out of range"))?;
            if i > 0 && value == prev {
                return Err(Error::InvalidDigest("duplicate entry"));
            }
            values.push(value);
            prev = value;
        }
        let rest = body.len() * 8 - reader.pos;
        if rest >= 8 || (0..rest).any(|_| reader.next() == Some(false)) {
            return Err(Error::InvalidDigest("trailing data"));
        }
        Ok(Self {
            universe_bits: u,
            values,
        })
    }

    /// The digest in the request's `cookie` headers under `name`, read leniently as RFC 6265
    /// §5.2 says (push-http's cookie grammar): a malformed sibling cookie, even one with bytes
    /// that are not text, never hides it. A cookie that does not decode is ignored (a client
    /// cannot make the server fail by sending one); the first valid one wins.
    pub fn from_cookies(headers: &HeaderMap, name: &str) -> Option<Self> {
        push_http::grammar::cookie_values(headers, name).find_map(|value| Self::decode(value).ok())
    }

    /// A `set-cookie` value carrying this digest under `name` (Path=/, a week, HttpOnly, Lax).
    /// `name` must be a cookie token; an invalid one is reported as a header value error.
    pub fn set_cookie(&self, name: &str) -> Result<HeaderValue, Error> {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        let value = format!(
            "{name}={}; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax",
            self.encode()
        );
        HeaderValue::try_from(value)
            .ok()
            .filter(|_| valid)
            .ok_or(Error::InvalidHeaderValue(http::header::SET_COOKIE))
    }
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    used: u8,
}

impl BitWriter {
    fn push(&mut self, bit: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if bit && let Some(last) = self.bytes.last_mut() {
            *last |= 0x80 >> self.used;
        }
        self.used = (self.used + 1) % 8;
    }
}

struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn next(&mut self) -> Option<bool> {
        let byte = self.bytes.get(self.pos / 8)?;
        let bit = byte & (0x80 >> (self.pos % 8)) != 0;
        self.pos += 1;
        Some(bit)
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

fn base64url_decode(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = ALPHABET.iter().position(|&a| a == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        let len = chunk.len() - 1;
        // Canonical: the unused low bits of the last character must be zero.
        if n & ((1 << (24 - 8 * len)) - 1) != 0 {
            return None;
        }
        out.extend((0..len).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::COOKIE;

    #[test]
    fn round_trip() {
        for n in [0usize, 1, 2, 7, 100, 300] {
            let mut digest = CacheDigest::default();
            for i in 0..n {
                digest.insert(&format!("/r/{i}.js"), Some("\"v\""));
            }
            let text = digest.encode();
            let back = CacheDigest::decode(&text).unwrap();
            assert_eq!(back, digest);
            assert_eq!(back.encode(), text);
            for i in 0..n {
                assert!(back.contains(&format!("/r/{i}.js"), Some("\"v\"")));
            }
            assert!(n == 0 || text.len() < 8 + n * 4, "{n}: {}", text.len());
        }
    }

    #[test]
    fn rejects_hostile_text() {
        for bad in ["", "A", "AAA=", "////", "FAAA", "FAAB", &"A".repeat(5000)] {
            assert!(CacheDigest::decode(bad).is_err(), "{bad}");
        }
        let mut d = CacheDigest::new(8);
        d.insert("/a", None);
        let mut text = d.encode();
        text.push_str("AA");
        assert!(CacheDigest::decode(&text).is_err());
    }

    #[test]
    fn cookies() {
        let mut digest = CacheDigest::default();
        digest.insert("/style.css", Some("\"1\""));
        let set = digest.set_cookie("h2d").unwrap();
        let value = set.to_str().unwrap().split(';').next().unwrap().to_owned();
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "a=b; h2d=!!".parse().unwrap());
        headers.append(COOKIE, format!("x=y; {value}").parse().unwrap());
        let back = CacheDigest::from_cookies(&headers, "h2d").unwrap();
        assert!(back.contains("/style.css", Some("\"1\"")));
        assert!(CacheDigest::from_cookies(&headers, "zz").is_none());
        assert!(digest.set_cookie("bad name").is_err());
    }

    /// RFC 6265 §5.2: one malformed sibling cookie (here bytes that are not text, in the same
    /// header field) never hides the digest.
    #[test]
    fn a_malformed_sibling_cookie_does_not_hide_the_digest() {
        let mut digest = CacheDigest::default();
        digest.insert("/app.js", None);
        let set = digest.set_cookie("h2d").unwrap();
        let pair = set.as_bytes().split(|&b| b == b';').next().unwrap();
        let field = [&b"junk; c=\xff\xfe; "[..], pair, b"; d"].concat();
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_bytes(&field).unwrap());
        let back = CacheDigest::from_cookies(&headers, "h2d").expect("the digest is found");
        assert!(back.contains("/app.js", None));
    }

    #[test]
    fn base64url() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
            assert_eq!(
                base64url_decode(base64url_encode(&bytes).as_bytes()).unwrap(),
                bytes
            );
        }
    }
}
