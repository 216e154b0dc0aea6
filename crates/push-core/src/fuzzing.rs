//! Hooks for the fuzz targets and the seed-replay tests of every push crate; not part of the API.

use std::path::Path;

use crate::Cursor;

/// Parses arbitrary bytes as a cursor and checks the round trip of the text form.
pub fn cursor_roundtrip(data: &[u8]) {
    if let Ok(c) = Cursor::parse_bytes(data) {
        let text = c.to_string();
        assert_eq!(text.as_bytes(), data, "text form is not canonical");
        assert_eq!(Cursor::parse(&text), Ok(c));
    }
    if data.len() >= 16 {
        let mut e = [0u8; 8];
        let mut o = [0u8; 8];
        e.copy_from_slice(&data[..8]);
        o.copy_from_slice(&data[8..16]);
        let c = Cursor::new(u64::from_le_bytes(e), u64::from_le_bytes(o));
        let text = c.to_string();
        assert!(text.len() <= crate::MAX_CURSOR_LEN);
        assert_eq!(Cursor::parse(&text), Ok(c));
    }
}

/// Runs `run` on every committed seed of the fuzz target `target` (the files in
/// `fuzz/seeds/TARGET` of the workspace whose member lives at `manifest_dir`), and checks that
/// there are at least `min` of them. Each crate's `tests/fuzz_seeds.rs` calls it with its
/// `CARGO_MANIFEST_DIR`, so CI exercises the seeds on stable without libFuzzer.
///
/// # Panics
/// When the seed directory is missing or unreadable, holds fewer than `min` seeds, or `run`
/// panics on a seed (a regression the fuzzer once found).
pub fn replay_seeds(manifest_dir: &str, target: &str, min: usize, run: impl Fn(&[u8])) {
    let dir = Path::new(manifest_dir)
        .join("../../fuzz/seeds")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory exists") {
        let data = std::fs::read(entry.expect("readable entry").path()).expect("readable seed");
        run(&data);
        count += 1;
    }
    assert!(
        count >= min,
        "expected committed seeds in {}",
        dir.display()
    );
}
