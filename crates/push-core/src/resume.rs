//! Where a client asks to resume, as it wrote it: a cursor, or an id a broker may resolve.

use crate::{Broker, Cursor};

/// A client's resume point as it wrote it (`since=`, `from=`, `Last-Event-ID`): a cursor's
/// text, or anything else, taken as an id (a Mercure update id a client saw on another
/// transport). [`Broker::place`] turns it into the cursor to subscribe from, so one resume
/// point works on every transport.
///
/// ```
/// use push_core::{Cursor, Resume};
///
/// assert_eq!(Resume::parse("5eed-2a"), Resume::Cursor(Cursor::new(0x5eed, 0x2a)));
/// assert_eq!(Resume::parse("urn:uuid:1"), Resume::Id("urn:uuid:1".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Resume {
    /// The canonical text of a cursor.
    Cursor(Cursor),
    /// Any other text: an id.
    Id(Box<str>),
}

impl Resume {
    /// Reads a client's text: a cursor when it is one's canonical text, an id otherwise.
    pub fn parse(text: &str) -> Self {
        Cursor::parse(text).map_or_else(|_| Self::Id(text.into()), Self::Cursor)
    }
}

/// A cursor in no history `broker` keeps: subscribing from it announces a gap
/// ([`GapReason::UnknownEpoch`](crate::GapReason::UnknownEpoch)) before all it retains.
pub(crate) fn nowhere<B: Broker + ?Sized>(broker: &B) -> Cursor {
    Cursor::new(broker.head().epoch().wrapping_add(1), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_texts_are_cursors_and_the_rest_ids() {
        let cursor = Cursor::new(7, 9);
        assert_eq!(Resume::parse(&cursor.to_string()), Resume::Cursor(cursor));
        for id in ["x", "", "book-2", "07-9", "urn:uuid:8f0e"] {
            assert_eq!(Resume::parse(id), Resume::Id(id.into()), "{id}");
        }
    }
}
