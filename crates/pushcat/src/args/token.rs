//! `pushcat token`.

use std::str::FromStr;
use std::time::Duration;

use clap::Args;
use push_hub::auth::Algorithm;

/// `pushcat token --key KEY [--alg ALG] [--kid KID] --publish SEL… --subscribe SEL… [--exp DURATION]`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub(crate) struct TokenArgs {
    /// The signing key: for HS256/384/512 the secret itself; for the public-key algorithms
    /// the path of a PEM private key (or its PEM text). `@FILE` reads the key from FILE.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    pub(crate) key: String,
    /// The algorithm: HS256 (default), HS384, HS512, RS256/384/512, PS256/384/512, ES256,
    /// ES384 or EdDSA.
    #[arg(long, value_name = "ALG", default_value = "HS256", value_parser = parse_alg)]
    pub(crate) alg: Algorithm,
    /// The key id (`kid`) the hub selects its key with.
    #[arg(long, value_name = "KID")]
    pub(crate) kid: Option<String>,
    /// Allow publishing to SEL: a topic, a URI template or `*` (several after one flag, or
    /// the flag repeated).
    #[arg(long = "publish", value_name = "SEL", num_args = 1..)]
    pub(crate) publish: Vec<String>,
    /// Allow receiving private updates on SEL: a topic, a URI template or `*` (several after
    /// one flag, or the flag repeated).
    #[arg(long = "subscribe", value_name = "SEL", num_args = 1..)]
    pub(crate) subscribe: Vec<String>,
    /// Expire the token after DURATION: seconds, or a number with s, m, h or d (`90m`, `7d`).
    /// Default: no expiry (a 1.0 token: one hour).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) exp: Option<Duration>,
    /// The JSON payload subscription events show (`mercure.payload`).
    #[arg(long, value_name = "JSON", value_parser = parse_json)]
    pub(crate) payload: Option<serde_json::Value>,
    /// Mint a 1.0 access token (`at+jwt`) for this issuer (needs --audience).
    #[arg(long, value_name = "ISS", requires = "audience")]
    pub(crate) issuer: Option<String>,
    /// The 1.0 token's audience: the hub URL (needs --issuer).
    #[arg(long, value_name = "AUD", requires = "issuer")]
    pub(crate) audience: Option<String>,
}

/// A JWS algorithm by its name (`HS256`, `ES256`, `EdDSA`, …).
fn parse_alg(text: &str) -> Result<Algorithm, String> {
    if text == "ES512" {
        return Err("the hub verifies ES512 tokens but does not mint them: sign them with                     your issuer's library"
            .to_owned());
    }
    Algorithm::from_str(text).map_err(|_| {
        "expected HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 \
         or EdDSA"
            .to_owned()
    })
}

/// `3600`, `3600s`, `90m`, `12h`, `7d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| "expected a number of seconds, or a number with s, m, h or d".to_owned())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    n.checked_mul(scale)
        .filter(|&secs| secs > 0 && secs <= 100 * 365 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| "expected a duration from 1 second to 100 years".to_owned())
}

fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}
