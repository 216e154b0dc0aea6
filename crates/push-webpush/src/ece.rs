//! RFC 8188 `aes128gcm` content coding: records of AES-128-GCM under a key and nonce derived
//! from an input keying material and a salt.
//!
//! ```text
//! header = salt (16) | rs (u32, big-endian) | idlen (1) | keyid (idlen)
//! record = AES-128-GCM(CEK, NONCE ^ SEQ, data | delimiter | 0x00 * padding)
//!          delimiter: 0x01 in every record but the last, 0x02 in the last
//! PRK    = HKDF-Extract(salt, IKM)
//! CEK    = HKDF-Expand(PRK, "Content-Encoding: aes128gcm" || 0x00, 16)
//! NONCE  = HKDF-Expand(PRK, "Content-Encoding: nonce" || 0x00, 12)
//! ```
//!
//! Every record but the last is exactly `rs` bytes once encrypted; the last is at most `rs`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::Error;

/// The salt's length in the header.
pub(crate) const SALT_LEN: usize = 16;
/// The AES-GCM tag's length, added to every record.
pub(crate) const TAG_LEN: usize = 16;
/// The smallest record size RFC 8188 allows: a tag, a delimiter and one byte of data.
pub(crate) const MIN_RECORD_SIZE: u32 = 18;

const CEK_INFO: &[u8] = b"Content-Encoding: aes128gcm\0";
const NONCE_INFO: &[u8] = b"Content-Encoding: nonce\0";

/// The parsed header of an `aes128gcm` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    pub(crate) salt: &'a [u8; SALT_LEN],
    pub(crate) record_size: u32,
    pub(crate) key_id: &'a [u8],
}

impl<'a> Header<'a> {
    /// The header's length in bytes.
    pub(crate) fn len(&self) -> usize {
        SALT_LEN + 4 + 1 + self.key_id.len()
    }

    /// Reads the header at the start of `body`; the records follow at `header.len()`.
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let (salt, rest) = body
            .split_first_chunk::<SALT_LEN>()
            .ok_or(Error::Decrypt("the body is shorter than its header"))?;
        let (rs, rest) = rest
            .split_first_chunk::<4>()
            .ok_or(Error::Decrypt("the body is shorter than its header"))?;
        let (&id_len, rest) = rest
            .split_first()
            .ok_or(Error::Decrypt("the body is shorter than its header"))?;
        let key_id = rest
            .get(..usize::from(id_len))
            .ok_or(Error::Decrypt("the body is shorter than its key id"))?;
        let record_size = u32::from_be_bytes(*rs);
        if record_size < MIN_RECORD_SIZE {
            return Err(Error::Decrypt("the record size is below 18"));
        }
        Ok(Self {
            salt,
            record_size,
            key_id,
        })
    }
}

/// The content-encryption key and base nonce of one body.
struct Keys {
    cipher: Aes128Gcm,
    nonce: [u8; 12],
}

impl Keys {
    fn derive(ikm: &[u8], salt: &[u8; SALT_LEN]) -> Self {
        let prk = Hkdf::<Sha256>::new(Some(salt), ikm);
        let mut cek = [0_u8; 16];
        let mut nonce = [0_u8; 12];
        // Invariant: 16 and 12 bytes are far below HKDF-SHA-256's 255 * 32 output limit.
        prk.expand(CEK_INFO, &mut cek).expect("16 bytes of HKDF");
        prk.expand(NONCE_INFO, &mut nonce)
            .expect("12 bytes of HKDF");
        let cipher = Aes128Gcm::new_from_slice(&cek).expect("a 16-byte AES-128 key");
        Self { cipher, nonce }
    }

    /// The nonce of record `seq`: the base nonce XOR the sequence number (big-endian, 96 bits).
    fn nonce(&self, seq: u64) -> Nonce<aes_gcm::aead::consts::U12> {
        let mut nonce = self.nonce;
        for (byte, seq_byte) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *byte ^= seq_byte;
        }
        nonce.into()
    }
}

/// Encrypts `plaintext` into an `aes128gcm` body: header, then records of `record_size` bytes
/// carrying the plaintext and then `padding` zero bytes (each after its record's delimiter).
///
/// A caller wanting one record (RFC 8291 requires it) chooses `record_size` ≥ plaintext +
/// padding + 17.
pub(crate) fn encrypt(
    ikm: &[u8],
    salt: &[u8; SALT_LEN],
    key_id: &[u8],
    record_size: u32,
    padding: usize,
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let id_len = u8::try_from(key_id.len()).map_err(|_| Error::Parameter("key id over 255"))?;
    if record_size < MIN_RECORD_SIZE {
        return Err(Error::Parameter("record size below 18"));
    }
    let rs = usize::try_from(record_size).map_err(|_| Error::Parameter("record size"))?;
    let per_record = rs - TAG_LEN - 1;
    // The data, then the padding, cut into records of `per_record` bytes: every record but
    // the last is full (`rs` once sealed); a record's share of the padding follows its
    // delimiter.
    let units = plaintext.len().saturating_add(padding);
    let records = units.div_ceil(per_record).max(1);
    let size = (SALT_LEN + 5 + key_id.len())
        .saturating_add(units)
        .saturating_add(records.saturating_mul(TAG_LEN + 1));
    let keys = Keys::derive(ikm, salt);
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(salt);
    body.extend_from_slice(&record_size.to_be_bytes());
    body.push(id_len);
    body.extend_from_slice(key_id);
    let mut record = Vec::with_capacity(rs);
    for seq in 0..records {
        let start = seq * per_record;
        let end = (start + per_record).min(units);
        let data = &plaintext[start.min(plaintext.len())..end.min(plaintext.len())];
        record.clear();
        record.extend_from_slice(data);
        record.push(if seq + 1 == records { 2 } else { 1 });
        record.resize(record.len() + (end - start - data.len()), 0);
        body.extend_from_slice(&seal(&keys, seq as u64, &record)?);
    }
    debug_assert_eq!(body.len(), size);
    Ok(body)
}

