//! The specification's rules, one test each, through the public decoder and encoder.

use push_stomp::{Command, Decoder, Error, Frame, Item, Limits, Version, encode, parse};

fn decode_all(wire: &[u8], version: Version, limits: Limits) -> Result<Vec<Item>, Error> {
    let mut decoder = Decoder::new(limits);
    decoder.set_version(version);
    decoder.feed(wire);
    let mut items = Vec::new();
    while let Some(item) = decoder.poll()? {
        items.push(item);
    }
    Ok(items)
}

fn one_frame(wire: &[u8], version: Version) -> Result<Frame, Error> {
    let items = decode_all(wire, version, Limits::default())?;
    let frames: Vec<_> = items
        .into_iter()
        .filter_map(|i| match i {
            Item::Frame(f) => Some(f),
            Item::Heartbeat => None,
        })
        .collect();
    assert_eq!(frames.len(), 1, "{frames:?}");
    Ok(frames.into_iter().next().unwrap())
}

#[test]
fn every_command_decodes_and_unknown_ones_fail() {
    for command in Command::ALL {
        let wire = format!("{}\n\n\0", command.as_str());
        assert_eq!(
            one_frame(wire.as_bytes(), Version::V1_2).unwrap().command(),
            command
        );
    }
    for wire in [
        &b"send\n\n\0"[..],
        b"SENDX\n\n\0",
        b"\0",
        b"GET / HTTP/1.1\r\n",
    ] {
        assert_eq!(
            one_frame(wire, Version::V1_2),
            Err(Error::UnknownCommand),
            "{wire:?}"
        );
    }
    // A line that can no longer become a command fails before its end of line.
    for partial in [&b"SENDX"[..], b"\0", b"G", b"SEND\rX"] {
        assert_eq!(
            parse(partial, Version::V1_2, &Limits::default()),
            Err(Error::UnknownCommand),
            "{partial:?}"
        );
    }
    for partial in [&b"S"[..], b"SUBSCR", b"SEND\r", b"DISCONNECT"] {
        assert_eq!(
            parse(partial, Version::V1_2, &Limits::default()),
            Ok(None),
            "{partial:?}"
        );
    }
}

#[test]
fn a_long_command_line_fails_before_its_end_of_line() {
    let limits = Limits::default();
    assert_eq!(parse(b"UNSUBSCRIBE\r", Version::V1_2, &limits), Ok(None));
    assert_eq!(
        parse(b"GET /index.html", Version::V1_2, &limits),
        Err(Error::UnknownCommand)
    );
}

#[test]
fn escapes_are_decoded_per_version_and_never_in_connect_frames() {
    let wire = b"SEND\na\\cb:x\\ny\\\\z\\r\n\n\0";
    let frame = one_frame(wire, Version::V1_2).unwrap();
    assert_eq!(frame.header("a:b"), Some("x\ny\\z\r"));
    assert_eq!(one_frame(wire, Version::V1_1), Err(Error::InvalidEscape));
    let frame = one_frame(wire, Version::V1_0).unwrap();
    assert_eq!(frame.header("a\\cb"), Some("x\\ny\\\\z\\r"));
    let connect = b"CONNECT\nlogin:a\\c\npasscode:p:w\\n\nhost:h:61613\n\n\0";
    for version in Version::ALL {
        let frame = one_frame(connect, version).unwrap();
        assert_eq!(frame.header("login"), Some("a\\c"));
        assert_eq!(frame.header("passcode"), Some("p:w\\n"));
        assert_eq!(frame.header("host"), Some("h:61613"));
    }
    assert_eq!(
        one_frame(b"SEND\na:\\t\n\n\0", Version::V1_2),
        Err(Error::InvalidEscape)
    );
}

#[test]
fn the_first_of_repeated_headers_wins_and_all_are_kept() {
    let frame = one_frame(b"MESSAGE\nfoo:World\nfoo:Hello\n\n\0", Version::V1_2).unwrap();
    assert_eq!(frame.header("foo"), Some("World"));
    assert_eq!(frame.headers().len(), 2);
    let frame = one_frame(
        b"SEND\ncontent-length:1\ncontent-length:5\n\na\0",
        Version::V1_2,
    );
    assert_eq!(&frame.unwrap().body()[..], b"a");
}

#[test]
fn content_length_bodies_may_hold_nul_and_must_end_with_one() {
    let frame = one_frame(b"SEND\ncontent-length:3\n\n\0\0\0\0", Version::V1_2).unwrap();
    assert_eq!(&frame.body()[..], b"\0\0\0");
    assert_eq!(
        one_frame(b"SEND\ncontent-length:2\n\nabc\0", Version::V1_2),
        Err(Error::MissingNul)
    );
    for bad in ["+2", "-1", "", " 2", "0x2", "2 "] {
        let wire = format!("SEND\ncontent-length:{bad}\n\nab\0");
        assert_eq!(
            one_frame(wire.as_bytes(), Version::V1_2),
            Err(Error::InvalidContentLength),
            "{bad:?}"
        );
    }
    let frame = one_frame(b"SEND\n\nno length\0", Version::V1_2).unwrap();
    assert_eq!(&frame.body()[..], b"no length");
}

