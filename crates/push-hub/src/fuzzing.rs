//! The fuzz target `mercure_token` and its stable seed-replay test; compiled only with the
//! private feature `__fuzz`, not part of the API.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use jsonwebtoken::EncodingKey;
use push_core::Topic;

use crate::auth::{Algorithm, AuthConfig, Authorizer, KeySpec, Revision};

/// The HMAC secret the target signs its tokens with.
const SECRET: &str = "fuzzing secret, thirty-two bytes!";

fn authorizer() -> &'static Authorizer {
    static AUTHORIZER: OnceLock<Authorizer> = OnceLock::new();
    AUTHORIZER.get_or_init(|| {
        let config = AuthConfig {
            anonymous: true,
            publish_origins: vec!["https://app.example".into()],
            max_token_len: 4096,
            ..AuthConfig::with_key(KeySpec::new(SECRET, Algorithm::HS256))
        };
        Authorizer::new(config).expect("the fuzzing key is valid")
    })
}

/// Presents a token built from `data` to the authorizer, both as a subscriber and as a
/// publisher, and checks what the module promises: no panic; a refusal is 400, 401 or 403
/// and never echoes the token; an accepted subscriber's private grant fits push-core's
/// selector bounds.
///
/// `data`: one mode byte, then UTF-8 (lossily read). Mode bit 0 chooses whether the rest is
/// the token as sent, or `HEADER\nCLAIMS` that the target encodes and signs with its key (so
/// the claims readers are reached past the signature check); bits 1–2 where the token goes
/// (header, query, 0.x cookie, 1.0 cookie); bit 3 makes the request 1.0-shaped (`match=`).
pub fn mercure_token(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let token = if mode & 1 == 0 {
        text.into_owned()
    } else {
        let (header, claims) = text
            .split_once('\n')
            .unwrap_or((r#"{"alg":"HS256"}"#, &text));
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("an HMAC key");
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
                .expect("HMAC signs anything");
        format!("{message}.{signature}")
    };
    let query = if mode & 8 == 0 { "topic=a" } else { "match=a" };
    // Only characters a header value and a query can carry; anything else is the request
    // parser's business, not the authorizer's.
    let safe: String = token
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '&' | '#' | ';' | '%' | '"'))
        .collect();
    let mut request = http::Request::post(match mode >> 1 & 3 {
        1 => format!("/.well-known/mercure?{query}&authorization={safe}"),
        _ => format!("/.well-known/mercure?{query}"),
    });
    request = match mode >> 1 & 3 {
        0 => request.header("authorization", format!("Bearer {safe}")),
        2 => request.header("cookie", format!("mercureAuthorization={safe}")),
        3 => request
            .header("cookie", format!("__Secure-mercure_access_token={safe}"))
            .header("origin", "https://app.example"),
        _ => request,
    };
    let Ok(request) = request.header("host", "hub.example").body(()) else {
        return;
    };
    let (parts, ()) = request.into_parts();
    let revision = Revision::of(&parts);
    let auth = authorizer();

    let check_refusal = |error: crate::auth::AuthError| {
        assert_eq!(error.revision(), revision);
        let message = error.to_string();
        if safe.len() >= 24 {
            assert!(!message.contains(&safe), "the token is echoed: {message}");
        }
        let refusal = error.into_refusal();
        assert!(
            [
                StatusCode::BAD_REQUEST,
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN
            ]
            .contains(&refusal.status()),
            "{refusal}"
        );
    };
    match auth.subscriber(&parts) {
        Ok(subscriber) => {
            assert_eq!(subscriber.revision(), revision);
            if let Some(private) = subscriber.access().private() {
                assert!(private.patterns().len() <= push_core::MAX_SELECTOR_TOPICS);
            }
        }
        Err(error) => check_refusal(error),
    }
    match auth.publisher(&parts) {
        Ok(publisher) => {
            let topics = [
                Topic::new("a").expect("a topic"),
                Topic::new("b").expect("a topic"),
            ];
            if let Err(error) = publisher.check(&topics) {
                check_refusal(error);
            }
        }
        Err(error) => check_refusal(error),
    }
}
