//! `pushcat token --key KEY [--alg ALG] [--kid KID] --publish SEL… --subscribe SEL…
//! [--exp DURATION]`: mints a Mercure token with push-hub's own minting (so what it prints is
//! exactly what the hub verifies) and prints it alone on a line.

use std::process::ExitCode;

use jsonwebtoken::AlgorithmFamily;
use push_hub::auth::KeySpec;
use push_hub::token::{Claims, mint};

use crate::args::{TokenArgs, usage_error};

pub(crate) fn run(args: &TokenArgs) -> ExitCode {
    let key = match read_key(&args.key, args.alg.family()) {
        Ok(key) => key,
        Err(e) => return usage_error(&["token"], e),
    };
    let mut spec = KeySpec::new(key, args.alg);
    spec.kid.clone_from(&args.kid);
    let mut claims = Claims::new();
    for selector in &args.publish {
        claims = claims.publish(selector);
    }
    for selector in &args.subscribe {
        claims = claims.subscribe(selector);
    }
    if let Some(payload) = &args.payload {
        claims = claims.payload(payload.clone());
    }
    if let Some(exp) = args.exp {
        claims = claims.expires_in(exp);
    }
    if let (Some(iss), Some(aud)) = (&args.issuer, &args.audience) {
        claims = claims.access_token(iss, aud);
    }
    match mint(&spec, &claims) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(
            &["token"],
            format!(
                "--key: {e} ({:?} needs {})",
                args.alg,
                key_kind(args.alg.family())
            ),
        ),
    }
}

/// The key text of `--key`: `@FILE` is FILE's contents; for a public-key algorithm a value that
/// is not PEM text is a file path.
fn read_key(value: &str, family: AlgorithmFamily) -> Result<String, String> {
    let path = match value.strip_prefix('@') {
        Some(path) => path,
        None if family == AlgorithmFamily::Hmac || value.starts_with("-----BEGIN") => {
            return Ok(value.to_owned());
        }
        None => value,
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("--key {path}: {e}"))?;
    Ok(match family {
        // A secret read from a file: its final newline is the editor's, not the secret's.
        AlgorithmFamily::Hmac => text.trim_end_matches(['\r', '\n']).to_owned(),
        _ => text,
    })
}

fn key_kind(family: AlgorithmFamily) -> &'static str {
    match family {
        AlgorithmFamily::Hmac => "a non-empty secret",
        AlgorithmFamily::Rsa => "an RSA private key in PEM",
        AlgorithmFamily::Ec => "an EC private key in PEM (PKCS#8)",
        AlgorithmFamily::Ed => "an Ed25519 private key in PEM (PKCS#8)",
    }
}
