//! The event type: the buffer an `event` field sets, and the types already decoded as text.
//!
//! Most streams use a handful of types, so each dispatch looks its type up among the last few
//! decoded ones instead of validating and copying it again. A short type (up to 16 bytes, the
//! usual case) is kept zero-padded in a fixed array, so that the lookup compares two words per
//! candidate rather than calling `memcmp`.

use crate::frame::Text;
use crate::utf8::push_lossy;

/// Types up to this length are kept zero-padded and compared as one array.
const SHORT: usize = 16;
/// How many decoded types are remembered, and up to what length.
const MAX_KNOWN: usize = 8;
const MAX_KNOWN_LEN: usize = 64;

/// A decoded type, as `String` (for owned and borrowed events) and [`Text`] (for shared ones).
pub(crate) type Decoded = (String, Text);

/// A short type's padded bytes and length.
type Key = ([u8; SHORT], usize);

/// Which type an event was dispatched with: an index among the known ones, or `None` for the
/// last one too long to remember.
pub(crate) type TypeAt = Option<usize>;

/// The event type buffer and the decoded types.
#[derive(Debug)]
pub(crate) struct EventTypes {
    /// The buffer when it holds at most [`SHORT`] bytes: those, then zeros.
    short: [u8; SHORT],
    /// The buffer when it is longer.
    long: Vec<u8>,
    /// The buffer's length.
    len: usize,
    /// Decoded types; a short one with its key.
    known: Vec<(Option<Key>, Decoded)>,
    /// The type of the event just dispatched, when too long to be remembered.
    other: Decoded,
}

impl EventTypes {
    pub(crate) fn new() -> Self {
        Self {
            short: [0; SHORT],
            long: Vec::new(),
            len: 0,
            known: Vec::new(),
            other: (String::new(), Text::new("")),
        }
    }

    /// Sets the buffer (an `event` field).
    #[inline]
    pub(crate) fn set(&mut self, value: &[u8]) {
        self.len = value.len();
        if value.len() <= SHORT {
            self.short = [0; SHORT];
            self.short[..value.len()].copy_from_slice(value);
        } else {
            self.long.clear();
            self.long.extend_from_slice(value);
        }
    }

    /// Empties the buffer (after a dispatch, or a blank line with no data).
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// The buffer's type, decoded, for the event being dispatched (an empty buffer is
    /// `message`); empties the buffer.
    pub(crate) fn take(&mut self) -> TypeAt {
        if self.len == 0 {
            self.set(b"message");
        }
        let key = (self.len <= SHORT).then_some((self.short, self.len));
        let found = match key {
            Some(key) => self.known.iter().position(|k| k.0 == Some(key)),
            None => {
                let long = &self.long[..];
                self.known.iter().position(|k| k.1.0.as_bytes() == long)
            }
        };
        if found.is_some() {
            self.len = 0;
            return found;
        }
        let raw = match key {
            Some(_) => &self.short[..self.len],
            None => &self.long[..],
        };
        let mut text = String::with_capacity(raw.len());
        push_lossy(&mut text, raw);
        let too_long = raw.len() > MAX_KNOWN_LEN;
        self.len = 0;
        let shared = Text::new(&text);
        if too_long {
            self.other = (text, shared);
            return None;
        }
        if self.known.len() == MAX_KNOWN {
            self.known.remove(0);
        }
        self.known.push((key, (text, shared)));
        Some(self.known.len() - 1)
    }

    /// A type [`Self::take`] gave.
    #[inline]
    pub(crate) fn get(&self, at: TypeAt) -> &Decoded {
        match at {
            Some(i) => &self.known[i].1,
            None => &self.other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(types: &mut EventTypes, value: &[u8]) -> String {
        types.set(value);
        let at = types.take();
        types.get(at).0.clone()
    }

    #[test]
    fn short_long_known_and_forgotten_types() {
        let mut t = EventTypes::new();
        assert_eq!(t.take().map(|i| t.get(Some(i)).0.as_str()), Some("message"));
        // A shorter type after a longer one: the padding is reset.
        assert_eq!(take(&mut t, b"order-update"), "order-update");
        assert_eq!(take(&mut t, b"order"), "order");
        assert_eq!(t.known.len(), 3);
        assert_eq!(take(&mut t, b"order-update"), "order-update");
        assert_eq!(t.known.len(), 3);
        // 16 bytes is short, 17 long; both remembered; invalid UTF-8 replaced.
        for value in [&b"0123456789abcdef"[..], b"0123456789abcdefg", b"a\xFFb"] {
            let want = String::from_utf8_lossy(value).into_owned();
            assert_eq!(take(&mut t, value), want);
            let known = t.known.len();
            assert_eq!(take(&mut t, value), want);
            assert_eq!(t.known.len(), known);
        }
        // Too long to remember: still right.
        let long = vec![b'x'; MAX_KNOWN_LEN + 1];
        t.set(&long);
        assert_eq!(t.take(), None);
        assert_eq!(t.get(None).1.as_str(), "x".repeat(MAX_KNOWN_LEN + 1));
        // The oldest is forgotten past the limit.
        for i in 0..MAX_KNOWN + 2 {
            assert_eq!(take(&mut t, format!("t{i}").as_bytes()), format!("t{i}"));
        }
        assert_eq!(t.known.len(), MAX_KNOWN);
    }
}
