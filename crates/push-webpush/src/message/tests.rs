//! RFC 8291 Appendix A, byte for byte, and the limits.

use super::*;

// RFC 8291, Appendix A (its values are the facts this test checks against).
const PLAINTEXT: &[u8] = b"When I grow up, I want to be a watermelon";
const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
const AS_PUBLIC: &str =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
const UA_PUBLIC: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
const BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

fn b64(text: &str) -> Vec<u8> {
    decode_key("test vector", text).unwrap()
}

fn receiver() -> Receiver {
    Receiver::new(&b64(UA_PRIVATE), b64(AUTH).try_into().unwrap()).unwrap()
}

#[test]
fn the_rfc_8291_example_is_reproduced_byte_for_byte() {
    let recipient = Recipient::from_base64url(UA_PUBLIC, AUTH).unwrap();
    assert_eq!(
        receiver().recipient(),
        &recipient,
        "ua_public is ua_private's key"
    );
    let sender = SecretKey::from_slice(&b64(AS_PRIVATE)).unwrap();
    assert_eq!(
        public_bytes(&sender.public_key()).as_slice(),
        b64(AS_PUBLIC)
    );
    let salt: [u8; 16] = b64(SALT).try_into().unwrap();
    let body = encrypt_with(&recipient, &sender, &salt, PLAINTEXT, &Encoding::default()).unwrap();
    assert_eq!(URL_SAFE_NO_PAD.encode(&body), BODY);
}

#[test]
fn the_rfc_8291_example_decrypts() {
    assert_eq!(receiver().decrypt(&b64(BODY)).unwrap(), PLAINTEXT);
}

#[test]
fn a_fresh_message_round_trips_with_padding() {
    let receiver = Receiver::generate().unwrap();
    let encoding = Encoding::default().with_padding(100);
    let body = encrypt(receiver.recipient(), b"hello", &encoding).unwrap();
    assert_eq!(body.len(), OVERHEAD + 5 + 100);
    assert_eq!(receiver.decrypt(&body).unwrap(), b"hello");
    // A fresh key and salt each time: the same message never encrypts the same way twice.
    let again = encrypt(receiver.recipient(), b"hello", &encoding).unwrap();
    assert_ne!(body[..HEADER_LEN], again[..HEADER_LEN]);
    assert!(Receiver::generate().unwrap().decrypt(&body).is_err());
}

#[test]
fn the_body_limit_is_checked_before_encrypting() {
    let receiver = Receiver::generate().unwrap();
    let encoding = Encoding::default();
    assert_eq!(encoding.max_plaintext(), 4096 - 103);
    let fits = vec![b'x'; encoding.max_plaintext()];
    let body = encrypt(receiver.recipient(), &fits, &encoding).unwrap();
    assert_eq!(body.len(), MAX_BODY);
    assert_eq!(receiver.decrypt(&body).unwrap(), fits);
    let over = vec![b'x'; encoding.max_plaintext() + 1];
    assert!(matches!(
        encrypt(receiver.recipient(), &over, &encoding),
        Err(Error::TooLarge {
            size: 4097,
            limit: 4096
        })
    ));
    let padded = encoding.with_padding(10);
    assert_eq!(padded.max_plaintext(), 4096 - 113);
    assert!(encrypt(receiver.recipient(), &fits, &padded).is_err());
}

#[test]
fn a_record_size_too_small_for_one_record_is_refused() {
    let receiver = Receiver::generate().unwrap();
    let encoding = Encoding::default().with_record_size(18 + 4);
    assert_eq!(encoding.max_plaintext(), 5);
    assert!(encrypt(receiver.recipient(), b"12345", &encoding).is_ok());
    assert!(matches!(
        encrypt(receiver.recipient(), b"123456", &encoding),
        Err(Error::Parameter(_))
    ));
}

#[test]
fn invalid_subscription_keys_are_refused() {
    let auth = b64(AUTH);
    let public = b64(UA_PUBLIC);
    assert!(Recipient::new(&public[..64], &auth).is_err());
    assert!(Recipient::new(&public, &auth[..15]).is_err());
    let mut off_curve = public.clone();
    off_curve[64] ^= 1;
    assert!(Recipient::new(&off_curve, &auth).is_err());
    let mut compressed_tag = public.clone();
    compressed_tag[0] = 2;
    assert!(Recipient::new(&compressed_tag, &auth).is_err());
    assert!(Recipient::from_base64url("not base64!", AUTH).is_err());
    // Padded base64url is accepted too.
    assert!(Recipient::from_base64url(&format!("{UA_PUBLIC}="), &format!("{AUTH}==")).is_ok());
}
