//! Character rules shared by the subscribe query and the publish form: Unicode format
//! characters (category `Cf`), which Mercure 1.0 refuses in matchers and update ids, since they
//! are invisible and make two different strings look the same.

/// Whether `c` is a Unicode format character (general category `Cf`, Unicode 16).
///
/// A fixed table rather than a Unicode-data crate: the category is small and stable, and this is
/// all the hub needs of one.
pub(crate) fn is_format(c: char) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    let c = u32::from(c);
    // Below the first entry (most text) in one comparison.
    c >= 0xAD && RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Whether `s` holds a control character (C0, DEL, C1) or a format character: what Mercure 1.0
/// refuses in a matcher or an update id.
pub(crate) fn has_control_or_format(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || is_format(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_control_characters_are_found() {
        for c in [
            '\u{AD}',
            '\u{200B}',
            '\u{200F}',
            '\u{202E}',
            '\u{FEFF}',
            '\u{E0041}',
        ] {
            assert!(is_format(c), "{c:?}");
            assert!(has_control_or_format(&format!("a{c}b")));
        }
        for c in ['a', 'é', '\u{AC}', '\u{200A}', '\u{2010}', '\u{FFFD}'] {
            assert!(!is_format(c), "{c:?}");
        }
        assert!(has_control_or_format("a\u{7f}"));
        assert!(has_control_or_format("a\u{85}"));
        assert!(has_control_or_format("\t"));
        assert!(!has_control_or_format("https://example.com/books/1 ü"));
    }
}
