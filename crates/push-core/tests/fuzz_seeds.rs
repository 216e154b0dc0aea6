//! Replays the committed fuzz seeds of the `cursor` target on stable.

use std::path::Path;

#[test]
fn cursor_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/cursor");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory exists") {
        let data = std::fs::read(entry.expect("readable entry").path()).expect("readable seed");
        push_core::__fuzz::cursor_roundtrip(&data);
        count += 1;
    }
    assert!(count >= 5, "expected committed seeds in {}", dir.display());
}
