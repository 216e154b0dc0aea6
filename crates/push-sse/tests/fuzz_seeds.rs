//! Replays the committed fuzz seeds of the `sse_decode` and `sse_roundtrip` targets on stable.

use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory exists") {
        let data = std::fs::read(entry.expect("readable entry").path()).expect("readable seed");
        f(&data);
        count += 1;
    }
    assert!(count >= 10, "expected committed seeds in {}", dir.display());
}

#[test]
fn sse_decode_seeds() {
    replay("sse_decode", push_sse::__fuzz::decode);
}

#[test]
fn sse_roundtrip_seeds() {
    replay("sse_roundtrip", push_sse::__fuzz::roundtrip);
}