fn seal(keys: &Keys, seq: u64, record: &[u8]) -> Result<Vec<u8>, Error> {
    keys.cipher
        .encrypt(&keys.nonce(seq), record)
        .map_err(|_| Error::Parameter("record too long for AES-GCM"))
}

/// Decrypts the records of `body` (whose header is `header`) with `ikm`, checking the
/// delimiters, that padding is zeros, and that the body neither stops before its last record
/// nor continues after it.
pub(crate) fn decrypt(ikm: &[u8], header: &Header<'_>, body: &[u8]) -> Result<Vec<u8>, Error> {
    let keys = Keys::derive(ikm, header.salt);
    let records = &body[header.len()..];
    let rs = usize::try_from(header.record_size).unwrap_or(usize::MAX);
    let mut plaintext = Vec::with_capacity(records.len());
    let mut chunks = records.chunks(rs).enumerate().peekable();
    if chunks.peek().is_none() {
        return Err(Error::Decrypt("no record"));
    }
    while let Some((seq, record)) = chunks.next() {
        if record.len() <= TAG_LEN {
            return Err(Error::Decrypt("a record shorter than its tag"));
        }
        let mut open = keys
            .cipher
            .decrypt(&keys.nonce(seq as u64), record)
            .map_err(|_| Error::Decrypt("a record does not authenticate"))?;
        let end = open
            .iter()
            .rposition(|&b| b != 0)
            .ok_or(Error::Decrypt("a record without a delimiter"))?;
        let last = chunks.peek().is_none();
        match (open[end], last) {
            (2, true) | (1, false) => {}
            (2, false) => return Err(Error::Decrypt("data after the last record")),
            (1, true) => return Err(Error::Decrypt("the body ends before its last record")),
            _ => return Err(Error::Decrypt("a record with an invalid delimiter")),
        }
        open.truncate(end);
        plaintext.extend_from_slice(&open);
    }
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IKM: [u8; 16] = [7; 16];
    const SALT: [u8; 16] = [9; 16];

    fn roundtrip(rs: u32, padding: usize, plaintext: &[u8]) -> Vec<u8> {
        let body = encrypt(&IKM, &SALT, b"id", rs, padding, plaintext).unwrap();
        let header = Header::parse(&body).unwrap();
        assert_eq!(header.record_size, rs);
        assert_eq!(header.key_id, b"id");
        decrypt(&IKM, &header, &body).unwrap()
    }

    #[test]
    fn every_length_and_record_size_round_trips() {
        let data: Vec<u8> = (0..90_u8).collect();
        for rs in [18, 19, 20, 33, 64, 4096] {
            for len in 0..data.len() {
                for padding in [0, 1, 5, 40] {
                    let got = roundtrip(rs, padding, &data[..len]);
                    assert_eq!(got, &data[..len], "rs {rs} len {len} padding {padding}");
                }
            }
        }
    }

    #[test]
    fn records_but_the_last_are_exactly_the_record_size() {
        let body = encrypt(&IKM, &SALT, b"", 18, 0, &[1, 2, 3]).unwrap();
        // One byte of data per record: three records of 18 bytes after a 21-byte header.
        assert_eq!(body.len(), 21 + 3 * 18);
    }

    #[test]
    fn truncation_extension_and_tampering_are_refused() {
        let body = encrypt(&IKM, &SALT, b"", 18, 0, &[1, 2, 3]).unwrap();
        let header = Header::parse(&body).unwrap();
        // Drop the last record: the body now ends on a record with delimiter 1.
        let cut = &body[..body.len() - 18];
        assert!(
            matches!(decrypt(&IKM, &header, cut), Err(Error::Decrypt(m)) if m.contains("ends before"))
        );
        let mut flipped = body.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(decrypt(&IKM, &header, &flipped).is_err());
        assert!(decrypt(&[8; 16], &header, &body).is_err());
        assert!(matches!(
            decrypt(&IKM, &header, &body[..21]),
            Err(Error::Decrypt("no record"))
        ));
    }

    #[test]
    fn a_hostile_header_is_an_error() {
        assert!(Header::parse(&[0; 20]).is_err());
        let mut short_rs = [0_u8; 21];
        short_rs[19] = 17;
        assert!(Header::parse(&short_rs).is_err());
        let mut long_id = [0_u8; 22];
        long_id[19] = 18;
        long_id[20] = 5;
        assert!(Header::parse(&long_id).is_err());
    }

    #[test]
    fn padding_spans_records_after_the_data() {
        // rs 20 carries 3 bytes per record: 2 bytes of data and 7 of padding are 3 records.
        let body = encrypt(&IKM, &SALT, b"", 20, 7, b"ab").unwrap();
        assert_eq!(body.len(), 21 + 3 * 20);
        assert_eq!(
            decrypt(&IKM, &Header::parse(&body).unwrap(), &body).unwrap(),
            b"ab"
        );
        assert_eq!(roundtrip(20, 1, b"abc"), b"abc");
        assert_eq!(roundtrip(20, 0, b""), b"");
    }
}
