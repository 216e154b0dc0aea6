//! The group commit through the store: publishes made while a commit syncs share the next
//! commit (counted by [`Config::commits`]), none is acknowledged before its commit, and every
//! acknowledged publish is there after a restart.

use std::io;
use std::sync::Arc;

use futures_util::FutureExt as _;
use push_core::{Broker as _, Cursor, Event, Topic};
use push_test_support::gate::Gate;
use redb::StorageBackend;
use redb::backends::FileBackend;

use super::{Config, FILE_NAME, open};

/// A redb backend whose syncs wait while its door is shut: a disk busy syncing.
#[derive(Debug)]
struct Slow {
    file: FileBackend,
    door: Arc<Gate>,
}

/// Shut or open, and how many syncs wait at it.
impl StorageBackend for Slow {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.file.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.file.set_len(len)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        self.door.pass();
        self.file.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.file.write(offset, data)
    }
}

#[tokio::test]
async fn publishes_made_during_a_commit_share_the_next_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .unwrap();
    let door = Arc::new(Gate::default());
    let backend = Slow {
        file: FileBackend::new(file).unwrap(),
        door: Arc::clone(&door),
    };
    let db = redb::Builder::new().create_with_backend(backend).unwrap();
    let store = Config::default();
    let b = store
        .restore(db, path, push_broker::Config::default())
        .unwrap();
    let t = [Topic::new("t").unwrap()];
    door.shut();
    let first = b.publish(&t, Event::new("0").with_id("urn:uuid:0"));
    // The first publish's commit is syncing (held at the door); these queue meanwhile.
    door.until_waited();
    let mut rest: Vec<_> = (1..=20)
        .map(|i| Box::pin(b.publish(&t, Event::new(i.to_string()))))
        .collect();
    assert!(
        rest.iter_mut().all(|p| p.now_or_never().is_none()),
        "acknowledged before its commit"
    );
    assert_eq!(b.head().offset(), 0, "visible before its commit");
    door.open();
    assert_eq!(first.await.unwrap().offset(), 1);
    for (i, p) in rest.into_iter().enumerate() {
        assert_eq!(p.await.unwrap().offset(), i as u64 + 2);
    }
    // 21 publishes, 2 commits: the first alone, the twenty made during it together.
    assert_eq!(store.commits(), 2);
    drop(b);
    let b = open(dir.path(), push_broker::Config::default()).unwrap();
    let selector = push_core::Selector::one(t[0].clone());
    let from = Some(Cursor::new(b.epoch(), 0));
    let mut sub = b
        .subscribe(&selector, from, &push_core::Access::public())
        .unwrap();
    let mut seen = Vec::new();
    while let Some(push_core::Delivery::Event(p)) = sub.try_recv() {
        seen.push(String::from_utf8_lossy(&p.event().data).into_owned());
    }
    let expected: Vec<_> = (0..=20).map(|i| i.to_string()).collect();
    assert_eq!(seen, expected);
    assert_eq!(b.resolve("urn:uuid:0"), Some(Cursor::new(b.epoch(), 1)));
}
