//! The last event id, in its two WHATWG senses: the *last event id buffer*, which an `id` field
//! sets (unless its value contains U+0000) and which every dispatched event reports, and the
//! *event source's last event id*, which is the buffer as it was at the last blank line (set at
//! every dispatch, also one that fires no event), and which a reconnecting client sends.
//!
//! Both live in two boxed strings swapped once per event, so neither allocates once warm: most
//! streams send an id with every event.

use bytes::Bytes;

use crate::frame::Text;
use crate::interpret::offset_in;
use crate::utf8::{push_lossy, text_in};

/// The last event id buffer and the event source's last event id.
#[derive(Debug)]
pub(crate) struct LastEventId {
    /// The last event id buffer.
    #[allow(clippy::box_collection)] // Swapped with `committed` once per event: two pointers.
    buffer: Box<String>,
    /// An `id` field has set `buffer` since the last blank line: the event source's last event
    /// id is then `committed` (the value at that blank line), else `buffer` itself.
    pending: bool,
    /// The buffer at the last blank line, while an `id` field is pending: a swap with `buffer`
    /// on the first `id` after a blank line (boxed, so that the swap, once per event, moves two
    /// pointers rather than two `String`s).
    #[allow(clippy::box_collection)] // Swapped with `buffer` once per event: two pointers.
    committed: Box<String>,
    /// `buffer` as a [`Text`], once made, if it is too long to be inline (so that every event
    /// shares it until it changes).
    long: Option<Text>,
}

impl LastEventId {
    pub(crate) fn new() -> Self {
        Self {
            buffer: Box::default(),
            pending: false,
            committed: Box::default(),
            long: None,
        }
    }

    /// The event source's last event id: the buffer as it was at the last blank line (an `id`
    /// with no blank line after it yet does not count).
    #[inline]
    pub(crate) fn current(&self) -> &str {
        if self.pending {
            &self.committed
        } else {
            &self.buffer
        }
    }

    /// The last event id buffer: the id of an event dispatched now.
    #[inline]
    pub(crate) fn buffer(&self) -> &str {
        &self.buffer
    }

    /// Sets both (a reconnecting client's id).
    pub(crate) fn replace(&mut self, id: String) {
        *self.buffer = id;
        self.pending = false;
        self.long = None;
    }

    /// An `id` field's value, which [`has_nul`] found free of NUL: sets the buffer (reusing
    /// it). A value lying in `chunk` (the chunk being read; `in_chunk`) is validated there, in
    /// one SIMD block with what follows it.
    #[inline]
    pub(crate) fn set(&mut self, value: &[u8], chunk: &Bytes, in_chunk: bool) {
        if !self.pending {
            core::mem::swap(&mut self.buffer, &mut self.committed);
            self.pending = true;
        }
        self.buffer.clear();
        self.long = None;
        if in_chunk {
            let from = offset_in(chunk, value);
            if let Some(text) = text_in(chunk, from, from + value.len()) {
                self.buffer.push_str(text);
                return;
            }
        }
        push_lossy(&mut self.buffer, value);
    }

    /// A blank line: the buffer becomes the event source's last event id.
    #[inline]
    pub(crate) fn commit(&mut self) {
        self.pending = false;
    }

    /// The event being assembled is discarded (the stream ended before its blank line): an `id`
    /// it set goes with it, the buffer returns to the event source's id.
    pub(crate) fn discard_pending(&mut self) {
        if self.pending {
            core::mem::swap(&mut self.buffer, &mut self.committed);
            self.pending = false;
            self.long = None;
        }
    }

    /// The buffer as a [`Text`]: inline when short, else shared by every event until it changes.
    #[inline]
    pub(crate) fn text(&mut self) -> Text {
        if Text::fits(self.buffer.len()) {
            Text::new(&self.buffer)
        } else {
            let id = &self.buffer;
            self.long.get_or_insert_with(|| Text::new(id)).clone()
        }
    }
}

/// Whether `value` holds a NUL byte, which makes an `id` field ignored: a word at a time (ids
/// are short, and `contains` would call `memchr`). Checked by the caller of
/// [`LastEventId::set`], in the line's hot path, so the common id costs no call.
#[inline]
pub(crate) fn has_nul(value: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    let (words, rest) = value.as_chunks::<8>();
    words.iter().any(|w| {
        let w = u64::from_le_bytes(*w);
        w.wrapping_sub(ONES) & !w & (ONES << 7) != 0
    }) || rest.contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_anywhere() {
        for len in 0..40 {
            let mut v = vec![0x80u8; len];
            assert!(!has_nul(&v));
            for at in 0..len {
                v[at] = 0;
                assert!(has_nul(&v), "{len} {at}");
                v[at] = 0x01;
                assert!(!has_nul(&v), "{len} {at}");
            }
        }
    }

    #[test]
    fn ids_are_decoded_with_replacement_and_ids_with_nul_ignored() {
        let mut id = LastEventId::new();
        let long = "x".repeat(100);
        let mut previous = String::new();
        for (value, want) in [
            (&b"5eed-1"[..], "5eed-1"),
            (b"a\xFF", "a\u{FFFD}"),
            (long.as_bytes(), long.as_str()),
            (b"a\0b", long.as_str()),
            (b"", ""),
        ] {
            if !has_nul(value) {
                id.set(value, &Bytes::new(), false);
                // The same value lying in a chunk: validated in place.
                let chunk = Bytes::from([value, b"\n"].concat());
                id.set(&chunk[..value.len()], &chunk, true);
            }
            assert_eq!(id.buffer(), want, "{value:?}");
            assert_eq!(id.text().as_str(), want, "{value:?}");
            // Not the event source's id before a blank line commits it.
            assert_eq!(id.current(), previous, "{value:?}");
            id.commit();
            assert_eq!(id.current(), want, "{value:?}");
            previous = want.to_owned();
        }
        // An id cut off by the end of the stream goes with its event.
        id.set(b"7", &Bytes::new(), false);
        id.discard_pending();
        assert_eq!((id.current(), id.buffer()), ("", ""));
        id.replace("9".to_owned());
        assert_eq!((id.current(), id.buffer()), ("9", "9"));
    }
}
