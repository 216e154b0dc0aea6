//! The hook of the `cursor` fuzz target (and of its seed-replay test), compiled only with the
//! private feature `__fuzz`; not part of the API.

use crate::Cursor;

/// Parses arbitrary bytes as a cursor and checks the round trip of the text form; from 16 (24)
/// bytes on, also the round trip of the cursor made of their first two (three) numbers.
pub fn cursor_roundtrip(data: &[u8]) {
    if let Ok(c) = Cursor::parse_bytes(data) {
        let text = c.to_string();
        assert_eq!(text.as_bytes(), data, "text form is not canonical");
        assert_eq!(Cursor::parse(&text), Ok(c));
    }
    let number = |i: usize| {
        let mut n = [0u8; 8];
        n.copy_from_slice(&data[8 * i..8 * (i + 1)]);
        u64::from_le_bytes(n)
    };
    let made = match data.len() {
        24.. => Some(Cursor::with_sequence(number(0), number(1), number(2))),
        16.. => Some(Cursor::new(number(0), number(1))),
        _ => None,
    };
    if let Some(c) = made {
        let text = c.to_string();
        assert!(text.len() <= crate::MAX_CURSOR_LEN);
        assert_eq!(Cursor::parse(&text), Ok(c));
    }
}
