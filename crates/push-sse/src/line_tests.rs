//! Tests of the line splitter.

use super::*;

fn lines(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
    let (mut b, mut out) = (LineBuffer::new(1024), Vec::new());
    for (i, chunk) in chunks.iter().enumerate() {
        // Alternate the copying and the in-place path.
        if i % 2 == 0 {
            b.feed(chunk);
        } else {
            b.feed_bytes(Bytes::copy_from_slice(chunk));
        }
        while let Some((line, _, _)) = b.next_line_in(usize::MAX).unwrap() {
            keep(&mut out, line);
        }
    }
    out
}

/// Collects `line` unless it is one the buffer may drop unread (a comment, an ignored field):
/// those come out when they lie in one chunk and not when they span chunks.
fn keep(out: &mut Vec<Vec<u8>>, line: &[u8]) {
    if field::partial(line) != Partial::Skip {
        out.push(line.to_vec());
    }
}

fn next(b: &mut LineBuffer) -> Result<Option<Vec<u8>>, Error> {
    next_in(b, usize::MAX)
}

fn next_in(b: &mut LineBuffer, room: usize) -> Result<Option<Vec<u8>>, Error> {
    Ok(b.next_line_in(room)?.map(|(line, _, _)| line.to_vec()))
}

#[test]
fn every_line_ending() {
    let want: Vec<Vec<u8>> = vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), b"".to_vec()];
    assert_eq!(lines(&[b"a\r\nb\rc\n\n"]), want);
    assert_eq!(lines(&[b"a\r", b"\nb\r", b"c\n", b"\n"]), want);
    assert_eq!(lines(&[b"a\r", b"\n", b"b", b"\r", b"c\n\n"]), want);
    assert_eq!(lines(&[b"", b"a\r", b"\nb\rc", b"\n\n"]), want);
}

#[test]
fn cr_at_chunk_end_ends_the_line_at_once() {
    let mut b = LineBuffer::new(16);
    b.feed(b"x\r");
    assert_eq!(next(&mut b), Ok(Some(b"x".to_vec())));
    b.feed_bytes(Bytes::from_static(b"\r"));
    assert_eq!(next(&mut b), Ok(Some(b"".to_vec())));
    b.feed_bytes(Bytes::from_static(b"\ny\r"));
    assert_eq!(next(&mut b), Ok(Some(b"y".to_vec())));
}

#[test]
fn bom_only_at_start_even_split() {
    assert_eq!(
        lines(&[b"\xEF", b"\xBB", b"\xBFa\n\xEF\xBB\xBFb\n"]),
        vec![b"a".to_vec(), b"\xEF\xBB\xBFb".to_vec()]
    );
    assert_eq!(lines(&[b"\xEF\xBBa\n"]), vec![b"\xEF\xBBa".to_vec()]);
}

#[test]
fn in_place_and_copied_input_agree_at_every_split() {
    let input: &[u8] = b"\xEF\xBB\xBFdata: a long line that spans several words\r\n\r\rx\ny\r\
        \n:comment that is long enough for memchr2 to be used on it\n\nlast";
    let whole = lines(&[input]);
    for a in 0..=input.len() {
        for b in a..=input.len() {
            let parts = [&input[..a], &input[a..b], &input[b..]];
            let mut d = LineBuffer::new(1024);
            let mut got = Vec::new();
            for part in parts {
                d.feed_bytes(Bytes::copy_from_slice(part));
                while let Some((line, _, _)) = d.next_line_in(usize::MAX).unwrap() {
                    keep(&mut got, line);
                }
            }
            assert_eq!(got, whole, "split at {a}, {b}");
            assert_eq!(lines(&parts), whole, "split at {a}, {b}");
        }
    }
}

#[test]
fn long_partial_line_is_rejected_and_memory_released() {
    let mut b = LineBuffer::new(8);
    b.feed(b"id: 5678");
    assert_eq!(next(&mut b), Ok(None));
    b.feed(b"9");
    assert_eq!(next(&mut b), Err(Error::LineTooLong));
    b.release();
    assert_eq!(b.buffered_len(), 0);
    assert_eq!(b.capacity(), 0);
    let mut b = LineBuffer::new(8);
    b.feed_bytes(Bytes::from_static(
        b"
event",
    ));
    assert_eq!(next(&mut b), Ok(Some(b"".to_vec())));
    assert_eq!(next(&mut b), Ok(None));
    b.feed_bytes(Bytes::from_static(b": xy\n"));
    assert_eq!(next(&mut b), Err(Error::LineTooLong));
    // A partial `data` line is held against the room its event has left.
    let mut b = LineBuffer::new(8);
    b.feed(b"data: 12345");
    assert_eq!(next_in(&mut b, 5), Ok(None));
    assert_eq!(next_in(&mut b, 4), Err(Error::EventTooLarge));
}

#[test]
fn ignored_lines_are_dropped_unread_at_any_length() {
    for head in [
        &b":"[..],
        b": comment",
        b"x-custom: ",
        b"abcdefgh",
        b"Data:",
    ] {
        let mut b = LineBuffer::new(4);
        b.feed_bytes(Bytes::copy_from_slice(head));
        assert_eq!(next(&mut b), Ok(None), "{head:?}");
        for _ in 0..1000 {
            b.feed_bytes(Bytes::from_static(&[b'x'; 1024]));
            assert_eq!(next(&mut b), Ok(None));
            b.feed(&[b'y'; 1024]);
            assert_eq!(next(&mut b), Ok(None));
            assert!(b.capacity() <= 4096, "{head:?}: {}", b.capacity());
        }
        b.feed_bytes(Bytes::from_static(b"\r"));
        assert_eq!(next(&mut b), Ok(None));
        b.feed_bytes(Bytes::from_static(b"\nid\n"));
        assert_eq!(next(&mut b), Ok(Some(b"id".to_vec())), "{head:?}");
    }
}
