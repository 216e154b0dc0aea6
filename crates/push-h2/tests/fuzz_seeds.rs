//! Replays the committed fuzz seeds of the `h2_link` and `h2_cookie_digest` targets on stable.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory exists") {
        let data = std::fs::read(entry.expect("readable entry").path()).expect("readable seed");
        run(&data);
        count += 1;
    }
    assert!(count >= 10, "expected committed seeds in {}", dir.display());
}

#[test]
fn h2_link_seeds() {
    replay("h2_link", push_h2::__fuzz::link_policy);
}

#[test]
fn h2_cookie_digest_seeds() {
    replay("h2_cookie_digest", push_h2::__fuzz::cookie_digest);
}
