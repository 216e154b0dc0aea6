//! Memory stays bounded whatever the input.

use push_sse::{Config, Decoder, Error, Item};

const CHUNK: usize = 16 * 1024;

#[test]
fn ten_megabytes_without_newline_fail_early_with_bounded_memory() {
    let config = Config::default();
    let mut d = Decoder::with_config(config);
    let chunk = vec![b'a'; CHUNK];
    let mut fed = 0;
    let mut error = None;
    while fed < 10 * 1024 * 1024 {
        d.feed(&chunk);
        fed += CHUNK;
        match d.poll_item() {
            Ok(None) => {}
            Ok(Some(item)) => panic!("unexpected {item:?}"),
            Err(e) => {
                error = Some((e, fed));
                break;
            }
        }
        assert!(d.buffered_len() <= config.line_limit());
        assert!(d.buffer_capacity() <= 4 * (config.line_limit() + CHUNK));
    }
    let (e, at) = error.expect("the long line is an error");
    assert_eq!(e, Error::LineTooLong);
    assert!(
        at <= config.line_limit() + CHUNK,
        "reported late, after {at} bytes"
    );
    // Failed for good, holding nothing.
    d.feed(&chunk);
    assert_eq!(d.poll_item(), Err(Error::LineTooLong));
    assert_eq!(d.buffered_len(), 0);
    assert_eq!(d.buffer_capacity(), 0);
}

#[test]
fn many_short_data_lines_hit_the_event_limit() {
    let config = Config::new().max_event_len(1024 * 1024);
    let mut d = Decoder::with_config(config);
    let chunk = b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".repeat(300);
    let mut fed = 0;
    let err = loop {
        d.feed(&chunk);
        fed += chunk.len();
        assert!(fed < 4 * 1024 * 1024, "no error after {fed} bytes");
        match d.poll_item() {
            Ok(None) => assert!(d.buffer_capacity() <= 4 * 1024 * 1024),
            Ok(Some(item)) => panic!("unexpected {item:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(err, Error::EventTooLarge);
}

#[test]
fn a_huge_chunk_of_small_events_does_not_keep_a_huge_buffer() {
    let mut d = Decoder::new();
    d.feed(&b"data: x\n\n".repeat(1024 * 1024));
    let mut n = 0;
    while let Some(item) = d.poll_item().unwrap() {
        assert!(matches!(item, Item::Event(_)));
        n += 1;
    }
    assert_eq!(n, 1024 * 1024);
    d.feed(b"data: y\n\n");
    assert!(d.buffer_capacity() <= 2 * (Config::default().line_limit() + 64 * 1024));
}
