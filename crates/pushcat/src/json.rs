//! The JSON lines pushcat prints.

use std::io::{self, Write};

/// One output line.
pub(crate) enum Line {
    /// `{"event": TYPE, "data": DATA, "id": LAST_EVENT_ID}`
    Event {
        event: String,
        data: String,
        id: String,
    },
    /// `{"retry": MS}`
    Retry(u64),
}

/// Writes `line` as one JSON object and a newline, flushing so pipes see it at once.
pub(crate) fn print_line(out: &mut impl Write, line: &Line) -> io::Result<()> {
    let text = match line {
        Line::Event { event, data, id } => format!(
            "{{\"event\":{},\"data\":{},\"id\":{}}}\n",
            quote(event),
            quote(data),
            quote(id)
        ),
        Line::Retry(ms) => format!("{{\"retry\":{ms}}}\n"),
    };
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// A JSON string literal for `s` (serde_json's escaping).
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_character_that_json_requires() {
        assert_eq!(quote("a\"b\\c\nd\u{1}é"), r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn prints_one_object_per_line() {
        let mut out = Vec::new();
        print_line(
            &mut out,
            &Line::Event {
                event: "message".into(),
                data: "x".into(),
                id: "".into(),
            },
        )
        .unwrap();
        print_line(&mut out, &Line::Retry(5)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"event\":\"message\",\"data\":\"x\",\"id\":\"\"}\n{\"retry\":5}\n"
        );
    }
}
