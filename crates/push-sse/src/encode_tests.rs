//! Tests of the encoder, and of `check_encodable` against it.

use proptest::prelude::*;

use super::*;

/// A text made of the characters that matter to the rules (CR, LF, NUL) and others.
fn text() -> impl Strategy<Value = String> {
    let chars = prop::sample::select(vec!['a', ' ', '\r', '\n', '\0', '\t', 'é']);
    prop::collection::vec(chars, 0..6).prop_map(String::from_iter)
}

fn published_event() -> impl Strategy<Value = Event> {
    let byte = prop::sample::select(vec![b'a', b'\r', b'\n', 0, 0xC3, 0xA9, 0xFF]);
    (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(any::<u64>()),
        prop::collection::vec(byte, 0..8),
    )
        .prop_map(|(event, id, retry, data)| Event {
            event,
            id,
            retry,
            audience: push_core::Audience::Public,
            replace: None,
            data: Bytes::from(data),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// What a publish path checks is exactly what SSE subscribers get encoded: neither
    /// refuses an event the other accepts (the publisher's id is never sent).
    #[test]
    fn check_encodable_refuses_exactly_what_encode_published_refuses(
        event in published_event(),
        (time, seq) in (any::<u64>(), any::<u64>()),
    ) {
        use push_core::{Cursor, Topic};
        let checked = check_encodable(&event).err();
        let p = Published::new(Topic::new("t").unwrap(), Cursor::new(time, seq), event);
        prop_assert_eq!(checked, encode_published(&p).err());
    }
}

#[test]
fn check_encodable_ignores_the_publishers_id() {
    for (event, refused) in [
        (Event::new("ok").with_event("t").with_id("1"), None),
        (Event::new("x").with_id("1\n2\r\0"), None),
        (
            Event::new("x").with_event("a\rb"),
            Some(Error::InvalidEventType),
        ),
        (
            Event::new("x").with_event("a\0"),
            Some(Error::InvalidEventType),
        ),
        (Event::new(&b"\xff"[..]), Some(Error::DataNotUtf8)),
    ] {
        assert_eq!(check_encodable(&event).err(), refused, "{event:?}");
    }
}

fn enc(e: &Event) -> Result<Vec<u8>, Error> {
    let mut out = BytesMut::new();
    encode_event(e, &mut out).map(|()| out.to_vec())
}

#[test]
fn line_breaks_and_nul_found_anywhere() {
    for len in 0..80 {
        let mut v = vec![b'x'; len];
        assert!(!has_line_break_or_nul(core::str::from_utf8(&v).unwrap()));
        for at in 0..len {
            for bad in [b'\r', b'\n', 0] {
                v[at] = bad;
                assert!(has_line_break_or_nul(core::str::from_utf8(&v).unwrap()));
            }
            // Other control bytes flag the word but are allowed.
            v[at] = b'\t';
            assert!(!has_line_break_or_nul(core::str::from_utf8(&v).unwrap()));
            v[at] = b'x';
        }
    }
}

#[test]
fn data_lines_split_at_every_line_ending() {
    assert_eq!(enc(&Event::new("")).unwrap(), b"data:\n\n");
    assert_eq!(
        enc(&Event::new("a\rb\nc\r\n\r\n")).unwrap(),
        b"data: a\ndata: b\ndata: c\ndata:\ndata:\n\n"
    );
    assert_eq!(enc(&Event::new(" x")).unwrap(), b"data:  x\n\n");
}

#[test]
fn every_field_and_retry() {
    let e = Event::new("d").with_event(" t").with_id("").with_retry(0);
    assert_eq!(enc(&e).unwrap(), b"event:  t\nid: \nretry: 0\ndata: d\n\n");
    let mut out = BytesMut::new();
    encode_retry(u64::MAX, &mut out);
    assert_eq!(&out[..], b"retry: 18446744073709551615\n\n");
}

#[test]
fn invalid_values_are_errors_and_write_nothing() {
    let mut out = BytesMut::from(&b"keep"[..]);
    for (e, err) in [
        (Event::new("x").with_event("a\nb"), Error::InvalidEventType),
        (Event::new("x").with_event("a\0"), Error::InvalidEventType),
        (Event::new("x").with_id("\r"), Error::InvalidId),
        (Event::new("x").with_id("a\0b"), Error::InvalidId),
        (Event::new(&b"\xff"[..]), Error::DataNotUtf8),
    ] {
        assert_eq!(encode_event(&e, &mut out), Err(err));
    }
    assert_eq!(encode_comment("a\rb", &mut out), Err(Error::InvalidComment));
    assert_eq!(&out[..], b"keep");
    encode_comment("", &mut out).unwrap();
    assert_eq!(&out[..], b"keep:\n\n");
}

#[test]
fn published_uses_the_cursor_and_caches() {
    use push_core::{Cursor, Topic};
    let t = Topic::new("t").unwrap();
    let p = Published::new(
        t.clone(),
        Cursor::new(0x5eed, 1),
        Event::new("x").with_event("e"),
    );
    let a = encode_published(&p).unwrap();
    assert_eq!(&a[..], b"event: e\nid: 5eed-1\ndata: x\n\n");
    assert_eq!(p.encoded::<SseEncoding>(|_| Bytes::new()), a);
    let bad = Published::new(t, Cursor::new(1, 1), Event::new(&b"\xfe"[..]));
    assert_eq!(encode_published(&bad), Err(Error::DataNotUtf8));
    assert_eq!(encode_published(&bad), Err(Error::DataNotUtf8));
}

#[test]
fn the_event_id_form_sends_the_own_id_or_else_the_cursor() {
    use push_core::{Cursor, Topic};
    let t = Topic::new("t").unwrap();
    let own = Published::new(
        t.clone(),
        Cursor::new(0x5eed, 1),
        Event::new("x").with_event("e").with_id("urn:uuid:1"),
    );
    let a = encode_published_with_event_id(&own).unwrap();
    assert_eq!(&a[..], b"event: e\nid: urn:uuid:1\ndata: x\n\n");
    // Cached under its own key: the cursor form of the same event is unchanged.
    assert_eq!(p_encoded_event_id(&own), a);
    assert_eq!(
        &encode_published(&own).unwrap()[..],
        b"event: e\nid: 5eed-1\ndata: x\n\n"
    );
    // An id SSE cannot carry, or an empty one, falls back to the cursor.
    for bad in ["a\nb", "a\rb", "a\0b", ""] {
        let p = Published::new(t.clone(), Cursor::new(2, 3), Event::new("y").with_id(bad));
        assert_eq!(
            &encode_published_with_event_id(&p).unwrap()[..],
            b"id: 2-3\ndata: y\n\n",
            "{bad:?}"
        );
    }
    let bad = Published::new(t, Cursor::new(1, 1), Event::new(&b"\xfe"[..]).with_id("i"));
    assert_eq!(
        encode_published_with_event_id(&bad),
        Err(Error::DataNotUtf8)
    );
}

fn p_encoded_event_id(p: &Published) -> Bytes {
    p.encoded::<SseEventIdEncoding>(|_| Bytes::new())
}
