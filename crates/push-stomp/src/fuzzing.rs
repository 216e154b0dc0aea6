//! Entry points for the fuzz targets and the seed-replay tests (private feature `__fuzz`); not
//! part of the API.

use crate::{Decoder, Item, Limits, Version, encode, parse};

/// Decodes arbitrary bytes as a frame stream. The first byte chooses the version (modulo 3) and
/// where to split the rest into two chunks; the split decoding must give exactly the items
/// decoding the whole gives, then an error in both or the same unfinished rest in both (which
/// limit a frame breaking several is refused for may depend on how much of it had arrived), and
/// every decoded frame that can be encoded must decode back to itself.
pub fn stomp_decode(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let version = Version::ALL[usize::from(first % 3)];
    let limits = Limits::default()
        .with_max_frame_size(4096)
        .with_max_headers(8)
        .with_max_header_len(256);
    let split = usize::from(first).min(rest.len());
    let whole = run(version, limits, &[rest]);
    let chunked = run(version, limits, &[&rest[..split], &rest[split..]]);
    assert_eq!(whole.0, chunked.0, "chunking changed the items");
    assert_eq!(
        whole.1.is_err(),
        chunked.1.is_err(),
        "chunking changed the outcome"
    );
    if let (Ok(a), Ok(b)) = (whole.1, chunked.1) {
        assert_eq!(a, b, "chunking changed the unfinished rest");
    }
    for item in &whole.0 {
        let Item::Frame(frame) = item else { continue };
        let mut wire = Vec::new();
        if encode(frame, version, &mut wire).is_err() {
            // A frame the decoder accepted leniently (a raw CR ending a 1.0 or 1.1 value) has
            // no exact encoding in that version.
            continue;
        }
        let big = Limits::default();
        let back = parse(&wire, version, &big).expect("our encoding decodes");
        assert_eq!(
            back,
            Some((item.clone(), wire.len())),
            "re-encoding changed the frame"
        );
    }
}

type Outcome = (Vec<Item>, Result<usize, crate::Error>);

fn run(version: Version, limits: Limits, chunks: &[&[u8]]) -> Outcome {
    let mut decoder = Decoder::new(limits);
    decoder.set_version(version);
    let mut items = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk);
        loop {
            match decoder.poll() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(e) => return (items, Err(e)),
            }
        }
    }
    (items, Ok(decoder.buffered()))
}
