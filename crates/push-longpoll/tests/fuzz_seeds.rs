//! Replays the committed fuzz seeds of the `longpoll_request` target on stable.

use std::path::Path;

#[test]
fn longpoll_request_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/longpoll_request");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory exists") {
        let data = std::fs::read(entry.expect("readable entry").path()).expect("readable seed");
        push_longpoll::__fuzz::longpoll_request(&data);
        count += 1;
    }
    assert!(count >= 10, "expected committed seeds in {}", dir.display());
}