#[test]
fn crlf_and_lf_end_lines_and_heart_beats_are_items() {
    let wire = b"\r\n\nSEND\r\ndestination:/topic/a\r\n\r\nhi\0\r\n\n";
    let items = decode_all(wire, Version::V1_2, Limits::default()).unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0], Item::Heartbeat);
    assert_eq!(items[1], Item::Heartbeat);
    let Item::Frame(frame) = &items[2] else {
        panic!("{items:?}")
    };
    assert_eq!(frame.header("destination"), Some("/topic/a"));
    assert_eq!(&items[3..], [Item::Heartbeat, Item::Heartbeat]);
    assert_eq!(
        decode_all(b"\rX", Version::V1_2, Limits::default()),
        Err(Error::StrayCr)
    );
}

#[test]
fn malformed_headers_fail() {
    assert_eq!(
        one_frame(b"SEND\nnocolon\n\n\0", Version::V1_2),
        Err(Error::MissingColon)
    );
    assert_eq!(
        one_frame(b"SEND\n:v\n\n\0", Version::V1_2),
        Err(Error::EmptyHeaderName)
    );
    assert_eq!(
        one_frame(b"SEND\na:\xff\n\n\0", Version::V1_2),
        Err(Error::InvalidUtf8)
    );
    let frame = one_frame(b"SEND\nempty:\n\n\0", Version::V1_2).unwrap();
    assert_eq!(frame.header("empty"), Some(""));
}

#[test]
fn each_limit_is_named_as_soon_as_the_bytes_prove_it() {
    let limits = Limits::default()
        .with_max_frame_size(64)
        .with_max_headers(2)
        .with_max_header_len(20);
    // A header line longer than 20 bytes, its end of line not yet received.
    let partial = b"SEND\na:0123456789abcdefghijk";
    assert_eq!(parse(&partial[..20], Version::V1_2, &limits), Ok(None));
    assert_eq!(
        parse(partial, Version::V1_2, &limits),
        Err(Error::HeaderTooLong)
    );
    assert_eq!(
        parse(b"SEND\na:1\nb:2\nc:3\n", Version::V1_2, &limits),
        Err(Error::TooManyHeaders)
    );
    // A declared body that cannot fit is refused before it arrives.
    assert_eq!(
        parse(b"SEND\ncontent-length:99\n\n", Version::V1_2, &limits),
        Err(Error::FrameTooLarge)
    );
    // A NUL-terminated body is refused once it outgrows the frame, NUL or not in sight.
    let mut long = b"SEND\n\n".to_vec();
    long.extend_from_slice(&[b'x'; 57]);
    assert_eq!(parse(&long, Version::V1_2, &limits), Ok(None));
    long.push(b'x');
    assert_eq!(
        parse(&long, Version::V1_2, &limits),
        Err(Error::FrameTooLarge)
    );
    // A frame of exactly the limit passes.
    let mut exact = b"SEND\n\n".to_vec();
    exact.extend_from_slice(&[b'x'; 57]);
    exact.push(0);
    assert_eq!(exact.len(), 64);
    assert!(matches!(
        parse(&exact, Version::V1_2, &limits),
        Ok(Some((_, 64)))
    ));
}

#[test]
fn a_decoding_error_is_final() {
    let mut decoder = Decoder::new(Limits::default());
    decoder.feed(b"BOGUS\n\n\0SEND\n\n\0");
    assert_eq!(decoder.poll(), Err(Error::UnknownCommand));
    assert_eq!(decoder.poll(), Err(Error::UnknownCommand));
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn the_encoder_refuses_what_the_decoder_could_not_read_back() {
    let mut out = b"kept".to_vec();
    let nul = Frame::new(Command::Send).with_body(&b"a\0b"[..]);
    assert_eq!(
        encode(&nul, Version::V1_2, &mut out),
        Err(Error::BodyLength)
    );
    let wrong = Frame::new(Command::Send)
        .with_header("content-length", "+3")
        .with_body("abc");
    assert_eq!(
        encode(&wrong, Version::V1_2, &mut out),
        Err(Error::BodyLength)
    );
    let lf = Frame::new(Command::Connect).with_header("login", "a\nb");
    assert_eq!(
        encode(&lf, Version::V1_2, &mut out),
        Err(Error::Unencodable)
    );
    let lf = Frame::new(Command::Send).with_header("a", "a\nb");
    assert_eq!(
        encode(&lf, Version::V1_0, &mut out),
        Err(Error::Unencodable)
    );
    let empty = Frame::new(Command::Send).with_header("", "v");
    assert_eq!(
        encode(&empty, Version::V1_2, &mut out),
        Err(Error::Unencodable)
    );
    assert_eq!(out, b"kept", "a failed encode leaves the output as it was");
    let ok = Frame::new(Command::Send).with_body_and_length(&b"a\0b"[..]);
    encode(&ok, Version::V1_0, &mut out).unwrap();
    assert_eq!(&out[4..], b"SEND\ncontent-length:3\n\na\0b\0");
}
