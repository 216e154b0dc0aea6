//! The payload of a push message that announces an event: its type, cursor and data as JSON,
//! or — when the data would not fit the encrypted body limit, or is not text — its type and
//! cursor only, so the service worker fetches the event by its cursor. Data is never
//! truncated.
//!
//! ```json
//! {"type":"score","cursor":"01d2f3a4-2a","data":"{\"home\":2}"}   whole
//! {"type":"score","cursor":"01d2f3a4-2a"}                         too large: fetch by cursor
//! ```

use serde::Serialize;

use crate::Encoding;

/// What [`event_payload`] put in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fit {
    /// Type, cursor and data.
    Whole,
    /// Type and cursor only: the data is larger than the limit allows, or not UTF-8.
    CursorOnly,
}

#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    cursor: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
}

/// The JSON payload announcing an event of type `kind` at `cursor` with `data`, sized to fit
/// `encoding` once encrypted (`None` when even type and cursor do not fit, which takes a
/// type or cursor of thousands of bytes).
pub fn event_payload(
    kind: Option<&str>,
    cursor: &str,
    data: &[u8],
    encoding: &Encoding,
) -> Option<(Vec<u8>, Fit)> {
    let limit = encoding.max_plaintext();
    // Invariant: strings serialise.
    let json = |data| serde_json::to_vec(&Payload { kind, cursor, data }).expect("JSON of strings");
    if let Ok(text) = std::str::from_utf8(data) {
        let whole = json(Some(text));
        if whole.len() <= limit {
            return Some((whole, Fit::Whole));
        }
    }
    let bare = json(None);
    (bare.len() <= limit).then_some((bare, Fit::CursorOnly))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MAX_BODY, OVERHEAD, Receiver, encrypt};

    fn parse(payload: &[u8]) -> serde_json::Value {
        serde_json::from_slice(payload).unwrap()
    }

    #[test]
    fn a_small_event_goes_whole() {
        let (payload, fit) = event_payload(
            Some("score"),
            "01-2a",
            br#"{"home":2}"#,
            &Encoding::default(),
        )
        .unwrap();
        assert_eq!(fit, Fit::Whole);
        assert_eq!(
            parse(&payload),
            serde_json::json!({"type": "score", "cursor": "01-2a", "data": "{\"home\":2}"})
        );
    }

    #[test]
    fn the_largest_event_that_fits_goes_whole_and_one_byte_more_goes_as_its_cursor() {
        let encoding = Encoding::default();
        // {"cursor":"c","data":"…"} is 24 bytes around the data.
        let fits = "x".repeat(MAX_BODY - OVERHEAD - 24);
        let (payload, fit) = event_payload(None, "c", fits.as_bytes(), &encoding).unwrap();
        assert_eq!(fit, Fit::Whole);
        let receiver = Receiver::generate().unwrap();
        let body = encrypt(receiver.recipient(), &payload, &encoding).unwrap();
        assert_eq!(body.len(), MAX_BODY);
        let over = format!("{fits}x");
        let (payload, fit) = event_payload(None, "c", over.as_bytes(), &encoding).unwrap();
        assert_eq!(fit, Fit::CursorOnly);
        assert_eq!(parse(&payload), serde_json::json!({"cursor": "c"}));
    }

    #[test]
    fn data_that_is_not_text_goes_as_its_cursor_and_escaping_counts() {
        let encoding = Encoding::default();
        let (_, fit) = event_payload(Some("bin"), "c", &[0xff, 0xfe], &encoding).unwrap();
        assert_eq!(fit, Fit::CursorOnly);
        // Quotes double in JSON: 2100 of them are 4200 bytes, over the limit.
        let quotes = "\"".repeat(2100);
        let (_, fit) = event_payload(None, "c", quotes.as_bytes(), &encoding).unwrap();
        assert_eq!(fit, Fit::CursorOnly);
        let huge_type = "t".repeat(5000);
        assert_eq!(event_payload(Some(&huge_type), "c", b"", &encoding), None);
    }
}
