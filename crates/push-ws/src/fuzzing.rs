//! Entry points for the fuzz targets and the seed-replay test (private feature `__fuzz`); not
//! part of the API.

use http::{HeaderValue, Method, Request, Version};

use crate::server::{Config, OriginPolicy};
use crate::{Command, encode_error};

/// Feeds arbitrary bytes to the client-to-server surface: the first byte chooses between a push
/// protocol message (0 or 2 modulo 4), an upgrade request for the handshake policy (1) and raw
/// bytes as a plain-stream request head (3).
///
/// For handshakes the rest is split on `\n` into: Origin, Host, Sec-WebSocket-Protocol,
/// Sec-WebSocket-Version, Sec-WebSocket-Key, and a flags field (`2`: HTTP/2 extended CONNECT).
pub fn ws_client_message(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 | 2 => client_message(rest),
        1 => handshake(rest),
        _ => request_head(rest),
    }
}

/// Raw bytes as the request head of a plain-stream upgrade: parsed or refused (400 / 431),
/// never a panic; a parsed head goes through the policy.
fn request_head(data: &[u8]) {
    match crate::server::parse_head(data) {
        Ok(Some((request, len))) => {
            assert!(len <= data.len());
            if let Err(refusal) = Config::default().check(&request) {
                assert!(matches!(refusal.status().as_u16(), 400 | 403));
            }
        }
        Ok(None) => {}
        Err(refusal) => assert!(matches!(refusal.status().as_u16(), 400 | 431)),
    }
}

fn client_message(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    match Command::parse(text) {
        Ok(Command::Subscribe { topics, .. } | Command::Unsubscribe { topics }) => {
            assert!(!topics.is_empty() && topics.len() <= push_core::MAX_SELECTOR_TOPICS);
        }
        Err(e) => {
            assert!(e.message().len() < 1024, "error messages stay short");
            let reply: serde_json::Value =
                serde_json::from_str(&encode_error(e.message())).expect("error replies are JSON");
            assert_eq!(reply["type"], "error");
        }
    }
}

fn handshake(data: &[u8]) {
    let mut fields = data.split(|&b| b == b'\n');
    let mut next = || fields.next().and_then(|f| HeaderValue::from_bytes(f).ok());
    let (origin, host, protocols, version, key) = (next(), next(), next(), next(), next());
    let h2 = next().is_some_and(|f| f.as_bytes().contains(&b'2'));
    let mut builder = if h2 {
        Request::builder()
            .method(Method::CONNECT)
            .version(Version::HTTP_2)
    } else {
        Request::builder()
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
    };
    for (name, value) in [
        ("origin", origin),
        ("host", host),
        ("sec-websocket-protocol", protocols),
        ("sec-websocket-version", version),
        ("sec-websocket-key", key),
    ] {
        if let Some(v) = value {
            builder = builder.header(name, v);
        }
    }
    let Ok(request) = builder.uri("/").body(()) else {
        return;
    };
    let ours = ["push.v1", "chat"];
    let strict = Config::default()
        .with_allowed_origin("https://app.example")
        .with_protocols(ours);
    let any = Config::default()
        .with_origin_policy(OriginPolicy::Any)
        .with_protocols(ours);
    let (strict, any) = (strict.check(&request), any.check(&request));
    match &any {
        Ok(accepted) => {
            assert!(accepted.protocol().is_none_or(|p| ours.contains(&p)));
            let response = accepted.response();
            assert!(response.status() == 101 || response.status() == 200);
        }
        Err(refusal) => assert_ne!(refusal.status(), 403, "Any never refuses an origin"),
    }
    match (&strict, &any) {
        (Ok(s), Ok(a)) => assert_eq!(s, a),
        (Ok(_), Err(_)) => panic!("the strict policy accepted what Any refused"),
        (Err(r), Ok(_)) => assert_eq!(r.status(), 403),
        (Err(r), Err(a)) => assert_eq!(r, a),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepts_arbitrary_input() {
        for data in [
            &b""[..],
            b"\x00{\"type\":\"subscribe\",\"topics\":[\"a\"]}",
            b"\x00\xff",
            b"\x01https://evil\nhost\npush.v1\n13\ndGhlIHNhbXBsZSBub25jZQ==",
            b"\x01\n\n\n13\n\n2",
        ] {
            super::ws_client_message(data);
        }
    }
}
