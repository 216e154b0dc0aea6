//! Replays the committed fuzz seeds of the `ws_client_message` target on stable.

use std::path::Path;

#[test]
fn ws_client_message_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/ws_client_message");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory exists") {
        let data = std::fs::read(entry.expect("readable entry").path()).expect("readable seed");
        push_ws::__fuzz::ws_client_message(&data);
        count += 1;
    }
    assert!(count >= 10, "expected committed seeds in {}", dir.display());
}
