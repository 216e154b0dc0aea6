//! The specification's published test vectors and the reference libraries' verification cases,
//! plus `v1a` (which no reference library has vectors for) and rotation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};
use push_webhook::{
    PublicKey, Secret, Signer, SigningKey, Trusted, Verifier, VerifyError, WEBHOOK_ID,
    WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, verify,
};

struct Vector {
    secret: &'static str,
    id: &'static str,
    timestamp: u64,
    payload: &'static str,
    signature: &'static str,
}

/// Vector A: the Go, Python, JavaScript, PHP, Ruby, Java and C# libraries' signing test.
const A: Vector = Vector {
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp: 1_614_265_330,
    payload: r#"{"test": 2432232314}"#,
    signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

/// Vector B: the Rust library's signing test.
const B: Vector = Vector {
    secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
    timestamp: 1_649_367_553,
    payload: r#"{"email":"test@example.com","username":"test_user"}"#,
    signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
};

/// Signatures that match nothing, from the reference libraries' tests.
const OTHERS: [&str; 4] = [
    "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=",
    "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ=",
    "v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=",
    "v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=",
];

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn headers(id: &str, timestamp: &str, signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(WEBHOOK_ID, HeaderValue::from_str(id).unwrap());
    h.insert(WEBHOOK_TIMESTAMP, HeaderValue::from_str(timestamp).unwrap());
    h.insert(WEBHOOK_SIGNATURE, HeaderValue::from_str(signature).unwrap());
    h
}

fn secret(v: &Vector) -> Vec<Trusted> {
    vec![Trusted::from(v.secret.parse::<Secret>().unwrap())]
}

#[test]
fn we_sign_the_published_vectors() {
    for v in [A, B] {
        let signer = Signer::new(v.secret.parse::<Secret>().unwrap());
        assert_eq!(
            signer.signature(v.id, v.timestamp, v.payload.as_bytes()),
            v.signature
        );
    }
    // The secret without its prefix signs the same.
    let bare = A.secret.strip_prefix("whsec_").unwrap();
    let signer = Signer::new(bare.parse::<Secret>().unwrap());
    assert_eq!(
        signer.signature(A.id, A.timestamp, A.payload.as_bytes()),
        A.signature
    );
}

#[test]
fn we_verify_the_published_vectors() {
    for v in [A, B] {
        let h = headers(v.id, &v.timestamp.to_string(), v.signature);
        let ok = verify(&h, v.payload.as_bytes(), secret(&v), at(v.timestamp)).unwrap();
        assert_eq!(ok.id, v.id);
        assert_eq!(ok.timestamp, v.timestamp as i64);
    }
}

#[test]
fn a_valid_signature_among_others_verifies_and_others_alone_do_not() {
    let now = at(B.timestamp);
    let mixed = format!(
        "{} {} {} {} {}",
        OTHERS[0], OTHERS[1], B.signature, OTHERS[2], OTHERS[3]
    );
    let h = headers(B.id, &B.timestamp.to_string(), &mixed);
    assert!(verify(&h, B.payload.as_bytes(), secret(&B), now).is_ok());
    let h = headers(B.id, &B.timestamp.to_string(), &OTHERS.join(" "));
    let err = verify(&h, B.payload.as_bytes(), secret(&B), now).unwrap_err();
    assert!(matches!(err, VerifyError::NoMatchingSignature), "{err}");
}

#[test]
fn partial_and_tampered_signatures_fail() {
    let now = at(A.timestamp);
    let ts = A.timestamp.to_string();
    for signature in [
        "v1,",
        "v1,g0hM9SsE",
        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ] {
        let h = headers(A.id, &ts, signature);
        let err = verify(&h, A.payload.as_bytes(), secret(&A), now).unwrap_err();
        assert!(
            matches!(err, VerifyError::NoMatchingSignature),
            "{signature}: {err}"
        );
    }
    // A changed body, id or timestamp.
    let h = headers(A.id, &ts, A.signature);
    assert!(verify(&h, br#"{"test": 2432232315}"#, secret(&A), now).is_err());
    let h = headers("msg_p5jXN8AQM9LWM0D4loKWxJeK", &ts, A.signature);
    assert!(verify(&h, A.payload.as_bytes(), secret(&A), now).is_err());
    let h = headers(A.id, &(A.timestamp + 1).to_string(), A.signature);
    assert!(verify(&h, A.payload.as_bytes(), secret(&A), now).is_err());
    // Another secret.
    let h = headers(A.id, &ts, A.signature);
    assert!(verify(&h, A.payload.as_bytes(), secret(&B), now).is_err());
}

#[test]
fn timestamps_outside_the_tolerance_fail_both_ways() {
    let ts = A.timestamp.to_string();
    let h = headers(A.id, &ts, A.signature);
    let body = A.payload.as_bytes();
    assert!(verify(&h, body, secret(&A), at(A.timestamp + 300)).is_ok());
    assert!(verify(&h, body, secret(&A), at(A.timestamp - 300)).is_ok());
    let old = verify(&h, body, secret(&A), at(A.timestamp + 301)).unwrap_err();
    assert!(matches!(old, VerifyError::TooOld), "{old}");
    let new = verify(&h, body, secret(&A), at(A.timestamp - 301)).unwrap_err();
    assert!(matches!(new, VerifyError::TooNew), "{new}");
    let narrow = Verifier::new(secret(&A)).tolerance(Duration::from_secs(10));
    assert!(narrow.verify(&h, body, at(A.timestamp + 11)).is_err());
    // A timestamp that is no integer names its cause.
    let h = headers(A.id, "1614265330.5", A.signature);
    let err = verify(&h, body, secret(&A), at(A.timestamp)).unwrap_err();
    assert!(matches!(err, VerifyError::InvalidTimestamp(_)));
    assert!(std::error::Error::source(&err).is_some());
    // Extreme values saturate, never panic.
    let h = headers(A.id, &i64::MIN.to_string(), A.signature);
    assert!(matches!(
        verify(&h, body, secret(&A), at(A.timestamp)),
        Err(VerifyError::TooOld)
    ));
    let h = headers(A.id, &i64::MAX.to_string(), A.signature);
    assert!(matches!(
        verify(&h, body, secret(&A), UNIX_EPOCH - Duration::from_secs(10)),
        Err(VerifyError::TooNew)
    ));
}

#[test]
fn each_missing_header_is_named() {
    let full = headers(A.id, &A.timestamp.to_string(), A.signature);
    for name in [WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE] {
        let mut h = full.clone();
        h.remove(&name);
        let err = verify(&h, A.payload.as_bytes(), secret(&A), at(A.timestamp)).unwrap_err();
        match err {
            VerifyError::MissingHeader(missing) => assert_eq!(missing, name),
            other => panic!("{other}"),
        }
    }
    let mut h = full;
    h.insert(
        HeaderName::from_static("webhook-id"),
        HeaderValue::from_bytes(b"msg_\xff").unwrap(),
    );
    assert!(matches!(
        verify(&h, A.payload.as_bytes(), secret(&A), at(A.timestamp)),
        Err(VerifyError::InvalidHeader(_))
    ));
}

#[test]
fn ed25519_signatures_verify_with_the_public_key_only() {
    let key = SigningKey::generate().unwrap();
    let public: PublicKey = key.public_key().to_string().parse().unwrap();
    let signer = Signer::new(key);
    let h = signer.headers("msg_1", 1_700_000_000, b"{}");
    let now = at(1_700_000_000);
    assert!(verify(&h, b"{}", [Trusted::from(public)], now).is_ok());
    assert!(verify(&h, b"{ }", [Trusted::from(public)], now).is_err());
    let stranger = SigningKey::generate().unwrap().public_key();
    assert!(verify(&h, b"{}", [Trusted::from(stranger)], now).is_err());
    // A v1 secret never accepts a v1a entry.
    let secret = Secret::generate().unwrap();
    assert!(verify(&h, b"{}", [Trusted::from(secret)], now).is_err());
}

#[test]
fn during_a_rotation_either_key_verifies() {
    let old = Secret::generate().unwrap();
    let new = Secret::generate().unwrap();
    let ed = SigningKey::generate().unwrap();
    let signer = Signer::new(new.clone())
        .with_key(old.clone())
        .with_key(ed.clone());
    let h = signer.headers("msg_r", 1_700_000_000, b"x");
    let now = at(1_700_000_000);
    for trusted in [
        Trusted::from(old),
        Trusted::from(new),
        Trusted::from(ed.public_key()),
    ] {
        assert!(verify(&h, b"x", [trusted], now).is_ok());
    }
}

#[test]
fn the_number_of_entries_read_is_bounded() {
    let secret = Secret::generate().unwrap();
    let good = Signer::new(secret.clone()).signature("msg_b", 1, b"x");
    let many = format!("{} {good}", vec![OTHERS[0]; 16].join(" "));
    let h = headers("msg_b", "1", &many);
    let trusted = [Trusted::from(secret)];
    assert!(matches!(
        verify(&h, b"x", trusted.clone(), at(1)),
        Err(VerifyError::NoMatchingSignature)
    ));
    let verifier = Verifier::new(trusted).max_signatures(17);
    assert!(verifier.verify(&h, b"x", at(1)).is_ok());
}
